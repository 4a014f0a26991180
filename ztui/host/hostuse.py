"""The host's own use of a device — a file system mounted from it, swap, LVM, multipath, the dump or IPL
device — as a fact of that device, worked out once per inventory.

A DASD that holds the host's root file system looks idle to libvirt: no guest uses it. Offering it for an
attach, a vfio-ccw preparation or a pass-through would hand the host's own disk to a guest. So every
question "does the host itself hold this device?" is answered here, from what the host's kernel says:

- mountinfo (`/proc/self/mountinfo`): the `major:minor` (or the source) of every mounted file system;
- `/proc/swaps`: active swap partitions;
- a block device's `holders`: a device-mapper device whose uuid says what it is — `LVM-…` (a logical
  volume: the block device is an LVM physical volume), `mpath-…` (a multipath map: it is one of its
  paths), anything else (dm-crypt, kpartx, md) a holder;
- `/sys/firmware/dump` (the device the kernel dumps to on a panic, set by dumpconf) and
  `/sys/firmware/ipl` (the device the host was IPLed from), kept on the host's own record;
- a PCI function whose network interface is up.

A use found on one device is a use of what it is made of: a disk is used when a partition of it is; the
DASD, SCSI device or PCI function under a disk when the disk is; a subchannel when the device it carries
is; the disk of a dump or IPL DASD when the DASD is. Each reason keeps the device it was found on, so
the text says `/dev/dasda1 is mounted on /` wherever it is shown.

`Inventory.host_use(dev)` is the one function callers ask (it computes `host_uses` once per inventory).
Pure: the mounts and swap areas are read elsewhere (`ztui.host.files`, a snapshot, the simulated host)
and handed over as a `ztui.host.system.SystemUse`.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass
from enum import StrEnum

from ztui.facts import F, carried_busid, zfcp_path
from ztui.host.index import DeviceIndex
from ztui.host.system import Mount
from ztui.model import HostDevice, HostDeviceKind
from ztui.zsysfs import Firmware, Zpci


class HostUseKind(StrEnum):
    """How the host itself uses a device."""

    MOUNT = "mount"
    SWAP = "swap"
    LVM = "lvm"
    MULTIPATH = "multipath"
    HOLDER = "holder"
    DUMP = "dump"
    IPL = "ipl"
    INTERFACE = "interface"


@dataclass(frozen=True, slots=True)
class HostUseReason:
    """One use: its kind, the device it was found on (as the host names it, `/dev/dasda1`, `0.0.5c0b`) and
    what uses it (a mount point, a device-mapper name, an interface)."""

    kind: HostUseKind
    device: str
    detail: str = ""
    holder_key: str = ""  # the holding device's key (LVM, multipath, other holders): a guest using the
    #: device through that holder does not take it from the host

    @property
    def text(self) -> str:
        what, by = self.device, self.detail
        return {
            HostUseKind.MOUNT: f"{what} is mounted on {by}",
            HostUseKind.SWAP: f"{what} is active swap space",
            HostUseKind.LVM: f"{what} is an LVM physical volume (of {by})",
            HostUseKind.MULTIPATH: f"{what} is a path of the host's multipath device {by}",
            HostUseKind.HOLDER: f"{what} is held by {by}",
            HostUseKind.DUMP: f"{what} is the host's dump device ({by})",
            HostUseKind.IPL: f"{what} is the device the host was IPLed from",
            HostUseKind.INTERFACE: f"its interface {by} is up on the host",
        }[self.kind]

    @property
    def short(self) -> str:
        """A few words for a line that has little room (`mounted on /`, `swap`, `dump device`)."""
        by = self.detail
        return {
            HostUseKind.MOUNT: f"mounted on {by}",
            HostUseKind.SWAP: "swap",
            HostUseKind.LVM: f"LVM PV of {by}",
            HostUseKind.MULTIPATH: "multipath path",
            HostUseKind.HOLDER: f"held by {by}",
            HostUseKind.DUMP: "dump device",
            HostUseKind.IPL: "IPL device",
            HostUseKind.INTERFACE: f"interface {by} up",
        }[self.kind]


@dataclass(frozen=True, slots=True)
class HostUse:
    """The host's own use of one device: empty (false) when the host does not use it."""

    reasons: tuple[HostUseReason, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.reasons)

    def besides(self, holders: Container[str]) -> HostUse:
        """The uses other than through one of these holders (device keys): a guest that writes a multipath
        map or a logical volume reaches its paths or physical volumes through it, which takes nothing from
        the host."""
        return HostUse(tuple(r for r in self.reasons if not (r.holder_key and r.holder_key in holders)))

    @property
    def text(self) -> str:
        """One line: every reason, `; `-joined (`/dev/dasda1 is mounted on /; /dev/dasda2 is active swap space`)."""
        return "; ".join(r.text for r in self.reasons)


NO_USE = HostUse()


_BLOCK_KINDS = (HostDeviceKind.BLOCK, HostDeviceKind.STORAGE)
_SPREADS_TO_DISK = frozenset(HostUseKind) - {HostUseKind.INTERFACE}


class _Found:
    def __init__(self) -> None:
        self.by_key: dict[str, list[HostUseReason]] = {}

    def add(self, dev: HostDevice | None, reason: HostUseReason) -> None:
        if dev is None:
            return
        reasons = self.by_key.setdefault(dev.key, [])
        if reason not in reasons:
            reasons.append(reason)

    def of(self, dev: HostDevice) -> list[HostUseReason]:
        return self.by_key.get(dev.key, [])


def host_uses(inv: DeviceIndex) -> dict[str, HostUse]:
    """Device key → the host's use of it, for every device the host uses (see the module docstring)."""
    found = _Found()
    _mounts(inv, inv.system.mounts, found)
    for swap in inv.system.swaps:
        if swap.type == "partition":
            dev = inv.by_path(swap.path)
            found.add(dev, HostUseReason(HostUseKind.SWAP, _name(dev, swap.path)))
    blocks = inv.of_kind(*_BLOCK_KINDS)
    for block in blocks:
        for holder in (h for h in block.fact(F.HOLDERS).split(",") if h):
            found.add(block, _held_by(block, holder, inv.by_path(holder)))
    system = inv.get(HostDeviceKind.SYSTEM, "host")
    if system is not None:
        _firmware(inv, system, found)
    for pci in inv.of_kind(HostDeviceKind.PCI):
        for iface in (c for c in inv.children(pci) if c.kind is HostDeviceKind.NET):
            if (iface.fact(F.OPERSTATE) or iface.fact(F.LINK_STATE)) == "up":
                found.add(pci, HostUseReason(HostUseKind.INTERFACE, pci.id, iface.id))
    _spread(inv, blocks, found)
    order = {kind: n for n, kind in enumerate(HostUseKind)}
    return {key: HostUse(tuple(sorted(reasons, key=lambda r: order[r.kind]))) for key, reasons in found.by_key.items()
            if reasons}


def _name(dev: HostDevice | None, fallback: str) -> str:
    return dev.id if dev is not None and dev.id.startswith("/dev/") else fallback


def _mounts(inv: DeviceIndex, mounts: Iterable[Mount], found: _Found) -> None:
    """Each mounted device once, at its shortest mount point (`/` before a bind mount of it elsewhere)."""
    seen: dict[str, Mount] = {}
    for mount in mounts:
        dev = (inv.by_majmin(mount.majmin) if mount.majmin else None) \
            or (inv.by_path(mount.source) if mount.source.startswith("/dev/") else None)
        if dev is None or dev.kind not in _BLOCK_KINDS:
            continue
        known = seen.get(dev.key)
        if known is None or len(mount.mount_point) < len(known.mount_point):
            seen[dev.key] = mount
    for key, mount in seen.items():
        dev = inv.by_key(key)
        found.add(dev, HostUseReason(HostUseKind.MOUNT, _name(dev, mount.source), mount.mount_point))


def _held_by(block: HostDevice, holder: str, held_by: HostDevice | None) -> HostUseReason:
    """What a holder is, by its device-mapper uuid: an LVM logical volume, a multipath map, other."""
    uuid = held_by.fact(F.DM_UUID) if held_by is not None else ""
    name = (held_by.fact(F.DM_NAME) if held_by is not None else "") or holder.removeprefix("/dev/")
    key = held_by.key if held_by is not None else ""
    if uuid.startswith("LVM-"):
        return HostUseReason(HostUseKind.LVM, block.id, name, key)
    if uuid.startswith("mpath-"):
        return HostUseReason(HostUseKind.MULTIPATH, block.id, name, key)
    return HostUseReason(HostUseKind.HOLDER, block.id, name, key)


def _firmware(inv: DeviceIndex, system: HostDevice, found: _Found) -> None:
    """The dump device (`/sys/firmware/dump`) and the IPL device (`/sys/firmware/ipl`) the host's record
    keeps: a DASD by bus-ID, a SCSI LUN by FCP channel, WWPN and LUN, an NVMe function by FID."""
    dump = Firmware.dump_type.read(system.fact(F.DUMP_TYPE)) or "none"
    device = Firmware.dump_device.read(system.fact(F.DUMP_DEVICE)) or ""
    detail = f"dump_type {dump}"
    if dump in ("ccw", "eckd") and device:
        found.add(inv.get(HostDeviceKind.CCW, device), HostUseReason(HostUseKind.DUMP, device, detail))
    elif dump == "fcp" and device:
        wwpn, lun = Firmware.dump_wwpn.read(system.fact(F.DUMP_WWPN)), Firmware.dump_lun.read(system.fact(F.DUMP_LUN))
        if wwpn is not None and lun is not None:
            path = (device, f"0x{wwpn:016x}", f"0x{lun:016x}")
            for scsi in inv.of_kind(HostDeviceKind.SCSI):
                if zfcp_path(scsi) == path:
                    found.add(scsi, HostUseReason(HostUseKind.DUMP, " ".join(path), detail))
    elif dump == "nvme":
        fid = Firmware.dump_fid.read(system.fact(F.DUMP_FID))
        for pci in inv.of_kind(HostDeviceKind.PCI):
            if fid is not None and Zpci.function_id.read(pci.fact(F.FUNCTION_ID)) == fid:
                found.add(pci, HostUseReason(HostUseKind.DUMP, pci.id, detail))
    ipl_type = Firmware.ipl_type.read(system.fact(F.IPL_TYPE)) or ""
    ipl = Firmware.ipl_device.read(system.fact(F.IPL_DEVICE)) or ""
    if ipl_type in ("ccw", "eckd") and ipl:
        found.add(inv.get(HostDeviceKind.CCW, ipl), HostUseReason(HostUseKind.IPL, ipl))


def _spread(inv: DeviceIndex, blocks: list[HostDevice], found: _Found) -> None:
    """A partition's use to its disk; a disk's to the DASD, SCSI device or PCI function under it; a
    DASD's or LUN's dump or IPL role to its block devices; a carried device's use to its subchannel."""
    for block in blocks:
        if block.fact(F.DEVTYPE) == "partition":
            disk = inv.parent(block)
            if disk is not None and disk.kind in _BLOCK_KINDS:
                for reason in found.of(block):
                    found.add(disk, reason)
    for ccw_or_scsi in (*inv.of_kind(HostDeviceKind.CCW), *inv.of_kind(HostDeviceKind.SCSI)):
        roles = [r for r in found.of(ccw_or_scsi) if r.kind in (HostUseKind.DUMP, HostUseKind.IPL)]
        if roles:
            for block in (c for c in inv.children(ccw_or_scsi) if c.kind in _BLOCK_KINDS):
                for part in (block, *(p for p in inv.children(block) if p.kind in _BLOCK_KINDS)):
                    for reason in roles:
                        found.add(part, reason)
    for block in blocks:
        if block.fact(F.DEVTYPE) == "partition" or block.fact(F.DM_UUID) or block.fact(F.LOOP_BACKING_FILE):
            continue
        hardware = inv.ancestor(block, HostDeviceKind.SCSI, HostDeviceKind.CCW, HostDeviceKind.PCI)
        if hardware is not None:
            for reason in found.of(block):
                if reason.kind in _SPREADS_TO_DISK:
                    found.add(hardware, reason)
    for css in inv.of_kind(HostDeviceKind.CSS):
        busid = carried_busid(css)
        carried = inv.get(HostDeviceKind.CCW, busid) if busid else None
        if carried is not None:
            for reason in found.of(carried):
                found.add(css, reason)
