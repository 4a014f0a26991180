"""The TUI on the real lab: changes made from outside show up without a key press.

Each test drives `ZtuiApp` with Pilot on the session's two lab hosts and changes the hosts with direct
libvirt calls (as another administrator's virsh would), then waits for the tree to follow.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import libvirt

from tests.lab.support import Lab
from tests.ui.conftest import wait_until
from ztui.lab.hosts import lab_status, start_lab
from ztui.model import GuestState
from ztui.ui.app import ZtuiApp

A, B = "zlab-a", "zlab-b"


def _disk_xml(path: Path, target: str) -> str:
    return (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{path}'/>"
            f"<target dev='{target}' bus='virtio'/></disk>")


def _labels(app: ZtuiApp, uri: str, uuid: str) -> list[str]:
    assert app.main is not None
    node = app.main.guest_tree.find_guest(uri, uuid)
    assert node is not None
    return [str(c.label) for c in node.children]


async def test_device_attached_from_outside_appears_and_goes(lab: Lab, conn_a: libvirt.virConnect,
                                                             tmp_path: Path) -> None:
    uri = lab.uris[A]
    image = tmp_path / "outside.img"
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(image), "16M"], check=True)
    dom = conn_a.lookupByName("lnxa02")
    uuid = dom.UUIDString()
    app = ZtuiApp(list(lab.uris.values()))
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_until(pilot, lambda: all(e.connected for e in app.fleet.hosts.values()), 20)
        node = app.main.guest_tree.find_guest(uri, uuid)  # type: ignore[union-attr]
        assert node is not None
        node.expand()
        await pilot.pause(0.1)
        dom.attachDeviceFlags(_disk_xml(image, "vdw"), libvirt.VIR_DOMAIN_AFFECT_LIVE)
        assert await wait_until(pilot, lambda: any(label.startswith("vdw") for label in _labels(app, uri, uuid)),
                                timeout=2.0), "the attached disk did not appear within 2 s"
        dom.detachDeviceFlags(_disk_xml(image, "vdw"), libvirt.VIR_DOMAIN_AFFECT_LIVE)
        assert await wait_until(pilot, lambda: not any(label.startswith("vdw") for label in
                                                      _labels(app, uri, uuid)), timeout=3.0)


async def test_guest_destroyed_from_outside_turns_shut_off(lab: Lab) -> None:
    uri = lab.uris[B]
    conn = libvirt.open(uri)
    try:
        dom = conn.lookupByName("lnxb01")
        if not dom.isActive():
            dom.create()
        app = ZtuiApp([uri])
        async with app.run_test(size=(120, 40)) as pilot:
            assert await wait_until(pilot, lambda: app.fleet.hosts[uri].connected, 20)
            uuid = dom.UUIDString()
            dom.destroy()
            assert await wait_until(pilot, lambda: app.fleet.guest(uri, uuid).state is GuestState.SHUTOFF)
            node = app.main.guest_tree.find_guest(uri, uuid)  # type: ignore[union-attr]
            await pilot.pause(0.05)
            assert "shut off" in str(node.label)
            dom.create()
            assert await wait_until(pilot, lambda: app.fleet.guest(uri, uuid).state is GuestState.RUNNING)
    finally:
        conn.close()


async def test_cursor_stays_on_its_device_when_the_guest_is_destroyed_and_started(lab: Lab) -> None:
    """The cursor on a disk of a running guest: `virsh destroy` and `virsh start` from outside leave it on
    that disk, the details still describe it, and the device lines keep the domain XML's order."""
    from textual.widgets import Static

    from ztui.ui.noderef import NodeRef
    from ztui.ui.widgets.details import DetailsPane
    from ztui.ui.widgets.device_identity import device_keys

    uri = lab.uris[B]
    conn = libvirt.open(uri)
    try:
        dom = conn.lookupByName("lnxb01")
        if not dom.isActive():
            dom.create()
        uuid = dom.UUIDString()
        app = ZtuiApp([uri])
        async with app.run_test(size=(120, 40)) as pilot:
            assert await wait_until(pilot, lambda: app.fleet.hosts[uri].connected, 20)
            main = app.main
            assert main is not None
            guest = app.fleet.guest(uri, uuid)
            assert guest is not None
            index = next(i for i, d in enumerate(guest.devices) if d.target == "vdb")
            key = device_keys(guest.devices)[index]
            assert main.guest_tree.select_ref(NodeRef("device", uri, uuid, key))

            def details() -> str:
                body = main.query_one(DetailsPane).query_one("#details-body", Static)
                return "".join(s.text for s in app.console.render(body.content))  # type: ignore[arg-type]

            def in_order() -> bool:
                g = app.fleet.guest(uri, uuid)
                node = main.guest_tree.find_guest(uri, uuid)
                return g is not None and node is not None and [
                    c.data.key for c in node.children if c.data is not None] == device_keys(g.devices)

            for change, state in ((dom.destroy, GuestState.SHUTOFF), (dom.create, GuestState.RUNNING)):
                change()
                assert await wait_until(pilot, lambda s=state: app.fleet.guest(uri, uuid).state is s)
                await pilot.pause(0.1)
                cursor = main.guest_tree.cursor_node
                assert cursor is not None and cursor.data is not None and cursor.data.key == key, cursor
                assert str(cursor.label).startswith("vdb")
                assert in_order()
                assert "vdb" in details() and "no longer" not in details()
    finally:
        conn.close()


async def test_killed_daemon_shows_disconnected_and_comes_back(lab: Lab) -> None:
    uri = lab.uris[B]
    app = ZtuiApp(list(lab.uris.values()), reconnect_delays=(0.2, 0.5))
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_until(pilot, lambda: all(e.connected for e in app.fleet.hosts.values()), 20)
        pid = {h.name: h.pid for h in lab_status(lab.base).hosts}[B]
        assert pid is not None
        os.kill(pid, 9)
        assert await wait_until(pilot, lambda: not app.fleet.hosts[uri].connected, timeout=1.0), \
            "not shown as not connected within a second"
        await pilot.pause(0.05)
        host_node = app.main.guest_tree.root.children[1]  # type: ignore[union-attr]
        assert "not connected" in str(host_node.label)
        assert app.fleet.hosts[lab.uris[A]].connected  # the other host is untouched
        start_lab(base_dir=lab.base)  # restarts the dead daemon; its guests kept running
        assert await wait_until(pilot, lambda: app.fleet.hosts[uri].connected, timeout=10.0)
        await pilot.pause(0.05)
        assert "not connected" not in str(host_node.label)
        names = {g.name for g in app.fleet.hosts[uri].guests.values()}
        assert names == {"lnxb01", "lnxb02"}
