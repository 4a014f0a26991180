"""Unfinished operations of the session's hosts are listed when the TUI starts; escape leaves them for later.
Another host's entries are not shown; an entry whose guest is gone is settled by asking the host."""

from __future__ import annotations

import json
from pathlib import Path

from tests.ui.conftest import wait_until
from ztui.ops.safety.journal import JournalAction, Operation, unfinished
from ztui.ui.app import ZtuiApp
from ztui.ui.screens.journal import JournalScreen

DB01 = "0b1e9a52-3c7d-4f60-8e21-a4d5c6b7e801"  # a guest of the test-driver host


def _dead_entry(uri: str, uuid: str = DB01) -> str:
    """An entry as a ztui that died mid-attach leaves it: its process is gone."""
    op = Operation.begin(JournalAction.ATTACH, uri, "db01", uuid,
                         device_xml="<disk type='file' device='disk'/>", plan={"live": True})
    op.step("device-asking")
    from ztui.statefiles import state_dir

    path = Path(state_dir()) / "journal" / f"{op.id}.json"
    doc = json.loads(path.read_text())
    doc["pid"] = 2**22 + 1  # above pid_max: no such process
    path.write_text(json.dumps(doc))
    return op.id


async def test_unfinished_operations_shown_at_start(testdriver_copy: str) -> None:
    entry_id = _dead_entry(testdriver_copy)
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_until(pilot, lambda: isinstance(app.screen, JournalScreen))
        screen = app.screen
        assert isinstance(screen, JournalScreen) and list(screen.entries) == [entry_id]
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: not isinstance(app.screen, JournalScreen))
    assert [e.id for e in unfinished()] == [entry_id]  # left for later


async def test_no_screen_without_entries(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        assert not isinstance(app.screen, JournalScreen)


async def test_another_hosts_entry_is_not_shown_and_a_gone_guests_entry_is_settled(testdriver_copy: str,
                                                                                   tmp_path: Path) -> None:
    elsewhere = _dead_entry("qemu+unix:///system?socket=/nonexistent-lab/hosts/zlab-q/run/libvirt-sock")
    gone = _dead_entry(testdriver_copy, "0b1e9a52-3c7d-4f60-8e21-a4d5c6b7efff")
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_until(pilot, lambda: any("settled" in n.message for n in app._notifications), 10)
        assert not isinstance(app.screen, JournalScreen)
    assert [e.id for e in unfinished()] == [elsewhere]  # the other host's entry stays, for its session
    assert gone not in {e.id for e in unfinished()}
    from ztui.ops.safety.journal_scope import session_entries

    everything = session_entries(None)  # `ztui journal --all`: the other host is gone too, so it settles
    assert everything.entries == () and "its host is gone" in everything.settled[0]
