"""Migration from the TUI on the two-host lab: m → destination → preflight → migrate → the tree follows."""

from __future__ import annotations

import contextlib
from pathlib import Path

import libvirt
import pytest
from textual.widgets import Checkbox, Input, Static

from tests.lab.support import Lab
from tests.ui.conftest import wait_until
from ztui.ui.app import ZtuiApp
from ztui.ui.noderef import NodeRef
from ztui.ui.screens.migrate import MigrateScreen


def _text(app: ZtuiApp, widget: Static) -> str:
    return "".join(s.text for s in app.console.render(widget.content))  # type: ignore[arg-type]


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    return tmp_path


async def test_migrate_from_the_tui_and_back(lab: Lab, state: Path) -> None:
    a, b = lab.uris["zlab-a"], lab.uris["zlab-b"]
    conn = libvirt.open(a)
    try:
        if not conn.lookupByName("lnxa02").isActive():
            pytest.skip("lnxa02 is not running on zlab-a")
    finally:
        conn.close()
    app = ZtuiApp([a, b])
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_until(pilot, lambda: all(e.connected for e in app.fleet.hosts.values()), 20)
        for src, dest in ((a, b), (b, a)):
            guest = next(g for g in app.fleet.hosts[src].guests.values() if g.name == "lnxa02")
            app.main.guest_tree.select_ref(NodeRef("guest", src, guest.uuid))  # type: ignore[union-attr]
            await pilot.press("m")
            assert await wait_until(pilot, lambda: isinstance(app.screen, MigrateScreen))
            screen = app.screen
            assert isinstance(screen, MigrateScreen)
            # off by default; the lab's hosts share one file system, so here the paths are shared
            screen.query_one("#migrate-unsafe", Checkbox).value = True
            await pilot.press("ctrl+s")  # preflight
            assert await wait_until(pilot, lambda s=screen: s.job.preflight is not None, 10)
            assert screen.job.preflight is not None and screen.job.preflight.ok, screen.job.preflight.findings
            await pilot.press("ctrl+s")  # migrate
            assert await wait_until(pilot, lambda s=screen: s.job.report is not None, 30)
            assert screen.job.report is not None and screen.job.report.ok, screen.job.report.message
            dest_name = app.host_name(dest)
            assert dest_name != dest  # a host name, not the URI
            assert f"migrated: runs on {dest_name}" in _text(app, screen.query_one("#migrate-body", Static))
            await pilot.press("escape")
            await pilot.pause(0.3)  # the lifecycle events of the move arrive after the report
            status = _text(app, app.main.query_one("#status", Static))  # type: ignore[union-attr]
            assert "stopped" not in status, status

            def moved(src: str = src, dest: str = dest) -> bool:
                on_dest = [g for g in app.fleet.hosts[dest].guests.values() if g.name == "lnxa02"]
                return bool(on_dest) and on_dest[0].state is not None and on_dest[0].state.is_active

            assert await wait_until(pilot, moved, 10), "the tree does not show the guest on the destination"


async def test_tui_progress_abort_while_the_tree_stays_browsable(lab: Lab, state: Path, tmp_path: Path) -> None:
    """A slow migration from the TUI: the progress screen fills, escape leaves it running in the background
    while the tree moves, `m` reopens it, ctrl+a aborts: the guest stays on zlab-a."""
    import uuid as uuidlib

    from tests.lab.test_migrate import slow_guest_xml
    from ztui.libvirt.eventloop import ensure_event_loop
    from ztui.ui.screens.main import MainScreen

    a, b = lab.uris["zlab-a"], lab.uris["zlab-b"]
    ensure_event_loop()
    conn = libvirt.open(a)
    name = f"tui{uuidlib.uuid4().hex[:6]}"
    conn.createXML(slow_guest_xml(tmp_path, name), 0)
    app = ZtuiApp([a, b])
    try:
        async with app.run_test(size=(100, 32)) as pilot:
            def listed() -> bool:
                return any(g.name == name for g in app.fleet.hosts[a].guests.values())

            assert await wait_until(pilot, listed, 20)
            assert await wait_until(pilot, lambda: all(e.connected for e in app.fleet.hosts.values()), 20)
            guest = next(g for g in app.fleet.hosts[a].guests.values() if g.name == name)
            app.main.guest_tree.select_ref(NodeRef("guest", a, guest.uuid))  # type: ignore[union-attr]
            await pilot.press("m")
            assert await wait_until(pilot, lambda: isinstance(app.screen, MigrateScreen))
            screen = app.screen
            assert isinstance(screen, MigrateScreen)
            screen.query_one("#migrate-bw", Input).value = "8"
            screen.query_one("#migrate-unsafe", Checkbox).value = True  # the lab's hosts share their paths
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: screen.job.preflight is not None, 10)
            assert screen.job.preflight is not None and screen.job.preflight.ok, screen.job.preflight.findings
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: bool(screen.job.progress), 10)
            await pilot.press("escape")  # the job runs on; the tree is usable
            assert await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            await pilot.press("j", "k")
            assert screen.job.running
            await pilot.press("m")
            assert await wait_until(pilot, lambda: isinstance(app.screen, MigrateScreen))
            reopened = app.screen
            assert isinstance(reopened, MigrateScreen) and reopened.job is screen.job
            field = reopened.query_one("#migrate-uri", Input)
            field.focus()  # ctrl+a is "start of line" for a text field: the dialog's abort must win
            await pilot.press(*"xy", "ctrl+a")
            assert field.cursor_position == 2
            assert await wait_until(pilot, lambda: screen.job.report is not None, 15)
            report = screen.job.report
            assert report is not None and not report.migrated and report.runs_on == a, report
            assert conn.lookupByName(name).isActive()
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            conn.lookupByName(name).destroy()
        conn.close()


async def test_where_and_the_destinations_by_readiness_on_the_two_lpars(lab: Lab, state: Path) -> None:
    """On zlab-z and zlab-y and an image host: zlnx02's DASD step says where else its volume is, `w` lists
    zlab-y ready first and the image host not, and `m` from there offers zlab-y first, with its readiness."""
    from textual.widgets import OptionList, Select

    from ztui.ui.labels import step_label
    from ztui.ui.screens.placement import WhereScreen

    app = ZtuiApp([lab.z_uri, lab.uris["zlab-a"], lab.z_twin_uri])
    async with app.run_test(size=(160, 50)) as pilot:
        assert await wait_until(pilot, lambda: all(e.connected for e in app.fleet.hosts.values()), 20)
        guest = next(g for g in app.fleet.hosts[lab.z_uri].guests.values() if g.name == "zlnx02")

        def dasd_step_line() -> str:
            current = app.fleet.guest(lab.z_uri, guest.uuid)
            steps = [s for d in current.devices for s in d.backing if s.kind == "dasd"] if current else []
            return step_label(steps[0]).plain if steps else ""

        assert await wait_until(pilot, lambda: "≡ also on zlab-y as 0.0.6c05" in dasd_step_line(), 10)
        app.main.guest_tree.select_ref(NodeRef("guest", lab.z_uri, guest.uuid))  # type: ignore[union-attr]
        await pilot.press("w")
        assert await wait_until(pilot, lambda: isinstance(app.screen, WhereScreen) and bool(app.screen.placements),
                                30)
        where = app.screen
        assert isinstance(where, WhereScreen)
        shown = [(p.uri, p.readiness.value) for p in where.placements if p.uri in app.fleet.hosts]
        assert shown == [(lab.z_twin_uri, "ready"), (lab.uris["zlab-a"], "no")]  # (and any other lab's hosts)
        options = where.query_one(OptionList)
        assert str(options.get_option_at_index(0).prompt).startswith("zlab-y  ready")
        await pilot.press("m")
        assert await wait_until(pilot, lambda: isinstance(app.screen, MigrateScreen), 5)
        dialog = app.screen
        assert isinstance(dialog, MigrateScreen)
        select = dialog.query_one("#migrate-dest", Select)
        assert await wait_until(pilot, lambda: "ready" in str(select.selection or "") or
                                any("— ready" in str(o[0]) for o in select._options), 30)  # type: ignore[attr-defined]
        assert select.value == lab.z_twin_uri
        await pilot.press("escape")
