"""What makes a volume the same volume on every host that sees it, worked out once per inventory.

On IBM Z the same DASD or SCSI LUN is seen by several LPARs, each under device numbers of its own I/O
definition (zlab-z's DASD `0.0.5c05` is zlab-y's `0.0.6c05`), behind other FCP channels and other SCSI
addresses. What ties the views together is the volume's own identity, which the storage reports the same to
every host:

- a DASD: its `uid`, vendor.serial.ssid.unit-address[.vduit] (drivers/s390/block/dasd_devmap.c). Only a
  base has one: a classic PAV alias repeats its base's uid and a HyperPAV alias ends in `.xx`, and neither
  is a volume of its own; an offline DASD's uid is empty (unknown, not different);
- a SCSI LUN: the device identifier of VPD page 0x83, as the kernel writes it in the SCSI device's `wwid`
  (`naa.6005076303ffc562…`), as udev's scsi_id (`ID_SERIAL`, `36005076303ffc562…`: the designator type,
  then the NAA in hex) and multipath (`dm-uuid mpath-36005…`) write it, or udev's `ID_WWN_WITH_EXTENSION`
  (`0x6005076303ffc562…`): all are one identifier, normalised to the kernel's notation;
- an NVMe namespace: its `wwid` (`eui.…`, `uuid.…`);
- an image file on storage several hosts share: the storage (a network pool's source; a directory the
  hosts share, proven by the directory's device and inode where the hosts are on this machine's kernel) and
  the file's path within it. An image in a directory ztui cannot prove shared has no identity.

A block device on a volume (a DASD's `dasdX`, a partition, a SCSI disk, a multipath map and its
partitions) is that volume too: every device key of one volume maps to one `VolumeIdentity`, and
`Inventory.identity` asks this module once per inventory. Pure: no I/O.
"""

from __future__ import annotations

import posixpath
import re

from ztui.facts import CcwRole, F, ccw_role, dasd_uid, is_dasd_alias
from ztui.host.index import DeviceIndex, VolumeInfo
from ztui.model import HostDevice, HostDeviceKind, HostVolume, IdentityKind, VolumeIdentity, device_key
from ztui.zsysfs import NvmeNamespace, ScsiId

__all__ = ["dasd_identity", "identities", "image_identity", "scsi_identifier"]

_BLOCK_KINDS = (HostDeviceKind.BLOCK, HostDeviceKind.STORAGE)
_HEX = re.compile(r"^[0-9a-fA-F]+$")
#: the dm uuid of a partition kpartx made on a multipath map: `part1-mpath-36005…`
_MPATH_PART = re.compile(r"^part\d+-mpath-(.+)$")


def scsi_identifier(text: str) -> str:
    """A LUN's VPD 0x83 identifier in the kernel's notation (`naa.<hex>`, `eui.<hex>`, a name string), from
    any of the ways it is written: the kernel's own, scsi_id's and multipath's (`3<hex>` NAA, `2<hex>` EUI-64,
    `8<name>`), udev's ID_WWN (`0x<hex>`); '' for text that is none of them (a vendor-model-serial string
    is no identifier the storage guarantees)."""
    value = text.strip()
    if not value:
        return ""
    if value.startswith(("naa.", "eui.", "t10.")):
        return value.lower() if not value.startswith("t10.") else value
    if value.startswith(("0x", "0X")) and _HEX.match(value[2:]) and len(value) in (18, 34):
        return "naa." + value[2:].lower()
    head, body = value[0], value[1:]
    if head == "3" and _HEX.match(body) and len(body) in (16, 32):
        return "naa." + body.lower()
    if head == "2" and _HEX.match(body) and len(body) in (16, 24, 32):
        return "eui." + body.lower()
    if head == "8" and len(body) > 4:
        return body
    return ""


def dasd_identity(ccw: HostDevice) -> VolumeIdentity | None:
    """A base DASD's volume: its uid. None for an alias (PAV or HyperPAV), FBA or DIAG (no uid) and an
    offline DASD (its uid cannot be read)."""
    if ccw_role(ccw) is not CcwRole.DASD and not ccw.has_fact(F.UID):
        return None
    uid = dasd_uid(ccw)
    if not uid or uid.hyperpav or is_dasd_alias(ccw):
        return None
    return VolumeIdentity(IdentityKind.DASD, uid.text)


def image_identity(volume: VolumeInfo) -> VolumeIdentity | None:
    """An image on storage several hosts share: the storage (`VolumeInfo.shared_at`) and the path in it."""
    if not volume.shared_at or not volume.path.startswith("/"):
        return None
    base = volume.pool_target.rstrip("/")
    inner = posixpath.relpath(volume.path, base) if base and volume.path.startswith(base + "/") else volume.volume
    return VolumeIdentity(IdentityKind.IMAGE, f"{inner} on {volume.shared_at}")


def _own_scsi(dev: HostDevice) -> str:
    """The identifier a SCSI device or disk says of itself: the kernel's `wwid`, else udev's."""
    if dev.kind is HostDeviceKind.SCSI:
        return scsi_identifier(ScsiId.wwid.read(dev.fact(F.WWID)) or "")
    return scsi_identifier(dev.fact(F.WWN)) or scsi_identifier(dev.fact(F.SERIAL))


class _Table:
    """Device key → identity, and per identity the device that stands for it and all of its keys."""

    def __init__(self) -> None:
        self.by_key: dict[str, VolumeIdentity] = {}
        self.shown: dict[VolumeIdentity, tuple[int, str, str]] = {}  # rank (lower wins), key, name

    def add(self, key: str, identity: VolumeIdentity | None, rank: int = 9, name: str = "") -> None:
        if identity is None or key in self.by_key:
            return
        self.by_key[key] = identity
        best = self.shown.get(identity)
        if name and (best is None or (rank, name) < best[::2]):
            self.shown[identity] = (rank, key, name)

    def volumes(self) -> tuple[HostVolume, ...]:
        keys: dict[VolumeIdentity, set[str]] = {}
        for key, identity in self.by_key.items():
            keys.setdefault(identity, set()).add(key)
        found = []
        for identity, members in keys.items():
            shown = self.shown.get(identity)
            key, name = (shown[1], shown[2]) if shown is not None else (min(members), min(members))
            found.append(HostVolume(identity, name, key, frozenset(members)))
        return tuple(sorted(found, key=lambda v: v.identity))


def identities(inv: DeviceIndex) -> tuple[dict[str, VolumeIdentity], tuple[HostVolume, ...]]:
    """Every device key of the inventory that is a volume with an identity, and the host's volumes."""
    table = _Table()
    for ccw in inv.of_kind(HostDeviceKind.CCW):
        table.add(ccw.key, dasd_identity(ccw), 0, ccw.id)
    for scsi in inv.of_kind(HostDeviceKind.SCSI):
        own = _own_scsi(scsi)
        if not own:  # the kernel did not say: the disk on it may (udev's scsi_id)
            own = next((found for child in inv.children(scsi) if child.kind in _BLOCK_KINDS
                        if (found := _own_scsi(child))), "")
        table.add(scsi.key, VolumeIdentity(IdentityKind.SCSI, own) if own else None, 2, _zfcp_path(scsi))
    blocks = inv.of_kind(*_BLOCK_KINDS)
    maps: list[HostDevice] = []
    for block in blocks:
        if block.fact(F.DEVTYPE) == "partition" or block.fact(F.DM_UUID).startswith("part"):
            continue
        dm_uuid = block.fact(F.DM_UUID)
        if dm_uuid.startswith("mpath-"):
            maps.append(block)
            continue
        if dm_uuid or block.fact(F.LOOP_BACKING_FILE):
            continue  # LVM, crypt, loop: made of volumes, not one of them
        table.add(block.key, _disk_identity(inv, block, table.by_key), 5, block.id)
    for block in maps:  # a multipath map is the volume its paths are
        own = scsi_identifier(block.fact(F.DM_UUID)[len("mpath-"):])
        paths = {table.by_key.get(path.key) for p in block.fact(F.SLAVES).split(",") if p
                 if (path := inv.by_path(p)) is not None}
        paths.discard(None)
        identity = VolumeIdentity(IdentityKind.SCSI, own) if own else (paths.pop() if len(paths) == 1 else None)
        first = _first_path(inv, block)
        table.add(block.key, identity, 1, first or (f"/dev/mapper/{block.fact(F.DM_NAME)}"
                                                     if block.fact(F.DM_NAME) else block.id))
    for block in blocks:  # partitions: the volume of their disk (or of their multipath map)
        if block.fact(F.DEVTYPE) == "partition":
            disk = inv.parent(block)
            if disk is not None and disk.key in table.by_key:
                table.add(block.key, table.by_key[disk.key])
        elif (m := _MPATH_PART.match(block.fact(F.DM_UUID))) is not None:
            own = scsi_identifier(m.group(1))
            table.add(block.key, VolumeIdentity(IdentityKind.SCSI, own) if own else None)
    for volume in inv.volumes:
        table.add(device_key("file", volume.path), image_identity(volume), 0, f"{volume.pool}/{volume.volume}")
    return table.by_key, table.volumes()


def _disk_identity(inv: DeviceIndex, block: HostDevice, known: dict[str, VolumeIdentity]) -> VolumeIdentity | None:
    """A whole disk: the volume of the DASD or SCSI device under it (`known` already), an NVMe namespace's own
    wwid, else what udev says of the disk itself."""
    nvme = NvmeNamespace.wwid.read(block.fact(F.WWID)) if block.has_fact(F.WWID) else None
    if nvme:
        return VolumeIdentity(IdentityKind.NVME, nvme)
    holder = inv.ancestor(block, HostDeviceKind.SCSI, HostDeviceKind.CCW)
    if holder is not None and holder.kind is HostDeviceKind.CCW:
        return known.get(holder.key)
    if holder is not None and holder.key in known:
        return known[holder.key]
    own = scsi_identifier(block.fact(F.WWN)) or scsi_identifier(block.fact(F.SERIAL))
    return VolumeIdentity(IdentityKind.SCSI, own) if own else None


def _zfcp_path(scsi: HostDevice) -> str:
    """A LUN's path as lszdev names a zfcp-lun (`0.0.1700:0x500507630300c562:0x4001400100000000`), else its
    SCSI address."""
    hba, wwpn, lun = scsi.fact(F.HBA_ID), scsi.fact(F.WWPN), scsi.fact(F.FCP_LUN)
    return f"{hba}:{wwpn}:{lun}" if hba and wwpn and lun else scsi.id


def _first_path(inv: DeviceIndex, block: HostDevice) -> str:
    """The first path of a multipath map, as its SCSI device names it ('' when none is known)."""
    for path in sorted(p for p in block.fact(F.SLAVES).split(",") if p):
        dev = inv.by_path(path)
        scsi = inv.ancestor(dev, HostDeviceKind.SCSI) if dev is not None else None
        if scsi is not None:
            return _zfcp_path(scsi)
    return ""
