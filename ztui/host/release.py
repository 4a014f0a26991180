"""Whether a host device may be taken from the host for pass-through — set offline, unbound, bound to a
VFIO driver, its AP queue handed to vfio_ap — by ztui or by a person following its advice.

`release_refusal` is the one rule. `ztui prepare` plans with it, and every place that prints such a
command for a person asks it first: the VFIO readiness of `ztui hostdevs` and the host devices view
(`ztui.host.usage.eligibility`), the attach dialog's offers, the migration preflight's advice for the
destination. Where it refuses, the advice says why instead.

A device is kept where it is when

- the host itself uses it, or anything that goes with it (`Inventory.host_use`: a file system mounted from
  it, swap, LVM, multipath or another device-mapper holder, the dump or IPL device, an interface that is up);
- a guest uses it (a guest defined on the host, running or not);
- it is a PAV or HyperPAV alias: no volume of its own (the bases that may be passed through are named);
- it is an AP queue assigned to an mdev: that mdev holds it;
- a fact that decides any of this could not be read. Unknown is never free: a host whose mount table was
  not read (one known only through libvirt), guests that were not read, an attribute not in the kernel's
  words.

What goes with a device: everything below it (a subchannel's ccw device, a DASD's block devices and their
partitions, a PCI function's interfaces and disks, a subchannel's mdevs), a ccw device's subchannel, and
the other members of a PCI function's IOMMU group (vfio-pci takes a group whole).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ztui.facts import (
    CcwRole,
    F,
    alias_problem,
    ap_queue_numbers,
    carried_busid,
    ccw_role,
    dasd_alias,
    mdev_ap_matrix,
)
from ztui.host.inventory import Inventory
from ztui.model import DeviceUse, HostDevice, HostDeviceKind
from ztui.zsysfs import Attr, CcwDevice, Dasd, Firmware, Subchannel, VfioAp

__all__ = ["Keep", "Refusal", "Users", "iommu_peers", "release_refusal"]

Users = Mapping[str, Iterable[DeviceUse]]
"""Host-device key → the guest devices using it (`ztui.host.usage.users_of`)."""


class Keep(StrEnum):
    """Why a device stays with whoever has it now."""

    HOST = "host"  # the host itself uses it
    GUEST = "guest"  # a guest uses it
    ALIAS = "alias"  # a PAV or HyperPAV alias
    MDEV = "mdev"  # an AP queue another mdev holds
    UNKNOWN = "unknown"  # a fact that decides it could not be read


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a device is not released, in one line that names it (shown where the advice would be)."""

    keep: Keep
    text: str

    def __str__(self) -> str:
        return self.text


#: AP devices are not mounted: the host's mount table does not decide them
_NOT_MOUNTED = frozenset((HostDeviceKind.AP_QUEUE, HostDeviceKind.AP_CARD, HostDeviceKind.AP_MATRIX,
                          HostDeviceKind.MDEV))
#: the states of an interface that is certainly not up (include/uapi/linux/if.h, IF_OPER_*)
_NOT_UP = frozenset(("down", "lowerlayerdown", "notpresent"))


def release_refusal(dev: HostDevice, inv: Inventory | None, users: Users | None) -> Refusal | None:
    """Why `dev` may not be taken from the host (see the module), None when it may. `inv` is the host's
    inventory, `users` which of its guests use what (None: not known, so nothing is released)."""
    if inv is None:
        return Refusal(Keep.UNKNOWN, f"cannot tell whether {dev.id} is free: the host's devices were not read")
    members = _going_with(dev, inv)
    for member, how in members:
        use = inv.host_use(member)
        if use:
            return Refusal(Keep.HOST, f"{how}the host itself uses {member.id}: {use.text}")
    if dev.kind is HostDeviceKind.AP_QUEUE:  # the mdev that holds it, with its guests, says the most
        held = _ap_queue(dev, inv, users)
        if held is not None:
            return held
    if users is None:
        return Refusal(Keep.UNKNOWN, f"cannot tell whether a guest uses {dev.id}: the host's guests were not read")
    for member, how in members:
        guests = sorted({u.guest for u in users.get(member.key, ())})
        if guests:
            return Refusal(Keep.GUEST, f"{how}{member.id} is used by guest {', '.join(guests)}")
    for member, how in members:
        if member.kind is HostDeviceKind.CCW and dasd_alias(member) is True:
            bases = inv.of_kind(HostDeviceKind.CCW)
            return Refusal(Keep.ALIAS, how + alias_problem(
                member, bases, lambda base: release_refusal(base, inv, users) is None))
    if dev.kind is HostDeviceKind.AP_QUEUE:
        return None
    for member, how in members:
        unknown = _unknown(member, inv)
        if unknown:
            return Refusal(Keep.UNKNOWN, f"{how}cannot tell whether {member.id} is free: {unknown}")
    bound = dev.kind is HostDeviceKind.CSS and dev.driver == "vfio_ccw"  # the host sees nothing behind it
    if dev.kind not in _NOT_MOUNTED and not bound and not inv.system.known:
        return Refusal(Keep.UNKNOWN, f"cannot tell whether the host itself uses {dev.id}: the host's mount table "
                                     "was not read")
    return None if bound else _firmware_unknown(dev, inv)


# --- what goes with a device ------------------------------------------------------------------------------


def _going_with(dev: HostDevice, inv: Inventory) -> list[tuple[HostDevice, str]]:
    """The device, what it carries and what goes with it, each with the words that say how it is related
    ('' for the device itself and what it carries: its own uses are named by the device they were found on)."""
    found: dict[str, tuple[HostDevice, str]] = {}

    def add(member: HostDevice, how: str) -> None:
        if member.key in found:
            return
        found[member.key] = (member, how)
        for child in inv.children(member):
            add(child, how)

    if dev.kind is HostDeviceKind.CSS:
        busid = carried_busid(dev)
        carried = inv.get(HostDeviceKind.CCW, busid) if busid else None
        if carried is not None:
            add(carried, "")  # first: a subchannel's use is its DASD's, named by the DASD's bus-ID
    add(dev, "")
    if dev.kind is HostDeviceKind.CCW:
        css = inv.ancestor(inv.by_key(dev.key) or dev, HostDeviceKind.CSS)  # a record read afresh has no path
        if css is not None:
            add(css, "")
    if dev.kind is HostDeviceKind.PCI and dev.iommu_group is not None:
        for peer in iommu_peers(dev, inv):
            add(peer, f"{dev.id} shares IOMMU group {dev.iommu_group} with {peer.id}, which goes with it: ")
    return list(found.values())


def iommu_peers(dev: HostDevice, inv: Inventory) -> list[HostDevice]:
    """The other functions of a PCI function's IOMMU group that a driver other than vfio-pci holds (bridges
    and PCIe ports stay where they are): vfio-pci needs them too."""
    return [d for d in inv.of_kind(HostDeviceKind.PCI)
            if d.iommu_group == dev.iommu_group and d.id != dev.id
            and d.driver not in ("vfio-pci", "", "pcieport") and not d.fact(F.CLASS).startswith("0x06")]


# --- facts that could not be read -------------------------------------------------------------------------


def _misread(dev: HostDevice, key: str, attr: Attr[Any]) -> str:
    """`its <attr> reads '<text>'` for an attribute that was read but is not in the kernel's words, else ''."""
    if dev.has_fact(key) and attr.read(dev.fact(key)) is None:
        return f"its {attr.name} reads {dev.fact(key)!r}, which is not the kernel's format"
    return ""


def _unknown(dev: HostDevice, inv: Inventory) -> str:
    """What could not be read about one device that decides whether it is free; '' when nothing."""
    if dev.kind is HostDeviceKind.CSS:
        why = _misread(dev, F.SCH_TYPE, Subchannel.type) or _misread(dev, F.DEV_BUSID, Subchannel.dev_busid)
        if why:
            return why
        busid = carried_busid(dev)
        if busid and inv.get(HostDeviceKind.CCW, busid) is None and dev.driver != "vfio_ccw":
            return f"the device it carries, {busid}, is not among the host's devices"
        return ""
    if dev.kind is HostDeviceKind.CCW and ccw_role(dev) is CcwRole.DASD:
        why = _misread(dev, F.ONLINE, CcwDevice.online)
        if why:
            return why
        alias = dasd_alias(dev)
        if alias is None:
            why = _misread(dev, F.ALIAS, Dasd.alias) or "its alias attribute was not read"
            return f"{why}, so it may be a PAV alias"
        online = CcwDevice.online.read(dev.fact(F.ONLINE))
        if online is None:
            return "its online attribute was not read"
        if online and not alias and not any(c.kind in (HostDeviceKind.BLOCK, HostDeviceKind.STORAGE)
                                            for c in inv.children(dev)):
            return "it is online but its block device is not among the host's devices, so what the host mounts " \
                   "from it is unknown"
        return ""
    if dev.kind is HostDeviceKind.NET:
        state = dev.fact(F.OPERSTATE) or dev.fact(F.LINK_STATE)
        if state not in _NOT_UP and state != "up":
            return f"whether its interface {dev.id} is up ({f'operstate {state!r}' if state else 'no state read'})"
    return ""


def _firmware_unknown(dev: HostDevice, inv: Inventory) -> Refusal | None:
    """A DASD, SCSI disk or PCI function may be the host's dump or IPL device: when the host's firmware
    record says so in words that do not read, which device it is cannot be told."""
    if dev.kind not in (HostDeviceKind.CCW, HostDeviceKind.CSS, HostDeviceKind.SCSI, HostDeviceKind.PCI,
                        HostDeviceKind.BLOCK, HostDeviceKind.STORAGE):
        return None
    system = inv.get(HostDeviceKind.SYSTEM, "host")
    if system is None:
        return None
    for key, attr, path, what in ((F.IPL_TYPE, Firmware.ipl_type, "ipl/ipl_type", "IPL"),
                                  (F.IPL_DEVICE, Firmware.ipl_device, "ipl/device", "IPL"),
                                  (F.DUMP_TYPE, Firmware.dump_type, "dump/dump_type", "dump"),
                                  (F.DUMP_DEVICE, Firmware.dump_device, "dump/…/device", "dump")):
        if system.has_fact(key) and attr.read(system.fact(key)) is None:
            return Refusal(Keep.UNKNOWN, f"cannot tell whether {dev.id} is the host's {what} device: "
                                         f"/sys/firmware/{path} reads {system.fact(key)!r}")
    return None


# --- AP queues ----------------------------------------------------------------------------------------------


def _ap_queue(queue: HostDevice, inv: Inventory, users: Users | None) -> Refusal | None:
    """An APQN assigned to an mdev belongs to that mdev (the kernel assigns each to one mdev at most)."""
    numbers = ap_queue_numbers(queue.id)
    if numbers is None:
        return Refusal(Keep.UNKNOWN, f"cannot tell whether AP queue {queue.id!r} is free: it is not named as the "
                                     "kernel names a queue (`07.0038`)")
    for mdev in inv.of_kind(HostDeviceKind.MDEV):
        if mdev.has_fact(F.MATRIX) and VfioAp.matrix.read(mdev.fact(F.MATRIX)) is None:
            return Refusal(Keep.UNKNOWN, f"cannot tell whether APQN {queue.id} is in mdev {mdev.id}: its matrix "
                                         f"reads {mdev.fact(F.MATRIX)!r}")
        if numbers in mdev_ap_matrix(mdev).queues:
            guests = sorted({u.guest for u in (users or {}).get(mdev.key, ())})
            who = f" (guest {', '.join(guests)})" if guests else ""
            return Refusal(Keep.MDEV, f"APQN {queue.id} is already in mdev {mdev.id}{who}")
    return None
