"""One host's devices indexed: udev and libvirt node devices merged, with the lookups the resolver needs.

udev knows far more about a local host (DASD state, qeth CHPID, zFCP LUN paths, zPCI uid/fid); libvirt's
node devices are all there is for a remote one, and they carry libvirt's names (`css_0_0_0010`), which
the node-device API wants. So a device seen by both becomes one record: udev's values and libvirt's name,
and the facts of both, each still saying where it came from.

Besides devices the inventory holds what the resolver needs about host *objects* that are not devices:
files (does the image exist, on which mount and block device), libvirt networks (their bridge) and storage
volumes (pool and volume of a path). These are gathered by impure helpers (`ztui.host.files`,
`ztui.host.scan`); this module imports neither libvirt nor pyudev and does no I/O. What is worked out from
the whole index (the host's own use of each device, each volume's identity) is `ztui.host.inventory`'s.
"""

from __future__ import annotations

import copy
import functools
import posixpath
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Self

from ztui.facts import F, FactSource
from ztui.host.system import NOTHING, SystemUse
from ztui.model import Fact, HostDevice, HostDeviceKind, NetworkInfo, device_key

# libvirt's `storage` capability and udev's block devices are the same thing: both have the devnode as id
_MERGE_KIND = {HostDeviceKind.STORAGE: HostDeviceKind.BLOCK}
_MATRIX_IDS = {"ap_matrix", "matrix"}


class FileKind(StrEnum):
    """What a path is, as `stat` tells it."""

    FILE = "file"
    DIRECTORY = "directory"
    BLOCK = "block"
    CHAR = "char"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What the host's file system says about one path a guest uses (an image, an ISO, a directory).

    `majmin` is the `major:minor` of the file system the file lives on (st_dev), which names its block
    device; `mount_source` is what is mounted there (`/dev/dasda1`, `tmpfs`, `server:/export`)."""

    path: str
    exists: bool
    realpath: str = ""
    kind: FileKind | None = None  # None when the path does not exist
    size: int | None = None
    mount_point: str = ""
    fs_type: str = ""
    mount_source: str = ""
    majmin: str = ""
    error: str = ""


@dataclass(frozen=True, slots=True)
class VolumeInfo:
    """A path libvirt manages as a storage volume: works on remote hosts where no file can be examined."""

    path: str
    pool: str
    volume: str
    pool_type: str = ""
    pool_devices: tuple[str, ...] = ()  # the block devices the pool is made of (fs, logical, disk)
    pool_source: str = ""  # a network source: iSCSI portal and IQN, RBD monitors and pool, NFS export
    pool_target: str = ""  # the directory the pool's volumes are in, as the host sees it
    shared_at: str = ""
    """Where the pool's storage is, in words that are the same on every host that shares it: a network pool's
    type and source (`netfs nfs01:/export/images`), a directory's device and inode as this kernel sees it
    (hosts on this machine); '' when ztui cannot tell that another host would see the same storage."""


def merge_devices(udev: Iterable[HostDevice], libvirt: Iterable[HostDevice]) -> tuple[HostDevice, ...]:
    """udev records first (with libvirt's name and facts folded in), then libvirt-only records."""
    by_key: dict[str, HostDevice] = {}
    order: list[str] = []
    for dev in udev:
        k = merge_key(dev)
        if k not in by_key:
            order.append(k)
            by_key[k] = dev
    for dev in libvirt:
        k = merge_key(dev)
        seen = by_key.get(k)
        if seen is None:
            order.append(k)
            by_key[k] = dev
        elif seen.source != dev.source:
            by_key[k] = _fold(seen, dev)
    return tuple(by_key[k] for k in order)


def merge_key(dev: HostDevice) -> str:
    """Records of one device from udev and from libvirt share this key (`HostDevice.key`)."""
    return dev.key


def _fold(udev: HostDevice, lv: HostDevice) -> HostDevice:
    """udev's record with libvirt's name, XML and facts; libvirt fills what udev left empty."""
    facts: list[Fact] = list(udev.facts)
    facts.append(Fact(F.UDEV_NAME, udev.name, udev.source))
    facts.extend(lv.facts)
    return replace(
        udev,
        name=lv.name or udev.name,
        driver=udev.driver or lv.driver,
        sysfs_path=udev.sysfs_path or lv.sysfs_path,
        devnodes=tuple(dict.fromkeys((*udev.devnodes, *lv.devnodes))),
        mdev_types=udev.mdev_types or lv.mdev_types,
        iommu_group=udev.iommu_group if udev.iommu_group is not None else lv.iommu_group,
        facts=tuple(facts),
        source=f"{udev.source}+{lv.source}",
        xml=lv.xml,
        warnings=(*udev.warnings, *lv.warnings),
    )


@functools.cache
def _norm_kind(kind: HostDeviceKind | str) -> HostDeviceKind | str:
    """The kind devices are indexed under (cached: it runs for every lookup while resolving)."""
    try:
        k = HostDeviceKind(kind)
    except ValueError:
        return kind
    return _MERGE_KIND.get(k, k)


@dataclass(frozen=True)
class DeviceIndex:
    """Every known device of one host plus files, networks and volumes, with indexes built once.

    `local` is true when udev contributed (so a device *missing* from it really is missing, not just
    unknown); `has_libvirt` when libvirt's node devices did; `same_machine` when the host is this
    machine, so its files can be examined. Updating one device (`with_device`) builds a
    new inventory; indexes are rebuilt in O(n), which is cheap next to any sysfs or libvirt read.
    """

    devices: tuple[HostDevice, ...] = ()
    local: bool = False
    has_libvirt: bool = False
    files: tuple[FileInfo, ...] = ()
    networks: tuple[NetworkInfo, ...] = ()
    volumes: tuple[VolumeInfo, ...] = ()
    has_networks: bool = False
    uri: str | None = None
    same_machine: bool = False
    system: SystemUse = NOTHING
    """What the host itself has mounted and swaps on (its mountinfo and /proc/swaps, or a snapshot's)."""
    _by_key: dict[str, HostDevice] = field(default_factory=dict, init=False, repr=False, compare=False)
    _by_path: dict[str, HostDevice] = field(default_factory=dict, init=False, repr=False, compare=False)
    _by_sysfs: dict[str, HostDevice] = field(default_factory=dict, init=False, repr=False, compare=False)
    _by_name: dict[str, HostDevice] = field(default_factory=dict, init=False, repr=False, compare=False)
    _by_majmin: dict[str, HostDevice] = field(default_factory=dict, init=False, repr=False, compare=False)
    _children: dict[str, list[HostDevice]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _files: dict[str, FileInfo] = field(default_factory=dict, init=False, repr=False, compare=False)
    _networks: dict[str, NetworkInfo] = field(default_factory=dict, init=False, repr=False, compare=False)
    _volumes: dict[str, VolumeInfo] = field(default_factory=dict, init=False, repr=False, compare=False)
    _by_kind: dict[HostDeviceKind | str, list[HostDevice]] = field(default_factory=dict, init=False, repr=False,
                                                                   compare=False)
    _fact_index: dict[str, dict[str, HostDevice]] = field(default_factory=dict, init=False, repr=False,
                                                          compare=False)
    _parents: dict[int, tuple[HostDevice, HostDevice | None]] = field(default_factory=dict, init=False,
                                                                      repr=False, compare=False)
    derived: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Results worked out from this very inventory (chain steps below a file system or a network), for
    the resolver to reuse while it resolves a whole host; a changed inventory starts with none."""

    def __post_init__(self) -> None:
        for dev in self.devices:
            self._by_kind.setdefault(_norm_kind(dev.kind), []).append(dev)
            self._by_key.setdefault(merge_key(dev), dev)
            for path in dev.devnodes:
                self._by_path.setdefault(path, dev)
            if dev.kind in (HostDeviceKind.BLOCK, HostDeviceKind.STORAGE):
                self._by_path.setdefault(dev.id, dev)
            if dev.sysfs_path:
                self._by_sysfs.setdefault(_sys(dev.sysfs_path), dev)
            if dev.name:
                self._by_name.setdefault(dev.name, dev)
            udev_name = dev.fact(F.UDEV_NAME)
            if udev_name:
                self._by_name.setdefault(udev_name, dev)
            majmin = dev.fact(F.MAJMIN)
            if majmin:
                self._by_majmin.setdefault(majmin, dev)
        for dev in self.devices:
            parent = self.parent(dev)
            if parent is not None:
                self._children.setdefault(merge_key(parent), []).append(dev)
        self._files.update((f.path, f) for f in self.files)
        self._networks.update((n.name, n) for n in self.networks)
        self._volumes.update((v.path, v) for v in self.volumes)

    # --- lookups ------------------------------------------------------------------------------------

    def get(self, kind: HostDeviceKind | str, ident: str) -> HostDevice | None:
        """The device of this kind and id (`css`, `0.0.0010`); STORAGE and BLOCK are one kind here."""
        if ident in _MATRIX_IDS and kind in (HostDeviceKind.AP_MATRIX, HostDeviceKind.AP_MATRIX.value):
            ident = "matrix"
        return self._by_key.get(device_key(kind, ident))

    def by_key(self, key: str) -> HostDevice | None:
        kind, _, ident = key.partition(":")
        return self.get(kind, ident)

    def by_path(self, path: str) -> HostDevice | None:
        """A block device by devnode or any udev link (`/dev/disk/by-path/ccw-0.0.5c3f`)."""
        dev = self._by_path.get(path)
        if dev is None:
            info = self._files.get(path)
            if info is not None and info.realpath:
                dev = self._by_path.get(info.realpath)
        return dev

    def by_majmin(self, majmin: str) -> HostDevice | None:
        return self._by_majmin.get(majmin)

    def by_name(self, name: str) -> HostDevice | None:
        """By libvirt node-device name (`css_0_0_0010`) or udev sysname (`dasda`, `0.0.0010`)."""
        return self._by_name.get(name)

    def by_sysfs(self, path: str) -> HostDevice | None:
        return self._by_sysfs.get(_sys(path))

    def of_kind(self, *kinds: HostDeviceKind) -> list[HostDevice]:
        """Devices of these kinds, in inventory order, from an index (resolving runs this per disk)."""
        wanted = {_norm_kind(k) for k in kinds}
        if len(wanted) == 1:
            return list(self._by_kind.get(next(iter(wanted)), ()))
        return [d for d in self.devices if _norm_kind(d.kind) in wanted]

    def by_fact(self, kind: HostDeviceKind, key: str, value: str) -> HostDevice | None:
        """The first device of a kind whose fact `key` is `value` (a qeth card by `if_name`, a multipath
        device by `dm_name`), from an index built on first use: resolving asks this once per interface."""
        index_key = f"{_norm_kind(kind)}:{key}"
        index = self._fact_index.get(index_key)
        if index is None:
            index = {}
            for dev in self._by_kind.get(_norm_kind(kind), ()):
                index.setdefault(dev.fact(key), dev)
            self._fact_index[index_key] = index
        return index.get(value)

    def find(self, kind: HostDeviceKind, predicate: Callable[[HostDevice], bool]) -> HostDevice | None:
        for dev in self.of_kind(kind):
            if predicate(dev):
                return dev
        return None

    def parent(self, dev: HostDevice) -> HostDevice | None:
        """The nearest known ancestor: by sysfs path first (walks through objects ztui does not track,
        e.g. SCSI targets), else by the `parent` libvirt or udev named. Remembered per device: every disk
        on one adapter asks for the same parents."""
        known = self._parents.get(id(dev))
        if known is not None and known[0] is dev:
            return known[1]
        found = self._find_parent(dev)
        self._parents[id(dev)] = (dev, found)
        return found

    def _find_parent(self, dev: HostDevice) -> HostDevice | None:
        if dev.sysfs_path:
            path = _sys(dev.sysfs_path)
            while True:
                path = posixpath.dirname(path)
                if path in ("/", "", "/sys", "/sys/devices"):
                    break
                found = self._by_sysfs.get(path)
                if found is not None and found is not dev:
                    return found
        if dev.parent:
            found = self._by_name.get(dev.parent)
            if found is None and dev.kind is HostDeviceKind.MDEV:
                found = (self.get(HostDeviceKind.CSS, dev.parent) or self.get(HostDeviceKind.PCI, dev.parent)
                         or self.get(HostDeviceKind.AP_MATRIX, dev.parent))
            if found is not None and found is not dev:
                return found
        return None

    def ancestor(self, dev: HostDevice, *kinds: HostDeviceKind) -> HostDevice | None:
        """The nearest ancestor of one of these kinds."""
        wanted = {_norm_kind(k) for k in kinds}
        seen: set[int] = set()
        cur = self.parent(dev)
        while cur is not None and id(cur) not in seen:
            if _norm_kind(cur.kind) in wanted:
                return cur
            seen.add(id(cur))
            cur = self.parent(cur)
        return None

    def children(self, dev: HostDevice) -> list[HostDevice]:
        return list(self._children.get(merge_key(dev), ()))

    def file(self, path: str) -> FileInfo | None:
        return self._files.get(path)

    def network(self, name: str) -> NetworkInfo | None:
        return self._networks.get(name)

    def volume(self, path: str) -> VolumeInfo | None:
        return self._volumes.get(path)

    # --- updates ------------------------------------------------------------------------------------

    def with_files(self, files: Iterable[FileInfo]) -> Self:
        """This inventory with these file facts added or replaced (after re-reading one guest's images)."""
        merged = {f.path: f for f in self.files}
        merged.update((f.path, f) for f in files)
        # after every guest event: share the device indexes instead of rebuilding them (O(devices))
        new = copy.copy(self)
        object.__setattr__(new, "files", tuple(merged.values()))
        object.__setattr__(new, "_files", merged)
        object.__setattr__(new, "derived", {})
        return new

    def with_device(self, dev: HostDevice) -> Self:
        """This inventory with one device added or replaced (after a udev or node-device event)."""
        key = merge_key(dev)
        old = self._by_key.get(key)
        if old is not None and old.source != dev.source and "+" not in dev.source:
            # an event from one side must not drop what the other side knows
            udev_side = dev if dev.source == FactSource.UDEV else None
            if udev_side is not None and old.xml:
                lv_facts = tuple(f for f in old.facts if f.source != FactSource.UDEV)
                dev = _fold(dev, replace(old, facts=lv_facts))
        devices = [dev if merge_key(d) == key else d for d in self.devices]
        if old is None:
            devices.append(dev)
        return replace(self, devices=tuple(devices))

    def without_device(self, key: str) -> Self:
        """This inventory without the device of this key (`HostDevice.key` or merge key)."""
        return replace(self, devices=tuple(d for d in self.devices if merge_key(d) != key and d.key != key))


def _sys(path: str) -> str:
    """Compare sysfs paths with and without the `/sys` prefix (libvirt writes it, udev too)."""
    text = path.rstrip("/")
    return text if text.startswith("/sys/") else "/sys" + text if text.startswith("/devices/") else text


