"""The main screen driven by Pilot on libvirt's test driver (tests/fixtures/testdriver/zhost.xml): live updates,
navigation, filter, palette."""

from __future__ import annotations

from tests.ui.conftest import wait_until
from ztui.model import GuestState
from ztui.ui.app import ZtuiApp
from ztui.ui.screens.help import HelpScreen
from ztui.ui.screens.hostdevs import HostDevicesScreen
from ztui.ui.screens.main import MainScreen
from ztui.ui.screens.xml import XmlScreen


async def _connected(app: ZtuiApp, pilot, uri: str) -> None:  # type: ignore[no-untyped-def]
    assert await wait_until(pilot, lambda: app.fleet.hosts[uri].connected), "host never connected"
    await pilot.pause(0.05)


def _guest_names(app: ZtuiApp) -> list[str]:
    main = app.main
    assert main is not None
    (host,) = main.guest_tree.root.children
    names = []
    for node in host.children:
        guest = app.fleet.guest(node.data.uri, node.data.uuid) if node.data else None
        names.append(guest.name if guest else "?")
    return names


async def test_tree_shows_every_guest_with_its_state(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(120, 40)) as pilot:
        await _connected(app, pilot, testdriver_copy)
        names = _guest_names(app)
        assert names == ["db01", "idle-crashed", "idle-paused", "idle-pmsuspended", "idle-shutoff", "template",
                         "transient01", "web01", "web02"]
        states = [app.fleet.guest(testdriver_copy, n.data.uuid).state  # type: ignore[union-attr]
                  for n in app.main.guest_tree.root.children[0].children]  # type: ignore[union-attr]
        assert states == [GuestState.RUNNING, GuestState.CRASHED, GuestState.PAUSED, GuestState.PMSUSPENDED,
                          GuestState.SHUTOFF, GuestState.SHUTOFF, GuestState.RUNNING, GuestState.RUNNING,
                          GuestState.RUNNING]
        conn = app.backend.hosts.sessions[testdriver_copy].connection
        assert conn is not None
        host_label = str(app.main.guest_tree.root.children[0].label)  # type: ignore[union-attr]
        assert f"● {conn.getHostname()}" in host_label and "9 guests" in host_label


async def test_external_state_change_updates_without_a_key(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(120, 40)) as pilot:
        await _connected(app, pilot, testdriver_copy)
        conn = app.backend.hosts.sessions[testdriver_copy].connection
        assert conn is not None
        dom = conn.lookupByName("idle-paused")
        dom.resume()  # from outside the UI: only the event tells the app
        assert await wait_until(pilot, lambda: app.fleet.guest(testdriver_copy, dom.UUIDString()).state
                                is GuestState.RUNNING)
        node = app.main.guest_tree.find_guest(testdriver_copy, dom.UUIDString())  # type: ignore[union-attr]
        await pilot.pause(0.05)
        assert "running" in str(node.label)
        dom.destroy()
        assert await wait_until(pilot, lambda: "shut off" in str(node.label))


async def test_guest_defined_and_undefined_from_outside(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(120, 40)) as pilot:
        await _connected(app, pilot, testdriver_copy)
        conn = app.backend.hosts.sessions[testdriver_copy].connection
        assert conn is not None
        dom = conn.defineXML("<domain type='test'><name>aaa-new</name><memory>8192</memory>"
                             "<os><type>hvm</type></os><devices/></domain>")
        assert await wait_until(pilot, lambda: "aaa-new" in _guest_names(app))
        assert _guest_names(app)[0] == "aaa-new"  # inserted where it sorts
        dom.undefine()
        assert await wait_until(pilot, lambda: "aaa-new" not in _guest_names(app))


async def test_navigation_keeps_cursor_and_expansion_across_updates(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(120, 40)) as pilot:
        await _connected(app, pilot, testdriver_copy)
        tree = app.main.guest_tree  # type: ignore[union-attr]
        await pilot.press("j", "j", "k")  # host → db01 → idle-crashed → db01
        assert tree.cursor_node is not None and tree.cursor_node.data is not None
        uuid = tree.cursor_node.data.uuid
        assert app.fleet.guest(testdriver_copy, uuid).name == "db01"  # type: ignore[union-attr]
        await pilot.press("l")  # expand: device nodes are built now
        node = tree.cursor_node
        assert node.is_expanded and len(node.children) == 12
        await pilot.press("j", "j")
        device_ref = tree.cursor_node.data
        assert device_ref is not None and device_ref.kind == "device"
        app.resync()  # a full re-read rebuilds the host subtree
        await pilot.pause(0.3)
        assert tree.cursor_node.data == device_ref
        assert tree.find_guest(testdriver_copy, uuid).is_expanded
        await pilot.press("h")  # on a leaf: to its guest
        assert tree.cursor_node.data.kind == "guest"
        await pilot.press("h")  # collapse
        assert not tree.cursor_node.is_expanded


async def test_filter_narrows_to_matching_guests_and_devices(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(120, 40)) as pilot:
        await _connected(app, pilot, testdriver_copy)
        await pilot.press("slash", *"idle-p")
        await pilot.pause(0.1)
        assert _guest_names(app) == ["idle-paused", "idle-pmsuspended"]
        await pilot.press("escape")
        assert len(_guest_names(app)) == 9
        # a device's source path narrows to the guest using it, expanded to show that device
        await pilot.press("slash", *"golden-data")
        await pilot.pause(0.1)
        assert _guest_names(app) == ["template"]
        guest_node = app.main.guest_tree.root.children[0].children[0]  # type: ignore[union-attr]
        assert guest_node.is_expanded and len(guest_node.children) == 1
        await pilot.press("enter", "escape")
        assert len(_guest_names(app)) == 9


async def test_palette_jumps_to_a_device(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(120, 40)) as pilot:
        await _connected(app, pilot, testdriver_copy)
        await pilot.press("ctrl+p")
        await pilot.press(*"template sdb")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.2)
        ref = app.main.guest_tree.cursor_node.data  # type: ignore[union-attr]
        assert ref is not None and ref.kind == "device"
        guest = app.fleet.guest(testdriver_copy, ref.uuid)
        assert guest is not None and guest.name == "template"
        assert "sdb" in str(app.main.guest_tree.cursor_node.label)  # type: ignore[union-attr]


async def test_palette_matches_several_words_in_any_order(testdriver_copy: str) -> None:
    """`db01 vm` is a guest and its host; `sdb template` a device and its guest: every word must match."""
    from ztui.ui.palette import match_words

    assert match_words("zlnx02 zlab-y", "guest zlnx02 running on zlab-y")[0] > 0
    assert match_words("zlab-y zlnx02", "guest zlnx02 running on zlab-y")[0] > 0
    assert match_words("zlnx03 zlab-y", "guest zlnx02 running on zlab-y")[0] == 0
    assert match_words("lnx01 vdb", "lnx01 vdb disk 0.0.0001 device of lnx01 on kvm01")[0] > 0
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(80, 24)) as pilot:
        await _connected(app, pilot, testdriver_copy)
        for query, kind, name in (("web02 vm", "guest", "web02"), ("sdb template", "device", "template")):
            await pilot.press("ctrl+p")
            for char in query:  # pasted: one key event after another
                app.simulate_key(char)
            await pilot.pause(0.5)
            await pilot.press("enter")
            await pilot.pause(0.2)
            ref = app.main.guest_tree.cursor_node.data  # type: ignore[union-attr]
            assert ref is not None and ref.kind == kind, query
            guest = app.fleet.guest(testdriver_copy, ref.uuid)
            assert guest is not None and guest.name == name, query


async def test_screens_open_and_close(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(80, 24)) as pilot:
        await _connected(app, pilot, testdriver_copy)
        await pilot.press("j", "j", "l", "j")
        await pilot.press("x")
        assert isinstance(app.screen, XmlScreen)
        await pilot.press("escape", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "H")
        assert isinstance(app.screen, HostDevicesScreen)
        screen = app.screen
        assert await wait_until(pilot, lambda: bool(screen.groups))
        assert sum(len(g.entries) for g in screen.groups[testdriver_copy]) >= 15  # the file's node devices
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_unreachable_host_shows_not_connected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    uri = f"qemu+unix:///system?socket={tmp_path}/nothing-here"
    app = ZtuiApp([uri], reconnect_delays=(0.1,))
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_until(pilot, lambda: bool(app.fleet.hosts[uri].error))
        await pilot.pause(0.05)
        label = str(app.main.guest_tree.root.children[0].label)  # type: ignore[union-attr]
        assert "not connected" in label and "No such file" in label


async def test_migrate_dialog_opens_with_no_other_host(testdriver_copy: str) -> None:
    """A single host: the destination list is empty, and the dialog still opens (a URI can be typed)."""
    from ztui.ui.screens.migrate import MigrateScreen

    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(80, 24)) as pilot:
        await _connected(app, pilot, testdriver_copy)
        await pilot.press("j", "m")
        assert await wait_until(pilot, lambda: isinstance(app.screen, MigrateScreen))
        await pilot.press("ctrl+s")  # no destination chosen: a warning, nothing runs
        await pilot.pause(0.1)
        assert isinstance(app.screen, MigrateScreen) and not app.screen.job.running
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_host_details_follow_a_guest_state_change(testdriver_copy: str) -> None:
    from textual.widgets import Static

    from ztui.ui.widgets.details import DetailsPane

    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(120, 40)) as pilot:
        await _connected(app, pilot, testdriver_copy)
        main = app.main
        assert main is not None
        main.guest_tree.move_cursor(main.guest_tree.root.children[0])  # the host line
        await pilot.pause(0.05)

        def details() -> str:
            body = main.query_one(DetailsPane).query_one("#details-body", Static)
            return "".join(segment.text for segment in app.console.render(body.content))  # type: ignore[arg-type]

        before = app.fleet.hosts[testdriver_copy]
        active = sum(1 for g in before.guests.values() if g.state is not None and g.state.is_active)
        assert await wait_until(pilot, lambda: f"({active} active)" in details())
        conn = app.backend.hosts.sessions[testdriver_copy].connection
        assert conn is not None
        conn.lookupByName("idle-paused").destroy()  # paused counts as active; shut off does not
        assert await wait_until(pilot, lambda: f"({active - 1} active)" in details())
