"""Every pane follows the cursor and the filter: the details pane shows what the cursor is on after a filter
moved it and after `u` in the host devices view; a filter that no guest matches says so under each host and
shows the host devices that match, the host devices view one key away; hosts keep one order."""

from __future__ import annotations

import shutil
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Static, Tree

from tests.conftest import TESTDRIVER
from tests.ui.conftest import screen_text, wait_until
from ztui.ui.app import ZtuiApp
from ztui.ui.screens.hostdevs import HostDevicesScreen
from ztui.ui.widgets.details import DetailsPane


async def _ready(app: ZtuiApp, pilot: Pilot[object], uri: str) -> None:
    assert await wait_until(pilot, lambda: app.fleet.hosts[uri].connected)
    assert await wait_until(pilot, lambda: app.backend.hosts.sessions[uri].inventory is not None)
    await pilot.pause(0.1)


def _details(app: ZtuiApp) -> str:
    body = app.screen.query_one(DetailsPane).query_one("#details-body", Static)
    return "".join(segment.text for segment in app.console.render(body.content))  # type: ignore[arg-type]


async def _type_filter(pilot: Pilot[object], text: str) -> None:
    await pilot.press("slash")
    for char in text:  # typed as a paste arrives: one key event after another, no pause between
        pilot.app.simulate_key(char)
    await pilot.pause(0.2)
    await pilot.press("enter")
    await pilot.pause(0.1)


async def test_details_follow_a_filter_that_moves_the_cursor(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy], host_udev=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(app, pilot, testdriver_copy)
        await pilot.press("j", "l", "j")  # db01's first disk
        assert "vda" in _details(app)
        await _type_filter(pilot, "golden-data")  # only template's vdb matches: db01's lines are gone
        tree = app.main.guest_tree  # type: ignore[union-attr]
        ref = tree.cursor_node.data if tree.cursor_node is not None else None
        assert ref is not None and ref.kind == "device"
        guest = app.fleet.guest(testdriver_copy, ref.uuid)
        assert guest is not None and guest.name == "template"
        details = _details(app)
        assert "Device of template" in details and "golden-data" in details


async def test_a_filter_no_guest_matches_says_so_and_shows_the_host_devices_that_do(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy], host_udev=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(app, pilot, testdriver_copy)
        await _type_filter(pilot, "0.0.0053")  # a subchannel no guest uses
        lines = screen_text(pilot)
        assert any("no guest matches" in line for line in lines), "\n".join(lines)
        assert any("0.0.0053" in line and "css" in line for line in lines), "\n".join(lines)
        tree = app.main.guest_tree  # type: ignore[union-attr]
        assert tree.cursor_node is not None and tree.cursor_node.data is not None
        assert tree.cursor_node.data.kind == "hostdev"  # on the match, not on a host
        assert "Host device" in _details(app) and "0.0.0053" in _details(app)
        await pilot.press("H")  # the host devices view, on the same device
        assert await wait_until(pilot, lambda: isinstance(app.screen, HostDevicesScreen))
        hostdev_tree = app.screen.query_one(Tree)
        assert await wait_until(pilot, lambda: hostdev_tree.cursor_node is not None
                                and hostdev_tree.cursor_node.data is not None
                                and hostdev_tree.cursor_node.data.id == "0.0.0053")
        assert "0.0.0053" in _details(app)


async def test_a_filter_nothing_matches_says_so_under_every_host(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy], host_udev=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(app, pilot, testdriver_copy)
        await _type_filter(pilot, "no-such-thing")
        tree = app.main.guest_tree  # type: ignore[union-attr]
        (host,) = tree.root.children
        assert [str(child.label) for child in host.children] == ["no guest and no host device matches 'no-such-thing'"]
        assert tree.cursor_node is host.children[0]


async def test_details_follow_u_in_the_host_devices_view(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy], host_udev=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(app, pilot, testdriver_copy)
        await pilot.press("H")
        assert await wait_until(pilot, lambda: "host devices and objects" in "\n".join(screen_text(pilot)))
        await pilot.press("j", "j")  # a device no one could pass through
        tree = app.screen.query_one(Tree)
        before = tree.cursor_node.data if tree.cursor_node is not None else None
        assert before is not None and before.id in _details(app)
        await pilot.press("u")  # free for pass-through only: that device is gone from the view
        await pilot.pause(0.1)
        now = tree.cursor_node.data if tree.cursor_node is not None else None
        shown = _details(app)
        if now is None:
            assert before.id not in shown
        else:
            assert now.id in shown and now is not before


def _hosts(tmp_path: Path, *names: str) -> list[str]:
    """Test-driver hosts of those names, each a copy of the fixture host."""
    uris = []
    for name in names:
        path = tmp_path / f"{name}.xml"
        shutil.copy(TESTDRIVER, path)
        uris.append(f"test://{path}")
    return uris


async def _host_devices(app: ZtuiApp, pilot: Pilot[object], uris: list[str]) -> HostDevicesScreen:
    """`H` once every host is read, and the view once every host's devices are in it."""
    for uri in uris:
        await _ready(app, pilot, uri)
    await pilot.press("H")
    assert await wait_until(pilot, lambda: isinstance(app.screen, HostDevicesScreen))
    screen = app.screen
    assert isinstance(screen, HostDevicesScreen)
    assert await wait_until(pilot, lambda: len(screen.groups) == len(uris))
    return screen


async def test_host_devices_view_keeps_the_hosts_in_the_trees_order(tmp_path: Path) -> None:
    uris = _hosts(tmp_path, "b-host", "a-host")
    app = ZtuiApp(uris, host_udev=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _host_devices(app, pilot, uris)
        for uri in reversed(uris):  # the answers arrive in another order: the view keeps the tree's
            screen.inventory_read(uri, app.backend.hosts.sessions[uri].inventory)
        await pilot.pause(0.05)
        order = [screen.host_of(node) for node in screen.query_one(Tree).root.children]
        assert order == list(app.fleet.hosts) == uris


async def test_host_devices_view_opens_on_the_first_host_whichever_scan_comes_back_first(tmp_path: Path) -> None:
    """The cursor the view placed itself (no device chosen) goes to the first device of the first host shown;
    it does not stay on a later host's device because that host's scan came back first."""
    uris = _hosts(tmp_path, "first", "second")
    app = ZtuiApp(uris, host_udev=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _host_devices(app, pilot, uris)
        screen.inventory_read(uris[0], None)  # the first host not read yet: the cursor on the second's first
        await pilot.pause(0.05)
        screen.inventory_read(uris[0], app.backend.hosts.sessions[uris[0]].inventory)  # now it is
        await pilot.pause(0.05)
        tree = screen.query_one(Tree)
        cursor = tree.cursor_node
        assert cursor is not None and cursor.parent is not None and cursor.parent.parent is not None
        assert screen.host_of(cursor.parent.parent) == uris[0]
        for _ in range(6):  # the user moves to the next device: it keeps the cursor through the next scan
            await pilot.press("j")
            await pilot.pause(0.02)
            if tree.cursor_node is not None and tree.cursor_node.data is not None:
                break
        chosen = tree.cursor_node
        assert chosen is not None and chosen.data is not None
        screen.inventory_read(uris[1], app.backend.hosts.sessions[uris[1]].inventory)
        await pilot.pause(0.05)
        now = tree.cursor_node
        assert now is not None and now.data is not None and now.data.key == chosen.data.key


async def test_details_follow_a_pasted_filter_whose_last_match_is_on_the_same_line(testdriver_copy: str) -> None:
    """Pasted: each letter re-filters; a cursor move made on the way must not be shown after the last one."""
    app = ZtuiApp([testdriver_copy], host_udev=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(app, pilot, testdriver_copy)
        await _type_filter(pilot, "/var/lib/libvirt/images/template")  # db01's vda first, template's at the end
        details = _details(app)
        assert "Device of template" in details and "template-root.qcow2" in details, details
