"""What the screen shows can be trusted: filter, cursor and order, details, the migrate dialog's keys and
defaults, read-only, failures that must not end the app. Pilot on libvirt's test driver."""

from __future__ import annotations

import dataclasses

from textual.widgets import Checkbox, Input, Static

from tests.ui.conftest import wait_until
from ztui.libvirt.session_updates import GuestUpdated
from ztui.model import Guest
from ztui.ops.migrate import Preflight
from ztui.ui.app import ZtuiApp
from ztui.ui.messages import HostUpdate
from ztui.ui.noderef import NodeRef
from ztui.ui.screens.main import MainScreen
from ztui.ui.screens.migrate import MigrateScreen
from ztui.ui.screens.xml import XmlScreen
from ztui.ui.widgets.details import DetailsPane
from ztui.ui.widgets.device_identity import device_keys


async def _ready(app: ZtuiApp, pilot, uri: str) -> MainScreen:  # type: ignore[no-untyped-def]
    assert await wait_until(pilot, lambda: app.fleet.hosts[uri].connected), "host never connected"
    await pilot.pause(0.05)
    assert app.main is not None
    return app.main


def _guest(app: ZtuiApp, uri: str, name: str) -> Guest:
    return next(g for g in app.fleet.hosts[uri].guests.values() if g.name == name)


def _details(app: ZtuiApp) -> str:
    assert app.main is not None
    body = app.main.query_one(DetailsPane).query_one("#details-body", Static)
    return "".join(segment.text for segment in app.console.render(body.content))  # type: ignore[arg-type]


async def test_pasted_filter_shows_every_matching_device(testdriver_copy: str) -> None:
    """A pasted query (or one typed faster than the screen follows): every matching guest shows its devices.
    Each value below is one `Input.Changed`, all queued before the first is handled."""
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(120, 40)) as pilot:
        main = await _ready(app, pilot, testdriver_copy)
        await pilot.press("slash")
        box = main.query_one("#filter", Input)
        for value in ("0", "0.0.", "0.0.0001"):  # a bus-ID as lszdev prints it
            box.value = value
        await pilot.pause(0.2)
        (host,) = main.guest_tree.root.children
        assert len(host.children) == 4
        for node in host.children:
            assert node.is_expanded
            labels = [str(c.label) for c in node.children]
            assert len(labels) == 1 and "0.0.0001" in labels[0], (str(node.label), labels)


async def test_escape_after_filter_collapses_back_and_keeps_the_cursor_on_screen(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(80, 24)) as pilot:
        main = await _ready(app, pilot, testdriver_copy)
        tree = main.guest_tree
        await pilot.press("slash", *"52:54", "enter")
        await pilot.pause(0.1)
        (host,) = tree.root.children
        tree.move_cursor(host.children[-1].children[-1])  # a device of the last guest shown, far down
        await pilot.pause(0.05)
        found = tree.cursor_node.data if tree.cursor_node is not None else None
        assert found is not None and found.kind == "device"
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert tree.cursor_node is not None and tree.cursor_node.data == found
        expanded = tree.expanded_guests()
        assert expanded == {(found.uri, found.uuid)}, "only the guest of the selected device stays open"
        assert tree.scroll_offset.y <= tree.cursor_line < tree.scroll_offset.y + tree.scrollable_content_region.height


async def test_device_order_is_the_domain_xml_order(testdriver_copy: str) -> None:
    """A device added at the front (as a re-read can bring) goes to the front, and the cursor stays put."""
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(120, 40)) as pilot:
        main = await _ready(app, pilot, testdriver_copy)
        guest = _guest(app, testdriver_copy, "db01")
        keys = device_keys(guest.devices)
        assert main.guest_tree.select_ref(NodeRef("device", testdriver_copy, guest.uuid, keys[3]))
        await pilot.pause(0.05)
        extra = dataclasses.replace(guest.devices[0], target="vdz", source="/var/lib/images/new.qcow2")
        reordered = dataclasses.replace(guest, devices=(extra, *guest.devices[::-1]))
        app.post_message(HostUpdate(GuestUpdated(testdriver_copy, reordered)))
        await pilot.pause(0.2)
        node = main.guest_tree.find_guest(testdriver_copy, guest.uuid)
        assert node is not None
        assert [c.data.key for c in node.children if c.data is not None] == device_keys(reordered.devices)
        cursor = main.guest_tree.cursor_node
        assert cursor is not None and cursor.data is not None and cursor.data.key == keys[3]


async def test_details_follow_the_cursor_when_its_guest_goes(testdriver_copy: str) -> None:
    """The guest under the cursor is undefined from outside: the pane describes what the cursor is on now."""
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(120, 40)) as pilot:
        main = await _ready(app, pilot, testdriver_copy)
        guest = _guest(app, testdriver_copy, "idle-shutoff")
        assert main.guest_tree.select_ref(NodeRef("guest", testdriver_copy, guest.uuid))
        assert await wait_until(pilot, lambda: "idle-shutoff" in _details(app))
        conn = app.backend.hosts.sessions[testdriver_copy].connection
        assert conn is not None
        conn.lookupByName("idle-shutoff").undefine()
        assert await wait_until(pilot, lambda: guest.uuid not in app.fleet.hosts[testdriver_copy].guests)
        await pilot.pause(0.1)
        cursor = main.guest_tree.cursor_node
        assert cursor is not None and cursor.data is not None and cursor.data.uuid != guest.uuid
        shown = app.fleet.guest(testdriver_copy, cursor.data.uuid)
        assert shown is not None and shown.name in _details(app)
        assert "no longer" not in _details(app)


async def test_x_on_a_guest_shows_its_domain_xml(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(80, 24)) as pilot:
        main = await _ready(app, pilot, testdriver_copy)
        guest = _guest(app, testdriver_copy, "template")
        assert main.guest_tree.select_ref(NodeRef("guest", testdriver_copy, guest.uuid))
        await pilot.press("x")
        assert await wait_until(pilot, lambda: isinstance(app.screen, XmlScreen))
        screen = app.screen
        assert isinstance(screen, XmlScreen)
        assert "<domain" in screen.xml and f"<uuid>{guest.uuid}</uuid>" in screen.xml


async def test_migrate_dialog_starts_safe_and_offers_copy_storage(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(app, pilot, testdriver_copy)
        await pilot.press("j", "m")
        assert await wait_until(pilot, lambda: isinstance(app.screen, MigrateScreen))
        screen = app.screen
        assert isinstance(screen, MigrateScreen)
        assert screen.query_one("#migrate-unsafe", Checkbox).value is False
        copy = screen.query_one("#migrate-copy", Checkbox)
        assert copy.value is False
        copy.value = True
        await pilot.pause(0.05)
        assert screen.job.options.copy_storage and not screen.job.options.unsafe


async def test_ctrl_a_aborts_with_the_focus_in_a_text_field(testdriver_copy: str) -> None:
    """`ctrl+a` in a text field is the dialog's abort, not "start of line", and the footer shows it."""
    from textual.widgets._footer import FooterKey

    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(app, pilot, testdriver_copy)
        await pilot.press("j", "m")
        assert await wait_until(pilot, lambda: isinstance(app.screen, MigrateScreen))
        screen = app.screen
        assert isinstance(screen, MigrateScreen)
        field = screen.query_one("#migrate-uri", Input)
        field.focus()
        await pilot.press(*"qemu:///x")
        await pilot.pause(0.05)
        assert any(k.key == "ctrl+a" for k in screen.query(FooterKey)), "the footer hides ctrl+a"
        screen.job.running = True  # as while a migration runs: the dialog only looks at this flag
        await pilot.press("ctrl+a")
        assert screen.job.abort.is_set(), "ctrl+a went to the text field"
        assert field.cursor_position == len("qemu:///x")
        screen.job.running = False


async def test_a_destination_that_dies_after_the_preflight_does_not_end_the_app(testdriver_copy: str,
                                                                                 tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(app, pilot, testdriver_copy)
        job = app.migrations.job(testdriver_copy, "db01")
        job.dest_uri = f"qemu+unix:///system?socket={tmp_path}/gone"  # the preflight passed; the host is gone now
        job.preflight = Preflight((), ())
        app.migrations.start_migration(job)
        assert job.running
        assert await wait_until(pilot, lambda: not job.running)
        await pilot.pause(0.1)
        assert app.is_running and isinstance(app.screen, MainScreen)
        assert "failed" in job.error
        assert app.migrations.job(testdriver_copy, "db01") is not job  # `m` starts afresh


async def test_readonly_is_visible_before_any_key(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy], readonly=True)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await _ready(app, pilot, testdriver_copy)
        assert "READ-ONLY" in str(main.guest_tree.border_title)
        assert "read-only" in str(main.query_one("#status", Static).render())


async def test_free_for_passthrough_says_so_when_nothing_is_free(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy], host_udev=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(app, pilot, testdriver_copy)
        await pilot.press("H")
        status = lambda: str(app.screen.query_one("#status", Static).render())  # noqa: E731
        assert await wait_until(pilot, lambda: "host devices and objects" in status())
        await pilot.press("u")
        await pilot.pause(0.05)
        assert "free for pass-through" in status()


async def test_attach_dialog_starts_on_the_kind(testdriver_copy: str) -> None:
    """The first question is what to attach: enter opens the list of kinds, it does not try the request."""
    from textual.widgets import Select

    from ztui.ui.screens.attach import AttachScreen

    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(80, 24)) as pilot:
        main = await _ready(app, pilot, testdriver_copy)
        guest = _guest(app, testdriver_copy, "web01")
        assert main.guest_tree.select_ref(NodeRef("guest", testdriver_copy, guest.uuid))
        await pilot.press("a")
        assert await wait_until(pilot, lambda: isinstance(app.screen, AttachScreen))
        kind = app.screen.query_one("#attach-kind", Select)
        assert app.focused is kind
        await pilot.press("enter")
        await pilot.pause(0.05)
        assert kind.expanded and not app._notifications, [n.message for n in app._notifications]


async def test_attach_dialog_refuses_a_host_system_file_as_existing_image(testdriver_copy: str) -> None:
    from textual.widgets import Select

    from ztui.ui.screens.attach import AttachScreen

    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(80, 24)) as pilot:
        main = await _ready(app, pilot, testdriver_copy)
        guest = _guest(app, testdriver_copy, "web01")
        assert main.guest_tree.select_ref(NodeRef("guest", testdriver_copy, guest.uuid))
        await pilot.press("a")
        assert await wait_until(pilot, lambda: isinstance(app.screen, AttachScreen))
        screen = app.screen
        assert isinstance(screen, AttachScreen)
        screen.query_one("#attach-kind", Select).value = "disk"
        await pilot.pause(0.05)
        screen.query_one("#attach-source").focus()
        await pilot.press(*"/etc/passwd")
        await pilot.pause(0.05)
        plan = screen.query_one("#attach-plan", Static)
        assert "host system file" in str(plan.render()) and screen.plan is None
        await pilot.press("ctrl+s")
        await pilot.pause(0.05)
        assert isinstance(app.screen, AttachScreen), "ctrl+s must not attach it"


async def test_an_unwritable_state_directory_refuses_a_migration_and_the_app_goes_on(
        testdriver_copy: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(app, pilot, testdriver_copy)
        job = app.migrations.job(testdriver_copy, "db01")
        job.dest_uri = testdriver_copy
        job.preflight = Preflight((), ())
        app.migrations.start_migration(job)
        assert await wait_until(pilot, lambda: not job.running)
        await pilot.pause(0.1)
        assert app.is_running and isinstance(app.screen, MainScreen)
        assert "cannot be used" in job.error and "nothing was changed" in job.error
        conn = app.backend.hosts.sessions[testdriver_copy].connection
        assert conn is not None and conn.lookupByName("db01").isActive()
