"""What a preparation is planned against, read now: this machine's sysfs and udev, and through its libvirt
the guests and what each uses (`ztui.ops.prepare.plan.HostView`), the host read as every view reads it
(`ztui.libvirt.pipeline`). `ztui prepare` plans with it, and `ztui journal finish` plans again with it
before it goes on with an interrupted preparation."""

from __future__ import annotations

from ztui.host.facts_source import local_udev_devices
from ztui.host.release import Users
from ztui.host.scan import local_inventory
from ztui.host.sysfs import Sysfs
from ztui.host.usage import users_of
from ztui.libvirt.link import HostLink
from ztui.libvirt.pipeline import read_resolved
from ztui.model import HostDevice
from ztui.ops.prepare.plan import DRIVERCTL_DIR, HostView


def read_host_view(link: HostLink, driverctl_dir: str = DRIVERCTL_DIR) -> HostView:
    """Sysfs, the host's inventory (what the host itself uses) and which guests use which host device, by
    device key (`users_of`)."""
    udev = local_udev_devices()
    view = read_resolved(link, udev=udev)
    if view.inventory is None:  # the host's devices could not be read: nothing is taken from it
        return HostView(Sysfs(), None, None, driverctl_dir)
    return HostView(Sysfs(), view.inventory, users_of([view.host], view.inventory), driverctl_dir)


def local_host_view(uses: Users | None, driverctl_dir: str = DRIVERCTL_DIR,
                    udev: tuple[HostDevice, ...] | None = None) -> HostView:
    """This machine's sysfs and inventory with guests' uses known already (the host devices view has them),
    or None: not known, so nothing is taken from the host."""
    return HostView(Sysfs(), local_inventory(udev), uses, driverctl_dir)
