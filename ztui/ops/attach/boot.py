"""Which of a guest's devices it boots (IPLs) from.

A migration takes pass-through devices off the running guest and puts their equivalents back on the
destination. Done to the device the guest IPLed from — a vfio-ccw DASD with `<boot order='1'/>`, a disk
the boot order names first — it takes the running system's root away for the length of the migration,
and on IBM Z a guest that IPLs from a vfio-ccw DASD cannot migrate live at all. So the plan refuses that
device, with the reason; a device the guest may boot from only as a fallback (a later boot order) is
for the administrator to judge, and is named with the reason instead.

Per-device `<boot order='N'/>` wins; without any, the legacy `<os><boot dev='hd|cdrom|network|fd'/>`
list names the first device of each kind, in that order (libvirt turns it into the same boot indexes,
`qemuProcessPrepareDeviceBootorder`, and writes `<boot dev='hd'/>` into every HVM guest that names none).
The legacy list names a device only as the guest starts: libvirt gives the boot index to the first disk
*then*, and a disk hot-plugged later may now be first in the live XML without having been booted from. So
the legacy rule is certain only for a device the guest's persistent definition has too (the caller says);
for a guest without one (transient) or a device plugged in live only, it is for the administrator to judge.
A guest with `<os><kernel>` does not IPL from a device at all: QEMU starts that kernel file directly and
loads no firmware to read a boot device (hw/s390x/ipl.c), so its boot order says nothing certain about
where its root file system is — only its command line does, in the guest's own device names. Taking that
device off is then for the administrator to judge.
Pure: a function of the guest's model.
"""

from __future__ import annotations

from dataclasses import dataclass

from ztui.libvirtxml.common import parse_int
from ztui.model import DeviceCategory, DeviceKind, Guest, GuestDevice

#: legacy `<os><boot dev=…>` names → the device kinds each one stands for
_LEGACY = {"hd": (DeviceKind.DISK, DeviceKind.LUN), "cdrom": (DeviceKind.CDROM,), "fd": (DeviceKind.FLOPPY,)}


@dataclass(frozen=True)
class BootRole:
    """A device the guest boots from: `first` for the IPL device itself, else a fallback."""

    device: GuestDevice
    first: bool
    why: str  # `<boot order='1'/>`, `first disk of <os><boot dev='hd'/>`
    legacy: bool = False  # named by `<os><boot dev=…/>`, not by the device's own `<boot order>`


def boot_roles(guest: Guest) -> tuple[BootRole, ...]:
    """The guest's boot devices in the order it tries them (empty when it names none)."""
    ordered = sorted(((n, d) for d in guest.devices if (n := parse_int(d.detail("boot"))) is not None),
                     key=lambda pair: pair[0])
    if ordered:
        return tuple(BootRole(d, i == 0, f"<boot order='{n}'/>") for i, (n, d) in enumerate(ordered))
    roles: list[BootRole] = []
    for dev in guest.boot_devs:
        found = next((d for d in guest.devices if _legacy_match(dev, d)), None)
        if found is not None and all(r.device is not found for r in roles):
            roles.append(BootRole(found, not roles, f"the first {_word(dev)} of <os><boot dev='{dev}'/>", True))
    return tuple(roles)


def boot_role(guest: Guest, device: GuestDevice) -> BootRole | None:
    return next((r for r in boot_roles(guest) if r.device == device), None)


def _legacy_match(dev: str, device: GuestDevice) -> bool:
    if dev == "network":
        return device.kind.category is DeviceCategory.NETWORK
    return device.kind in _LEGACY.get(dev, ())


def _word(dev: str) -> str:
    return {"hd": "disk", "cdrom": "CD-ROM", "network": "interface", "fd": "floppy"}.get(dev, dev)


def boot_warning(guest: Guest, device: GuestDevice, in_config: bool | None = None) -> tuple[str, bool]:
    """What taking `device` off the running `guest` does to its boot ('' when nothing), and whether it is
    certain (the IPL device) or for the administrator to judge (a fallback boot device, the boot device of a
    guest that started from a kernel file, a device the legacy list names that may have been plugged in
    after the start). `in_config`: whether the guest's persistent definition has the device (None: unknown)."""
    role = boot_role(guest, device)
    if role is None:
        return "", False
    name = device.display_name
    if role.first and guest.kernel:
        return (f"{name} is {guest.name}'s boot device ({role.why}), but {guest.name} started from a kernel file "
                f"(<os><kernel>), not from it: if its root file system is on {name}, taking it off the running "
                "guest stops it; check its command line (root=)", False)
    if role.first and role.legacy and not in_config:
        return (f"{name} is {guest.name}'s boot device now ({role.why}): if it was there when the guest started, "
                "it is what the guest booted from, and taken off the running guest it takes the root file system "
                "with it", False)
    if role.first:
        kind = "IPL device" if device.kind is DeviceKind.MDEV_VFIO_CCW else "boot device"
        return (f"{name} is {guest.name}'s {kind} ({role.why}): taken off the running guest it takes away what "
                "the guest booted from, its root file system with it", True)
    return (f"{name} is a fallback boot device of {guest.name} ({role.why}): if the guest runs from it now, "
            "taking it off stops the guest; check that it does not", False)


def boot_refusal(guest: Guest, device: GuestDevice, in_config: bool | None = None) -> tuple[str, bool]:
    """Why a migration must not move `device` around ('' when nothing speaks against it), and whether that is
    certain (refuse) or for the administrator to judge (say it): `boot_warning`, with what to do instead."""
    text, certain = boot_warning(guest, device, in_config)
    if not certain:
        return text, certain
    if device.kind is DeviceKind.MDEV_VFIO_CCW:
        return (f"{text}; a guest that IPLs from a vfio-ccw DASD cannot migrate live — shut it down and migrate "
                "it with --offline", True)
    return (f"{text}; leave it attached (storage both hosts share stays with the guest), or shut the guest down "
            "and migrate it with --offline", True)
