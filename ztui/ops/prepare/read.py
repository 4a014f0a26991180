"""What a preparation is planned against, read now: this machine's sysfs and udev, and through its libvirt
the guests and what each uses (`ztui.ops.prepare.plan.HostView`). `ztui prepare` plans with it, and
`ztui journal finish` plans again with it before it goes on with an interrupted preparation."""

from __future__ import annotations

import libvirt

from ztui.host.sysfs import Sysfs
from ztui.ops.prepare.plan import DRIVERCTL_DIR, HostView


def read_host_view(conn: libvirt.virConnect | None, uri: str, driverctl_dir: str = DRIVERCTL_DIR) -> HostView:
    """Sysfs, the host's inventory (what the host itself uses) and which guests use which host device, by
    device key (`users_of`; not known without a connection, so nothing is then taken from the host)."""
    from ztui.host.facts_source import local_udev_devices
    from ztui.host.scan import local_inventory

    udev = local_udev_devices()
    if conn is None:
        return HostView(Sysfs(), local_inventory(udev), None, driverctl_dir)
    from ztui.host.resolve import resolve_host
    from ztui.host.usage import users_of
    from ztui.libvirt.hostrecords import scan_host
    from ztui.libvirt.reader import read_host

    host = read_host(conn, uri)
    inventory = scan_host(conn, uri, host.guests, udev=udev)
    return HostView(Sysfs(), inventory, users_of([resolve_host(host, inventory)], inventory), driverctl_dir)
