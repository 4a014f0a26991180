"""`p` in the host devices view, on libvirt's test driver (tests/fixtures/testdriver/zhost.xml).

The test-driver host is this machine as far as facts go (a `test:` URI), so the dialog plans against this
machine's own sysfs: the Z devices of the file do not exist there, and the dialog says so and changes
nothing — which is exactly what an administrator must see for a device the kernel does not have.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from textual.widgets import Static, Tree

from tests.ui.conftest import wait_until
from ztui.ui.app import ZtuiApp
from ztui.ui.screens.hostdevs import HostDevicesScreen
from ztui.ui.screens.prepare import PrepareScreen


def _cursor_to(tree: Tree[Any], kind: str) -> Any:
    """Put the tree's cursor on the first device of this kind; its entry."""
    for node in tree.root.children[0].children:
        for leaf in node.children:
            if leaf.data is not None and leaf.data.kind == kind:
                tree.move_cursor(leaf)
                return leaf.data
    raise AssertionError(f"no {kind} in the host devices view")


async def _host_devices(app: ZtuiApp, pilot: Any, uri: str) -> HostDevicesScreen:
    assert await wait_until(pilot, lambda: app.fleet.hosts[uri].connected)
    await pilot.press("H")
    assert await wait_until(pilot, lambda: isinstance(app.screen, HostDevicesScreen))
    screen = app.screen
    assert isinstance(screen, HostDevicesScreen)
    assert await wait_until(pilot, lambda: bool(screen.groups))
    return screen


async def test_p_on_an_ap_queue_shows_the_refusal_and_changes_nothing(testdriver_copy: str, tmp_path: Any) -> None:
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _host_devices(app, pilot, testdriver_copy)
        entry = _cursor_to(screen.query_one(Tree), "ap_queue")
        await pilot.pause(0.05)
        await pilot.press("p")
        assert await wait_until(pilot, lambda: isinstance(app.screen, PrepareScreen))
        dialog = app.screen
        assert isinstance(dialog, PrepareScreen)
        assert dialog.request.kind.value == "vfio-ap" and entry.id.startswith("05.")
        body = dialog.query_one("#prepare-body", Static)
        assert await wait_until(pilot, lambda: "refused" in str(body.render()), 10)
        assert "nothing was changed" in str(body.render()) and dialog.plan is None
        await pilot.press("enter")  # no plan: nothing runs
        await pilot.pause(0.1)
        assert dialog.plan is None and not dialog.busy
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: isinstance(app.screen, HostDevicesScreen))


async def test_p_on_a_device_that_is_not_passed_through_says_so(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _host_devices(app, pilot, testdriver_copy)
        _cursor_to(screen.query_one(Tree), "scsi_host")
        await pilot.pause(0.05)
        await pilot.press("p")
        await pilot.pause(0.2)
        assert isinstance(app.screen, HostDevicesScreen)  # no dialog: a notification says what p is for
        assert any("prepared for pass-through" in str(n.message) for n in app._notifications)


async def test_the_attach_dialog_prepares_a_free_dasd_first_and_attaches_nothing_when_that_is_refused(
        testdriver_copy: str) -> None:
    """A DASD to prepare first (`prepare:0.0.5c3f`) only when the mdev list offers it: the test driver's
    DASD is known through libvirt alone (whether it is an alias, what the host mounts from it: unknown), so
    typed in, it is refused and ctrl+s prepares nothing. Offered (as a free DASD of this machine's own host
    is), the preview shows the attach of the mdev-to-be and says the preparation comes first; ctrl+s opens
    the preparation's plan, which this machine refuses (it has no such DASD), and nothing is attached."""
    from textual.widgets import Input, Select

    from tests.ui.test_trust import _guest, _ready
    from ztui.ops.attach.candidates import Candidate
    from ztui.ui.noderef import NodeRef
    from ztui.ui.screens.attach import AttachScreen

    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(120, 40)) as pilot:
        main = await _ready(app, pilot, testdriver_copy)
        guest = _guest(app, testdriver_copy, "web01")
        assert main.guest_tree.select_ref(NodeRef("guest", testdriver_copy, guest.uuid))
        await pilot.press("a")
        assert await wait_until(pilot, lambda: isinstance(app.screen, AttachScreen))
        attach = app.screen
        assert isinstance(attach, AttachScreen)
        attach.query_one("#attach-kind", Select).value = "mdev"
        await pilot.pause(0.05)
        assert "prepare:0.0.5c3f" not in [c.value for c in attach.candidates.get("mdev", [])]
        attach.query_one("#attach-source", Input).value = "prepare:0.0.5c3f"
        await pilot.pause(0.1)
        console = Console(width=200, record=True)
        console.print(attach.query_one("#attach-plan", Static).content)
        assert "0.0.5c3f is not one this host offers to prepare" in console.export_text() and attach.plan is None
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert isinstance(app.screen, AttachScreen)  # nothing prepared, nothing attached
        attach.candidates = {"mdev": [Candidate("prepare:0.0.5c3f", "DASD 0.0.5c3f: prepare it for vfio-ccw")]}
        attach.query_one("#attach-source", Input).value = ""
        await pilot.pause(0.05)
        attach.query_one("#attach-source", Input).value = "prepare:0.0.5c3f"
        await pilot.pause(0.1)
        console = Console(width=200, record=True)
        console.print(attach.query_one("#attach-plan", Static).content)
        preview = console.export_text()
        assert "first: prepare DASD 0.0.5c3f for vfio-ccw" in preview and attach.plan is not None
        mdev = attach.plan.xml
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: isinstance(app.screen, PrepareScreen))
        dialog = app.screen
        assert isinstance(dialog, PrepareScreen) and dialog.request.uuid is not None
        assert dialog.request.uuid in mdev  # the mdev the attach preview showed is the one to be made
        body = dialog.query_one("#prepare-body", Static)
        assert await wait_until(pilot, lambda: "no ccw device 0.0.5c3f" in str(body.render()), 10)
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: isinstance(app.screen, AttachScreen))
        await pilot.pause(0.1)
        assert any("nothing was attached" in str(n.message) for n in app._notifications)
