"""Which devices libvirt and QEMU can take off a guest, asked before ztui offers or tries it.

A detach that cannot succeed must not be offered (the TUI's `d` says why instead of asking), and is
refused as bad input (exit 2) before a journal entry is written. The rules are libvirt's own
(`qemuDomainDetachDeviceLive` and its `qemuDomainDetachPrep*` checks in qemu_hotplug.c) and QEMU's,
measured on the lab (libvirt 9.0, QEMU 7.2, s390x):

- live, libvirt hot-unplugs only SCSI controllers ("'pci' controller cannot be hot unplugged", also
  virtio-serial), and a SCSI controller only without devices on it ("device is busy");
- live, balloon, panic, audio, video, graphics, sound, hub, smartcard, nvram, TPM, IOMMU, crypto and pstore
  devices are "not supported"; a floppy, a CD-ROM off a SCSI/USB bus, a disk on IDE/SATA/SD, a
  capabilities-mode hostdev, an input off USB/virtio, a watchdog other than i6300esb, a legacy `ivshmem`
  (not -plain, not -doorbell), any function of a PCI slot that holds more than one (function 0 too:
  `qemuIsMultiFunctionDevice`), and a device on a PCI bus whose controller says `<target hotplug='off'/>`
  are refused;
- QEMU cannot unplug an SCLP console ("Bus 's390-sclp-events-bus.0' does not support hotplugging"), and
  ztui does not take away a guest's only console;
- from the persistent config, libvirt puts a root PCI controller (and any controller with devices on it)
  straight back, and refuses balloon, panic and audio ("persistent detach … is not supported").

Pure: a function of the guest's model.
"""

from __future__ import annotations

from ztui.model import (
    DeviceKind,
    DriveAddress,
    Guest,
    GuestDevice,
    OtherAddress,
    PciAddress,
    UsbAddress,
)

_NOT_LIVE = frozenset({DeviceKind.BALLOON, DeviceKind.PANIC, DeviceKind.AUDIO, DeviceKind.VIDEO,
                       DeviceKind.GRAPHICS, DeviceKind.SOUND, DeviceKind.HUB, DeviceKind.SMARTCARD,
                       DeviceKind.NVRAM, DeviceKind.TPM, DeviceKind.IOMMU, DeviceKind.CRYPTO, DeviceKind.PSTORE})
_NOT_CONFIG = frozenset({DeviceKind.BALLOON, DeviceKind.PANIC, DeviceKind.AUDIO})
_ROOT_PCI = frozenset({"pci-root", "pcie-root"})
_FIXED_DISK_BUSES = frozenset({"ide", "sata", "fdc", "sd", "xen", "uml"})
_CONSOLES = frozenset({DeviceKind.CONSOLE, DeviceKind.SERIAL})


def unplug_refusal(guest: Guest, device: GuestDevice, *, live: bool) -> str:
    """Why `device` cannot be detached from `guest` (live: the running guest; else its persistent config),
    as one sentence; '' when libvirt is expected to do it."""
    name = device.display_name
    if device.kind is DeviceKind.CONTROLLER:
        return _controller(guest, device, live)
    if live:
        if device.kind in _NOT_LIVE:
            return f"{name}: libvirt cannot remove {device.kind.value} devices from a running guest"
        if device.kind in _CONSOLES and device.bus.startswith("sclp"):
            return f"{name}: QEMU cannot unplug an SCLP console (the s390-sclp-events bus takes no hot-unplug)"
        if device.kind in _CONSOLES and sum(d.kind in _CONSOLES for d in guest.devices) == 1:
            return f"{name} is {guest.name}'s only console: detached, the guest could not be reached on one"
        return _live_rule(guest, device)
    if device.kind in _NOT_CONFIG:
        return f"{name}: libvirt cannot remove {device.kind.value} devices from the persistent config"
    return ""


def _live_rule(guest: Guest, device: GuestDevice) -> str:
    name = device.display_name
    if device.kind is DeviceKind.FLOPPY:
        return f"{name}: a floppy cannot be hot-unplugged"
    if device.kind is DeviceKind.CDROM and device.bus not in ("scsi", "usb"):
        return f"{name}: a CD-ROM can be hot-unplugged only from a SCSI or USB bus"
    if device.kind in (DeviceKind.DISK, DeviceKind.LUN) and device.bus in _FIXED_DISK_BUSES:
        return f"{name}: a disk on the {device.bus} bus cannot be hot-unplugged"
    if device.kind is DeviceKind.HOSTDEV_OTHER and device.detail("mode") == "capabilities":
        return f"{name}: a capabilities-mode host device cannot be hot-unplugged"
    if device.kind is DeviceKind.INPUT and device.bus not in ("usb", "virtio"):
        return f"{name}: an input device on the {device.bus or 'default'} bus cannot be hot-unplugged"
    if device.kind is DeviceKind.WATCHDOG and device.model != "i6300esb":
        return f"{name}: a {device.model or 'this'} watchdog cannot be hot-unplugged"
    if device.kind is DeviceKind.SHMEM and device.model == "ivshmem":
        return f"{name}: a legacy ivshmem device cannot be hot-unplugged (ivshmem-plain and -doorbell can)"
    return _pci_rule(guest, device)


def _pci_rule(guest: Guest, device: GuestDevice) -> str:
    """libvirt's two checks of a PCI address: no other function in its slot, a bus that allows hotplug."""
    address = device.address
    if not isinstance(address, PciAddress):
        return ""
    slot = (address.domain, address.bus, address.slot)
    others = [d for d in guest.devices if isinstance(d.address, PciAddress) and d is not device
              and (d.address.domain, d.address.bus, d.address.slot) == slot and d.address.function != address.function]
    if others:
        names = ", ".join(d.display_name for d in others)
        return f"{device.display_name}: its PCI slot holds other functions too ({names}): libvirt does not " \
               "hot-unplug a multifunction slot"
    bus = next((d for d in guest.devices if d.kind is DeviceKind.CONTROLLER and d.bus == "pci"
                and _index(d) == address.bus), None)
    if bus is not None and bus.detail("hotplug") == "off":
        return f"{device.display_name}: its PCI bus ({bus.display_name}) has hotplug='off'"
    return ""


def _controller(guest: Guest, device: GuestDevice, live: bool) -> str:
    kind, model = device.bus, device.model
    if model in _ROOT_PCI:
        return (f"{device.display_name} is the guest's root PCI bus ({model}): it is part of the machine and "
                "cannot be removed" + ("" if live else " (libvirt adds it back to the config)"))
    if live and kind != "scsi":
        return f"{device.display_name}: libvirt hot-unplugs only SCSI controllers, not {kind or 'this'} controllers"
    users = devices_on(guest, device)
    if users:
        return (f"{device.display_name} is busy: {', '.join(d.display_name for d in users)} "
                f"{'is' if len(users) == 1 else 'are'} on it; detach {'it' if len(users) == 1 else 'them'} first")
    return ""


def devices_on(guest: Guest, controller: GuestDevice) -> tuple[GuestDevice, ...]:
    """The devices a controller carries: disks and SCSI host devices at its drive addresses, channels and
    consoles on its virtio-serial ports, USB devices on its bus, PCI devices behind its bridge."""
    kind = controller.bus
    index = _index(controller)
    if index is None:
        return ()
    found = []
    for device in guest.devices:
        address = device.address
        if device is controller or address is None:
            continue
        if kind in ("scsi", "ide", "sata", "fdc") and isinstance(address, DriveAddress):
            on = address.controller == index and _drive_bus(device) == kind
        elif kind == "virtio-serial" and isinstance(address, OtherAddress):
            on = address.raw_type == "virtio-serial" and _attr(address, "controller") == index
        elif kind == "usb" and isinstance(address, UsbAddress):
            on = address.bus == index
        elif kind == "pci" and isinstance(address, PciAddress):
            on = address.bus == index and index != 0
        else:
            on = False
        if on:
            found.append(device)
    return tuple(found)


def _index(controller: GuestDevice) -> int | None:
    """A controller's index (0 when the XML leaves it out); None when it is no number."""
    try:
        return int(controller.detail("index") or "0", 0)
    except ValueError:
        return None


def _drive_bus(device: GuestDevice) -> str:
    """The controller kind a drive-addressed device needs (a disk's target bus; SCSI host devices: scsi)."""
    if device.kind in (DeviceKind.HOSTDEV_SCSI, DeviceKind.HOSTDEV_SCSI_HOST):
        return "scsi"
    return device.bus


def _attr(address: OtherAddress, key: str) -> int | None:
    value = dict(address.attrs).get(key)
    try:
        return int(value, 0) if value is not None else None
    except ValueError:
        return None
