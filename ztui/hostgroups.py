"""Host devices grouped the way a Z administrator thinks of them, and which guests use each one."""

from __future__ import annotations

from collections.abc import Iterable

from ztui.model import Guest, HostDevice, HostDeviceKind

GROUP_ORDER = ("DASD", "SCSI/FCP", "network", "PCI/zPCI", "subchannels and mdevs", "AP crypto", "other")

_BY_KIND = {
    HostDeviceKind.CCW: "DASD",
    HostDeviceKind.STORAGE: "SCSI/FCP",
    HostDeviceKind.BLOCK: "SCSI/FCP",
    HostDeviceKind.SCSI: "SCSI/FCP",
    HostDeviceKind.SCSI_HOST: "SCSI/FCP",
    HostDeviceKind.SCSI_TARGET: "SCSI/FCP",
    HostDeviceKind.NET: "network",
    HostDeviceKind.CCWGROUP: "network",
    HostDeviceKind.PCI: "PCI/zPCI",
    HostDeviceKind.CSS: "subchannels and mdevs",
    HostDeviceKind.MDEV: "subchannels and mdevs",
    HostDeviceKind.AP_CARD: "AP crypto",
    HostDeviceKind.AP_QUEUE: "AP crypto",
    HostDeviceKind.AP_MATRIX: "AP crypto",
}


def group_of(device: HostDevice) -> str:
    """The group a host device is listed under; a ccw device that is not a DASD goes under network
    when it is a qeth member, else under `other`."""
    group = _BY_KIND.get(device.kind, "other")
    if device.kind is HostDeviceKind.CCW and device.driver and not device.driver.startswith("dasd"):
        return "network" if device.driver == "qeth" else "other"
    return group


def users_by_device(devices: Iterable[HostDevice], guests: Iterable[Guest]) -> dict[str, list[str]]:
    """Host device id → `guest/device` names of the guests whose device source or backing chain names it."""
    names: dict[str, str] = {}
    for dev in devices:
        for name in (dev.id, *dev.devnodes):
            if name:
                names[name] = dev.id
    users: dict[str, list[str]] = {}
    for guest in guests:
        for device in guest.devices:
            refs = {device.source, *(s.id for s in device.backing)}
            label = f"{guest.name}/{device.target or device.alias or device.kind.value}"
            for ref in refs:
                dev_id = names.get(ref)
                if dev_id is not None and label not in users.setdefault(dev_id, []):
                    users[dev_id].append(label)
    return users
