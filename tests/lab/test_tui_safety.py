"""The TUI offers only what can succeed, and clears what did not: `d` on a device libvirt cannot unplug says
why instead of asking; a refused detach leaves no `⏳`; `r` clears one that ended unproven; after a plain
migration the report offers `u`, which removes the source's definition (the destination keeps one)."""

from __future__ import annotations

from pathlib import Path

import libvirt
import pytest
from textual.widgets import Checkbox

from tests.lab.support import Lab
from tests.lab.test_lifecycle import own_guest  # noqa: F401 - the fixture
from tests.ui.conftest import wait_until
from ztui.ops.safety.guestlock import guest_lock
from ztui.ui.app import ZtuiApp
from ztui.ui.noderef import NodeRef
from ztui.ui.screens.confirm import ConfirmScreen
from ztui.ui.screens.guest_actions import REMOVAL_NOT_PROVEN
from ztui.ui.screens.main import MainScreen
from ztui.ui.screens.migrate import MigrateScreen
from ztui.ui.widgets.device_identity import device_keys


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    return tmp_path


def toasts(app: ZtuiApp) -> str:
    return "\n".join(n.message for n in app._notifications)


async def test_d_says_why_a_device_cannot_go_and_failures_leave_no_hourglass(lab: Lab, state: Path) -> None:
    uri = lab.uris["zlab-a"]
    app = ZtuiApp([uri], host_udev=False)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_until(pilot, lambda: app.fleet.hosts[uri].connected, 20)
        guest = next(g for g in app.fleet.hosts[uri].guests.values() if g.name == "lnxa01")
        keys = dict(zip((d.display_name for d in guest.devices), device_keys(guest.devices), strict=True))
        main = app.main
        assert main is not None
        main.guest_tree.select_ref(NodeRef("device", uri, guest.uuid, keys["pci0"]))
        await pilot.press("d")
        assert await wait_until(pilot, lambda: "root PCI bus" in toasts(app), 5)
        assert isinstance(app.screen, MainScreen) and not main.guest_tree.removals
        # another ztui holds the guest: the detach is refused before libvirt is asked; no ⏳ stays
        main.guest_tree.select_ref(NodeRef("device", uri, guest.uuid, keys["vdb"]))
        with guest_lock(uri, guest.uuid, guest="lnxa01", action="test"):
            await pilot.press("d")
            assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            screen = app.screen
            assert isinstance(screen, ConfirmScreen) and screen.host == "zlab-a" and "on zlab-a" in screen.question
            await pilot.press("y")
            assert await wait_until(pilot, lambda: "detach of vdb refused" in toasts(app), 10)
        await pilot.pause(0.1)
        assert not main.guest_tree.removals
        node = main.guest_tree.find(NodeRef("device", uri, guest.uuid, keys["vdb"]))
        assert node is not None and "⏳" not in str(node.label)
        # a removal that ended without proof keeps its ⏳ until `r` reads the host again
        main.guest_tree.removals[(uri, guest.uuid, keys["vdb"])] = REMOVAL_NOT_PROVEN
        main.guest_tree.relabel_device(uri, guest.uuid)
        assert "⏳" in str(main.guest_tree.find(NodeRef("device", uri, guest.uuid, keys["vdb"])).label)  # type: ignore[union-attr]
        await pilot.press("r")
        await pilot.pause(0.2)
        assert "⏳" not in str(main.guest_tree.find(NodeRef("device", uri, guest.uuid, keys["vdb"])).label)  # type: ignore[union-attr]


async def test_u_removes_the_definition_a_plain_migration_left_behind(lab: Lab, own_guest: str,  # noqa: F811
                                                                    state: Path) -> None:
    a, b = lab.uris["zlab-a"], lab.uris["zlab-b"]
    conn = libvirt.open(b)
    try:
        conn.lookupByName(own_guest).create()
    finally:
        conn.close()
    app = ZtuiApp([b, a], host_udev=False)
    async with app.run_test(size=(160, 50)) as pilot:
        assert await wait_until(pilot, lambda: all(e.connected for e in app.fleet.hosts.values()), 20)
        guest = next(g for g in app.fleet.hosts[b].guests.values() if g.name == own_guest)
        app.main.guest_tree.select_ref(NodeRef("guest", b, guest.uuid))  # type: ignore[union-attr]
        await pilot.press("m")
        assert await wait_until(pilot, lambda: isinstance(app.screen, MigrateScreen))
        screen = app.screen
        assert isinstance(screen, MigrateScreen)
        screen.query_one("#migrate-unsafe", Checkbox).value = True
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: screen.job.preflight is not None, 20)
        assert screen.job.preflight is not None and screen.job.preflight.ok, screen.job.preflight.findings
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: screen.job.report is not None, 30)
        report = screen.job.report
        assert report is not None and report.ok and report.source_copy == "defined, shut off" and report.leftover
        await pilot.press("u")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert confirm.host == "zlab-b" and "runs on zlab-a" in confirm.question
        await pilot.press("y")
        assert await wait_until(pilot, lambda: "is no longer defined on zlab-b" in toasts(app), 15), toasts(app)
    for uri, persistent in ((b, None), (a, True)):
        conn = libvirt.open(uri)
        try:
            try:
                dom = conn.lookupByName(own_guest)
            except libvirt.libvirtError:
                assert persistent is None, uri
                continue
            assert persistent and dom.isActive() and dom.isPersistent(), uri
        finally:
            conn.close()
