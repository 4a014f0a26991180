"""The daily keys on the lab's real guests: `s`, `P`, `s` (resume) and `D` (confirmed) change the guest's
state and the tree follows from libvirt's events; in --readonly nothing is asked and nothing changes; the
live I/O of a selected running guest fills from its real counters."""

from __future__ import annotations

from pathlib import Path

import libvirt
import pytest

from tests.lab.support import Lab
from tests.lab.test_lifecycle import audit, own_guest  # noqa: F401 - the fixture
from tests.ui.conftest import wait_until
from ztui.model import GuestState
from ztui.ui.app import ZtuiApp
from ztui.ui.noderef import NodeRef
from ztui.ui.screens.confirm import ConfirmScreen
from ztui.ui.screens.main import MainScreen
from ztui.ui.widgets.iostats import IoStatsView

B = "zlab-b"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    return tmp_path


async def test_s_p_s_d_change_the_state_and_the_tree_follows(lab: Lab, own_guest: str,  # noqa: F811
                                                             state: Path) -> None:
    uri = lab.uris[B]
    app = ZtuiApp([uri], host_udev=False)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_until(pilot, lambda: app.fleet.hosts[uri].connected, 20)
        guest = next(g for g in app.fleet.hosts[uri].guests.values() if g.name == own_guest)
        main = app.main
        assert main is not None
        main.guest_tree.select_ref(NodeRef("guest", uri, guest.uuid))
        await pilot.pause(0.05)

        def shows(expected: GuestState) -> bool:
            node = main.guest_tree.find_guest(uri, guest.uuid)
            now = app.fleet.guest(uri, guest.uuid)
            return now is not None and now.state is expected and node is not None and \
                expected.value in str(node.label)

        # each key once the one before has its proof and let the guest go (audited): a key pressed while an
        # action still holds the guest is refused as busy, as it should be
        await pilot.press("s")
        assert await wait_until(pilot, lambda: shows(GuestState.RUNNING), 15), "s did not start it"
        assert await wait_until(pilot, lambda: len(audit(state)) == 1, 15)
        await pilot.press("P")
        assert await wait_until(pilot, lambda: shows(GuestState.PAUSED), 10), "P did not pause it"
        assert await wait_until(pilot, lambda: len(audit(state)) == 2, 15)
        await pilot.press("s")  # on a paused guest: resume
        assert await wait_until(pilot, lambda: shows(GuestState.RUNNING), 10), "s did not resume it"
        assert await wait_until(pilot, lambda: len(audit(state)) == 3, 15)
        await pilot.press("D")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen)), "D did not ask"
        await pilot.press("n")  # declined: nothing happens
        assert await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.pause(0.5)
        assert shows(GuestState.RUNNING)
        await pilot.press("D")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        assert await wait_until(pilot, lambda: shows(GuestState.SHUTOFF), 15), "D did not force it off"
        assert await wait_until(pilot, lambda: len(audit(state)) == 4, 5)
    conn = libvirt.open(uri)
    try:
        assert conn.lookupByName(own_guest).state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    finally:
        conn.close()
    assert [(r["action"], r["result"], r["via"]) for r in audit(state)] == [
        ("lifecycle-start", "done", "tui"), ("lifecycle-suspend", "done", "tui"),
        ("lifecycle-resume", "done", "tui"), ("lifecycle-destroy", "done", "tui")]


async def test_a_shutdown_the_guest_ignores_offers_destroy(lab: Lab, own_guest: str,  # noqa: F811
                                                           state: Path) -> None:
    """The idle kernel ignores ACPI: `S` is requested, not seen; the next step is offered at once."""
    uri = lab.uris[B]
    conn = libvirt.open(uri)
    try:
        conn.lookupByName(own_guest).create()
    finally:
        conn.close()
    app = ZtuiApp([uri], host_udev=False)
    app.lifecycle_timeout = 1.0
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_until(pilot, lambda: app.fleet.hosts[uri].connected, 20)
        guest = next(g for g in app.fleet.hosts[uri].guests.values() if g.name == own_guest)
        main = app.main
        assert main is not None
        main.guest_tree.select_ref(NodeRef("guest", uri, guest.uuid))
        await pilot.press("S")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")  # shut down: asked of the guest's OS, which ignores it
        offered = lambda: isinstance(app.screen, ConfirmScreen) and "destroy" in app.screen.command  # noqa: E731
        assert await wait_until(pilot, offered, 15), "no next step offered"
        assert "not seen within 1 s" in app.screen.question  # type: ignore[attr-defined]
        await pilot.press("y")
        now = lambda: app.fleet.guest(uri, guest.uuid)  # noqa: E731
        assert await wait_until(pilot, lambda: now() is not None and now().state is GuestState.SHUTOFF, 15)  # type: ignore[union-attr]
    assert [(r["action"], r["result"]) for r in audit(state)] == [
        ("lifecycle-shutdown", "not proven"), ("lifecycle-destroy", "done")]


async def test_readonly_refuses_every_key(lab: Lab, own_guest: str, state: Path) -> None:  # noqa: F811
    uri = lab.uris[B]
    app = ZtuiApp([uri], readonly=True, host_udev=False)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_until(pilot, lambda: app.fleet.hosts[uri].connected, 20)
        guest = next(g for g in app.fleet.hosts[uri].guests.values() if g.name == own_guest)
        app.main.guest_tree.select_ref(NodeRef("guest", uri, guest.uuid))  # type: ignore[union-attr]
        for key in ("s", "D", "S", "R", "P", "c"):
            await pilot.press(key)
            await pilot.pause(0.1)
            assert isinstance(app.screen, MainScreen), key
        await pilot.pause(1.0)
        assert app.fleet.guest(uri, guest.uuid).state is GuestState.SHUTOFF  # type: ignore[union-attr]
        assert any("read-only" in n.message for n in app._notifications)
    assert audit(state) == []


async def test_console_key_names_the_command_when_the_terminal_cannot_hand_over(lab: Lab, state: Path) -> None:
    uri = lab.uris[B]
    app = ZtuiApp([uri], host_udev=False)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_until(pilot, lambda: app.fleet.hosts[uri].connected, 20)
        guest = next(g for g in app.fleet.hosts[uri].guests.values() if g.name == "lnxb01")
        app.main.guest_tree.select_ref(NodeRef("guest", uri, guest.uuid))  # type: ignore[union-attr]
        await pilot.press("c")  # Pilot's headless driver cannot suspend: the command is shown instead
        assert await wait_until(pilot, lambda: any("console lnxb01" in n.message for n in app._notifications))


async def test_live_io_of_a_selected_running_lab_guest(lab: Lab, state: Path) -> None:
    uri = lab.uris[B]
    app = ZtuiApp([uri], host_udev=False)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_until(pilot, lambda: app.fleet.hosts[uri].connected, 20)
        guest = next(g for g in app.fleet.hosts[uri].guests.values() if g.name == "lnxb01")
        main = app.main
        assert main is not None
        view = main.query_one(IoStatsView)
        assert view.polls == 0
        main.guest_tree.select_ref(NodeRef("guest", uri, guest.uuid))
        assert await wait_until(pilot, lambda: len(view.lines) > 1, 5), view.lines
        disks = [d.target for d in guest.devices if d.kind.value == "disk"]
        assert disks and all(any(line.startswith(f"{t} read ") for line in view.lines) for t in disks), view.lines


async def test_offline_migration_from_the_dialog(lab: Lab, own_guest: str, state: Path) -> None:  # noqa: F811
    from ztui.ui.screens.migrate import MigrateScreen

    a, b = lab.uris["zlab-a"], lab.uris[B]
    app = ZtuiApp([b, a], host_udev=False)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_until(pilot, lambda: all(e.connected for e in app.fleet.hosts.values()), 20)
        guest = next(g for g in app.fleet.hosts[b].guests.values() if g.name == own_guest)
        app.main.guest_tree.select_ref(NodeRef("guest", b, guest.uuid))  # type: ignore[union-attr]
        await pilot.press("m")
        assert await wait_until(pilot, lambda: isinstance(app.screen, MigrateScreen))
        screen = app.screen
        assert isinstance(screen, MigrateScreen)
        await pilot.press("ctrl+s")  # live: refused, and the finding points at --offline
        assert await wait_until(pilot, lambda: screen.job.preflight is not None, 10)
        assert screen.job.preflight is not None and not screen.job.preflight.ok
        assert "--offline" in screen.job.preflight.blockers[0].text
        from textual.widgets import Checkbox

        screen.query_one("#migrate-offline", Checkbox).value = True
        await pilot.pause(0.05)
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: screen.job.preflight is not None and screen.job.preflight.ok, 10), \
            screen.job.preflight
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: screen.job.report is not None, 30)
        report = screen.job.report
        assert report is not None and report.ok and report.offline, report
        await pilot.press("escape")

        def moved() -> bool:
            there = [g for g in app.fleet.hosts[a].guests.values() if g.name == own_guest]
            return bool(there) and there[0].state is GuestState.SHUTOFF

        assert await wait_until(pilot, moved, 10), "the tree does not show the definition on zlab-a"
    conn = libvirt.open(a)
    try:
        dom = conn.lookupByName(own_guest)
        assert dom.isPersistent() and not dom.isActive()
    finally:
        conn.close()
