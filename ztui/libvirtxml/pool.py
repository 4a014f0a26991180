"""libvirt storage pool and volume XML: reading them into plain records, and writing a new volume's XML.

On a host whose files ztui cannot open itself (another machine, another mount namespace), a disk image is a
storage volume: its size, format and backing store come from the volume's XML, a new image is a volume
created in the pool that holds its directory, and the tree follows the pool down to what it is made of
(the block device of an `fs`, `disk` or `logical` pool, an iSCSI target, an RBD image). Pure: no libvirt.
"""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from ztui.libvirtxml.common import parse_xml

__all__ = ["PoolDesc", "VolumeDesc", "new_volume_xml", "parse_pool", "parse_volume", "pool_holding"]

#: pool types whose volumes are files in the target directory (a new image can be created there by name)
FILE_POOL_TYPES = frozenset(("dir", "fs", "netfs", "gluster"))


@dataclass(frozen=True, slots=True)
class PoolDesc:
    """A storage pool as the tree and hotplug need it: where its volumes live and what it is made of."""

    name: str
    type: str  # dir, fs, netfs, logical, disk, iscsi, iscsi-direct, mpath, rbd, scsi, zfs, …
    target: str = ""  # the directory (or /dev/VG, /dev/disk/by-path) its volumes appear in
    devices: tuple[str, ...] = ()  # <source><device path=…>: the block devices it is made of
    hosts: tuple[str, ...] = ()  # <source><host name=…>: an iSCSI portal, NFS server, Ceph monitors
    source_name: str = ""  # <source><name>: VG name, RBD pool, Gluster volume
    source_dir: str = ""  # <source><dir path=…>: the NFS export
    source_format: str = ""  # ext4, nfs, gpt, lvm2 …
    adapter: str = ""  # <source><adapter>: the SCSI host or the vHBA's parent (fc_host)
    iqn: str = ""  # the iSCSI target's IQN (the <device path> of an iSCSI pool)

    @property
    def holds_files(self) -> bool:
        """Whether its volumes are files in `target` (so a volume can be created there by file name)."""
        return self.type in FILE_POOL_TYPES


@dataclass(frozen=True, slots=True)
class VolumeDesc:
    """A storage volume: what `stat` and `qemu-img info` would say about a local image."""

    name: str
    path: str
    key: str = ""
    type: str = ""  # file, block, dir, network, netdir, ploop
    capacity: int | None = None  # bytes the guest sees
    allocation: int | None = None  # bytes the host spends
    format: str = ""  # raw, qcow2, iso, … (empty: libvirt did not say)
    backing: str = ""
    backing_format: str = ""


def _bytes(elem: ET.Element | None) -> int | None:
    """libvirt writes sizes in bytes in its own XML (`unit='bytes'`); other units are converted."""
    if elem is None or not (elem.text or "").strip():
        return None
    units = {"b": 1, "bytes": 1, "k": 1024, "kib": 1024, "m": 1024**2, "mib": 1024**2, "g": 1024**3,
             "gib": 1024**3, "t": 1024**4, "tib": 1024**4, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4}
    try:
        return int(elem.text or "") * units.get(elem.get("unit", "bytes").lower(), 1)
    except ValueError:
        return None


def parse_pool(xml: str, what: str = "pool XML") -> PoolDesc:
    """A `<pool>` document (XmlError when it is not XML)."""
    root = parse_xml(xml, what)
    source = root.find("source")
    devices: list[str] = []
    hosts: list[str] = []
    name = directory = fmt = adapter = iqn = ""
    if source is not None:
        for dev in source.findall("device"):
            path = dev.get("path", "")
            if path.startswith("/"):
                devices.append(path)
            elif path:
                iqn = path
        hosts = [h.get("name", "") for h in source.findall("host") if h.get("name")]
        name = (source.findtext("name") or "").strip()
        found = source.find("dir")
        directory = found.get("path", "") if found is not None else ""
        found = source.find("format")
        fmt = found.get("type", "") if found is not None else ""
        found = source.find("adapter")
        if found is not None:
            adapter = found.get("name") or found.get("parent") or found.get("wwpn") or found.get("type") or ""
    return PoolDesc(name=(root.findtext("name") or "").strip(), type=root.get("type", ""),
                    target=(root.findtext("target/path") or "").strip(), devices=tuple(devices),
                    hosts=tuple(hosts), source_name=name, source_dir=directory, source_format=fmt,
                    adapter=adapter, iqn=iqn)


def parse_volume(xml: str, what: str = "volume XML") -> VolumeDesc:
    """A `<volume>` document (XmlError when it is not XML)."""
    root = parse_xml(xml, what)
    fmt = root.find("target/format")
    backing = root.find("backingStore")
    backing_fmt = backing.find("format") if backing is not None else None
    path = (root.findtext("target/path") or "").strip()
    return VolumeDesc(name=(root.findtext("name") or "").strip(), path=path,
                      key=(root.findtext("key") or "").strip(), type=root.get("type", ""),
                      capacity=_bytes(root.find("capacity")), allocation=_bytes(root.find("allocation")),
                      format=fmt.get("type", "") if fmt is not None else "",
                      backing=(backing.findtext("path") or "").strip() if backing is not None else "",
                      backing_format=backing_fmt.get("type", "") if backing_fmt is not None else "")


def new_volume_xml(name: str, capacity: int, fmt: str) -> str:
    """The XML `virStorageVolCreateXML` takes for a new, empty image file of `capacity` bytes."""
    root = ET.Element("volume", type="file")
    ET.SubElement(root, "name").text = name
    ET.SubElement(root, "capacity", unit="bytes").text = str(capacity)
    ET.SubElement(root, "allocation", unit="bytes").text = "0"
    target = ET.SubElement(root, "target")
    ET.SubElement(target, "format", type=fmt)
    return ET.tostring(root, encoding="unicode")


def pool_holding(directory: str, pools: list[PoolDesc] | tuple[PoolDesc, ...]) -> PoolDesc | None:
    """The file pool whose target directory is `directory` (a new volume is created in that pool)."""
    wanted = posixpath.normpath(directory)
    for pool in pools:
        if pool.holds_files and pool.target and posixpath.normpath(pool.target) == wanted:
            return pool
    return None
