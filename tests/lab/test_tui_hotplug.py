"""Attach and detach in the TUI on the real lab: a handful of keys, and the tree shows the result itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lab.support import Lab, shared_path
from tests.ui.conftest import wait_until
from ztui.model import Guest
from ztui.ui.app import ZtuiApp
from ztui.ui.noderef import NodeRef
from ztui.ui.screens.attach import AttachScreen
from ztui.ui.screens.confirm import ConfirmScreen
from ztui.ui.widgets.device_identity import device_key_at


async def open_wizard(app: ZtuiApp, pilot, uri: str, name: str) -> Guest:  # type: ignore[no-untyped-def]
    """Wait for the host, put the cursor on guest `name` and open the attach wizard with `a`."""
    assert await wait_until(pilot, lambda: app.fleet.hosts[uri].connected, 20)
    guest = next(g for g in app.fleet.hosts[uri].guests.values() if g.name == name)
    assert app.main is not None
    app.main.guest_tree.select_ref(NodeRef("guest", uri, guest.uuid))
    await pilot.press("a")
    assert await wait_until(pilot, lambda: isinstance(app.screen, AttachScreen))
    app.screen.query_one("#attach-source").focus()  # past the kind (the first field), to the path
    return guest


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path


async def test_attach_wizard_then_detach(lab: Lab, state: Path) -> None:
    uri = lab.uris["zlab-a"]
    image = shared_path(lab, "wizard.qcow2")
    app = ZtuiApp([uri])
    async with app.run_test(size=(120, 40)) as pilot:
        guest = await open_wizard(app, pilot, uri, "lnxa03")
        main = app.main
        assert main is not None
        await pilot.press(*str(image))
        await pilot.pause(0.1)
        await pilot.press("ctrl+s")

        def attached() -> bool:
            g = app.fleet.guest(uri, guest.uuid)
            return g is not None and any(d.source == str(image) for d in g.devices)

        assert await wait_until(pilot, attached, 5), "the new disk did not show up in the tree"
        assert image.exists()
        current = app.fleet.guest(uri, guest.uuid)
        assert current is not None
        index = next(i for i, d in enumerate(current.devices) if d.source == str(image))
        assert main.guest_tree.select_ref(NodeRef("device", uri, guest.uuid, device_key_at(current.devices, index)))
        await pilot.press("d")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")

        def gone() -> bool:
            g = app.fleet.guest(uri, guest.uuid)
            return g is not None and not any(d.source == str(image) for d in g.devices)

        assert await wait_until(pilot, gone, 5), "the detached disk is still in the tree"
        await pilot.pause(0.1)
        assert not main.guest_tree.removals  # no removal left pending
        audit = (state / "state" / "ztui" / "audit.jsonl").read_text()
        assert '"result": "attached"' in audit and '"result": "removed"' in audit


async def test_readonly_refuses_in_the_tui(lab: Lab, state: Path) -> None:
    uri = lab.uris["zlab-a"]
    app = ZtuiApp([uri], readonly=True)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_until(pilot, lambda: app.fleet.hosts[uri].connected, 20)
        guest = next(iter(app.fleet.hosts[uri].guests.values()))
        app.main.guest_tree.select_ref(NodeRef("guest", uri, guest.uuid))  # type: ignore[union-attr]
        await pilot.press("a")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, AttachScreen)


async def test_wizard_offers_the_hosts_networks_and_refuses_bad_input(lab: Lab, state: Path) -> None:
    """Kind → backing picked from what the host offers → preview; a taken devno keeps ctrl+s from acting."""
    from textual.widgets import Input, Select, Static

    uri = lab.uris["zlab-a"]
    app = ZtuiApp([uri])
    async with app.run_test(size=(120, 40)) as pilot:
        await open_wizard(app, pilot, uri, "lnxa03")
        screen = app.screen
        assert isinstance(screen, AttachScreen)
        screen.query_one("#attach-kind", Select).value = "net"
        await pilot.pause(0.1)
        backing = screen.query_one("#attach-backing", Select)
        assert "zlab-br" in [value for _label, value in backing._options], "the lab network is not offered"
        backing.value = "zlab-br"
        await pilot.pause(0.1)
        assert screen.query_one("#attach-source", Input).value == "zlab-br"
        assert screen.plan is not None and "zlab-br" in screen.plan.xml
        screen.query_one("#attach-devno", Input).value = "0.0.0000"  # taken by vda
        await pilot.pause(0.1)
        assert screen.plan is None
        assert "already used" in str(screen.query_one("#attach-plan", Static).render())
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert isinstance(app.screen, AttachScreen)  # nothing applied
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: not isinstance(app.screen, AttachScreen))
    assert not (state / "state" / "ztui" / "audit.jsonl").exists()  # nothing attempted, nothing logged


async def test_wizard_checks_the_image_on_the_guests_host_in_the_background(lab: Lab, state: Path) -> None:
    """An image only this machine has is no image of zlab-a: the preview says so once typing pauses, and
    ctrl+s attaches nothing."""
    from textual.widgets import Select, Static

    uri = lab.uris["zlab-a"]
    here = state / "here.img"
    here.write_bytes(b"\0" * 65536)
    app = ZtuiApp([uri])
    async with app.run_test(size=(120, 40)) as pilot:
        guest = await open_wizard(app, pilot, uri, "lnxa03")
        screen = app.screen
        assert isinstance(screen, AttachScreen)
        screen.query_one("#attach-kind", Select).value = "disk"
        await pilot.pause(0.05)
        await pilot.press(*str(here))

        def preview() -> str:
            return str(screen.query_one("#attach-plan", Static).render())

        assert await wait_until(pilot, lambda: "does not exist on zlab-a" in preview(), 5), preview()
        await pilot.press("ctrl+s")
        await pilot.pause(0.5)
        assert app.screen is screen  # not dismissed: nothing to attach
        current = app.fleet.guest(uri, guest.uuid)
        assert current is not None and not any(d.source == str(here) for d in current.devices)


async def test_unwritable_state_directory_never_ends_the_tui(lab: Lab, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit log cannot be written (its directory would be under a plain file): attach is refused
    before any change, with the reason in one toast, and the app goes on; once the directory is usable
    the same attach goes through and its toast names the device."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    uri = lab.uris["zlab-a"]
    image = shared_path(lab, "noaudit.qcow2")  # zlab-a's files are its pools'
    app = ZtuiApp([uri])

    def toasts() -> str:  # Textual keeps the notifications shown as toasts here; there is no public list
        return "\n".join(n.message for n in app._notifications)

    async with app.run_test(size=(120, 40)) as pilot:
        guest = await open_wizard(app, pilot, uri, "lnxa03")
        await pilot.press(*str(image))
        await pilot.pause(0.1)
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: "attach refused" in toasts(), 5)
        assert "cannot be used" in toasts() and not image.exists()
        g = app.fleet.guest(uri, guest.uuid)
        assert g is not None and not any(d.source == str(image) for d in g.devices)
        assert app.is_running and app.main is not None

        monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
        await pilot.press("a")
        assert await wait_until(pilot, lambda: isinstance(app.screen, AttachScreen))
        app.screen.query_one("#attach-source").focus()
        await pilot.press(*str(image))
        await pilot.pause(0.1)
        await pilot.press("ctrl+s")

        def device_index() -> int | None:
            g = app.fleet.guest(uri, guest.uuid)
            return next((i for i, d in enumerate(g.devices) if d.source == str(image)), None) if g else None

        assert await wait_until(pilot, lambda: device_index() is not None, 5)
        current = app.fleet.guest(uri, guest.uuid)
        index = device_index()
        assert current is not None and index is not None
        target = current.devices[index].target
        assert await wait_until(pilot, lambda: f"{target} ({image}) attached to lnxa03" in toasts(), 5)
        assert app.main.guest_tree.select_ref(NodeRef("device", uri, guest.uuid, device_key_at(current.devices, index)))
        await pilot.press("d")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        assert await wait_until(pilot, lambda: device_index() is None, 5), "the disk was not detached"
        assert await wait_until(pilot, lambda: f"{target}: removed from lnxa03" in toasts(), 5)
