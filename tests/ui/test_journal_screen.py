"""Unfinished operations are listed when the TUI starts; escape leaves them for later."""

from __future__ import annotations

import json
from pathlib import Path

from tests.ui.conftest import wait_until
from ztui.ops.journal import JournalAction, Operation, unfinished
from ztui.ui.app import ZtuiApp
from ztui.ui.screens.journal import JournalScreen


def _dead_entry(uri: str) -> str:
    """An entry as a ztui that died mid-attach leaves it: its process is gone."""
    op = Operation.begin(JournalAction.ATTACH, uri, "test", "6695eb01-f6a4-8304-79aa-97f2502e193f",
                         device_xml="<disk type='file' device='disk'/>", plan={"live": True})
    op.step("device-asking")
    from ztui.ops.statefiles import state_dir

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
