"""Gathering one host's inventory: udev (local hosts), libvirt node devices, networks, volumes and files.

Which of these a host gets is its facts source's answer (`ztui.host.hostfacts.facts_source_for`): udev
for a host on this machine's kernel, a snapshot's records for a host known by its facts (the lab's
simulated Z hosts), this machine's file system only for a host in this process's own mount namespace (a lab
host in its own mount namespace and a remote host have their images described by their storage pools).

This is the impure edge of the host side: it talks to libvirt and (for a local connection) to udev and the
file system, and hands everything to `ztui.host.inventory.build_inventory`. The resolver never does I/O.

Typical use (CLI and TUI alike)::

    inv = scan_host(conn, uri, guests)          # once per connection
    host = resolve_host(host, inv)              # chains for every guest
    inv = refresh_files(inv, [guest])           # after one guest changed
    guest = resolve_guest(guest, inv)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ztui.host.hostfacts import FactsSource, facts_source_for
from ztui.host.hostuse import SystemUse
from ztui.host.inventory import Inventory, VolumeInfo, build_inventory
from ztui.host.resolve import paths_to_examine
from ztui.libvirtxml.network import parse_network
from ztui.model import DeviceKind, Guest, HostDevice, NetworkInfo

log = logging.getLogger("ztui.host.scan")


def local_udev_devices() -> tuple[HostDevice, ...]:
    """udev's records, or none when pyudev or sysfs is unusable here (a container without /sys)."""
    try:
        from ztui.host.udev import udev_available, udev_devices
    except ImportError:  # pragma: no cover - pyudev is a dependency, but be kind to trimmed installs
        return ()
    if not udev_available():
        return ()
    try:
        return udev_devices()
    except Exception as exc:  # libudev missing or broken: the libvirt half still works
        log.warning("udev inventory failed: %s", exc)
        return ()


class LocalUdev:
    """udev's records of this machine, walked once for every URI (of a command's) whose host is this
    machine. The walk starts in a thread as soon as such a URI is given, so it runs while the connections
    open and the guests are fetched (libvirt lets go of the GIL meanwhile) instead of after."""

    def __init__(self, uris: Iterable[str]) -> None:
        self._walk: Future[tuple[HostDevice, ...]] | None = None
        if any(facts_source_for(uri).same_machine for uri in uris):
            pool = ThreadPoolExecutor(1, thread_name_prefix="ztui-udev")
            self._walk = pool.submit(local_udev_devices)
            pool.shutdown(wait=False)

    def for_uri(self, uri: str) -> tuple[HostDevice, ...] | None:
        """The records when `uri`'s host is this machine (waiting for the walk if it is still going), else
        None: that host's facts source has its own."""
        if not facts_source_for(uri).same_machine:
            return None
        if self._walk is None:
            self._walk = Future()
            self._walk.set_result(local_udev_devices())
        return self._walk.result()


def local_inventory(udev: tuple[HostDevice, ...] | None = None) -> Inventory:
    """This machine's own devices (udev) with what it mounts and swaps on itself, for a question about this
    machine alone (a preparation) asked without a libvirt connection."""
    from ztui.host.files import read_system_use

    devices = local_udev_devices() if udev is None else udev
    return build_inventory(devices, local=True, same_machine=True, system=read_system_use())


def read_networks(conn: Any, in_flight: int = 1) -> tuple[NetworkInfo, ...] | None:
    """Every libvirt network (active or not); None when the driver has no network support. Up to
    `in_flight` networks are asked at once (two round trips each)."""
    import libvirt

    from ztui.libvirt.reader import ordered_map

    try:
        nets = conn.listAllNetworks(0)
    except libvirt.libvirtError as exc:
        log.debug("cannot list networks: %s", exc)
        return None

    def one(net: Any) -> NetworkInfo | None:
        try:
            return parse_network(net.XMLDesc(0), active=bool(net.isActive()))
        except libvirt.libvirtError as exc:
            log.debug("network skipped: %s", exc)
            return None

    return tuple(info for info in ordered_map(one, nets, in_flight) if info is not None)


def read_pool_volumes(conn: Any, in_flight: int = 1, root: str | None = None) -> tuple[VolumeInfo, ...]:
    """Every volume of every active pool, each pool listed once (a few calls per pool): looking up each
    disk path instead cost thousands of round trips on a big host. Each volume carries what its pool is
    made of (from the pool's XML), so the tree can follow a remote image down to a device. Up to
    `in_flight` pools are asked at once. `root`: where this process sees the host's files (`/` for this
    machine, the daemon's root for one in a mount namespace of its own on this kernel, None for a remote
    host), to tell which directory pools several hosts share (`VolumeInfo.shared_at`)."""
    import libvirt

    from ztui.libvirt.reader import ordered_map

    try:
        pools = conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
    except libvirt.libvirtError:
        return ()
    return tuple(v for found in ordered_map(lambda pool: _pool_volumes(pool, root), pools, in_flight)
                 for v in found)


def _pool_volumes(pool: Any, root: str | None = None) -> list[VolumeInfo]:
    """One pool's volumes; none when the pool went away or its XML is unreadable."""
    import libvirt

    from ztui.libvirtxml.common import XmlError
    from ztui.libvirtxml.pool import parse_pool

    try:
        volumes = pool.listAllVolumes(0)
        pool_name = str(pool.name())
        desc = parse_pool(pool.XMLDesc(0))
    except (libvirt.libvirtError, XmlError):
        return []
    source = _pool_source(desc.type, desc.hosts, desc.iqn, desc.source_name, desc.source_dir)
    shared_at = _shared_at(desc.type, source, desc.target, root) if desc.holds_files else ""
    # file and block volumes are keyed by their path; no round trip
    return [VolumeInfo(path=str(vol.key()), pool=pool_name, volume=str(vol.name()), pool_type=desc.type,
                       pool_devices=desc.devices, pool_source=source, pool_target=desc.target, shared_at=shared_at)
            for vol in volumes]


def _shared_at(kind: str, source: str, target: str, root: str | None) -> str:
    """Where a pool's files are, in words every host that shares them would use (`VolumeInfo.shared_at`): a
    network pool's source; a directory's device and inode, for a host whose files this process can stat."""
    if source:
        return f"{kind} {source}"
    if root is None or not target.startswith("/"):
        return ""
    import os

    try:
        info = os.stat(root.rstrip("/") + target)
    except OSError:
        return ""
    return f"directory {os.major(info.st_dev)}:{os.minor(info.st_dev)} inode {info.st_ino}"


def files_root(source: FactsSource, uri: str) -> str | None:
    """Where this process sees a host's files: `/` for this machine, a daemon's root for one in a mount
    namespace of its own on this kernel (a lab host), None for a remote host."""
    from ztui.host.place import HostPlace, daemon_root

    if source.place is HostPlace.THIS_MACHINE:
        return "/"
    if source.place is HostPlace.OTHER_NAMESPACE:
        return daemon_root(uri)
    return None


def _pool_source(kind: str, hosts: tuple[str, ...], iqn: str, name: str, directory: str) -> str:
    """A pool's network source in the notation administrators use for it."""
    if not hosts:
        return ""
    if kind.startswith("iscsi"):
        return f"{hosts[0]} {iqn}".strip()
    if kind == "rbd":
        return f"{','.join(hosts)}/{name}".rstrip("/")
    if kind in ("netfs", "gluster"):
        return f"{hosts[0]}:{directory or name}"
    return ",".join(hosts)


def volumes_for(volumes: Iterable[VolumeInfo], guests: Iterable[Guest]) -> tuple[VolumeInfo, ...]:
    """The volumes these guests' disks name, by path or as `pool/volume`."""
    wanted = _volume_paths(guests)
    return tuple(v for v in volumes if v.path in wanted or f"{v.pool}/{v.volume}" in wanted)


def _volume_paths(guests: Iterable[Guest]) -> set[str]:
    return {d.source for g in guests for d in g.devices
            if d.kind in (DeviceKind.DISK, DeviceKind.CDROM, DeviceKind.LUN) and d.source}


def refresh_files(inv: Inventory, guests: Iterable[Guest]) -> Inventory:
    """The inventory with fresh file-system facts for these guests' image paths (examined on this
    machine when the host is in this mount namespace, as recorded when its facts are a snapshot; any other
    host's images are described by its pools' volumes)."""
    source = facts_source_for(inv.uri)
    if source.snapshot is None and not (source.same_machine and source.files_here):
        return inv
    paths = [p for g in guests for p in paths_to_examine(g)]
    return inv.with_files(source.files(paths))


def scan_host(conn: Any, uri: str, guests: Iterable[Guest] = (), *,
              udev: tuple[HostDevice, ...] | None = None) -> Inventory:
    """The whole inventory of the host behind `conn`. `udev` passes records already read (several local
    URIs in one command share one udev walk); by default they are read when the URI is local."""
    guests = tuple(guests)
    return inventory_for(read_host_records(conn, uri, udev=udev, volumes=bool(_volume_paths(guests))), guests)


@dataclass(frozen=True, slots=True)
class HostRecords:
    """What an inventory is built from, as read from the host (udev, libvirt), before any guest is
    looked at: one read can serve several inventories, each for some of the guests."""

    uri: str
    local: bool  # the host shares this machine's kernel and its facts are read live: udev and /sys describe it
    facts: FactsSource  # also says whether its paths are this machine's files (`files_here`)
    udev: tuple[HostDevice, ...]
    node_devices: tuple[HostDevice, ...]
    networks: tuple[NetworkInfo, ...] | None
    pool_volumes: tuple[VolumeInfo, ...]
    system: SystemUse  # what the host itself has mounted and swaps on


def read_host_records(conn: Any, uri: str, *, udev: tuple[HostDevice, ...] | None = None,
                      volumes: bool = True, in_flight: int = 1) -> HostRecords:
    """The host's devices, networks and (unless `volumes` is false) pool volumes. The device records
    beside libvirt's come from the URI's host facts source (`ztui.host.hostfacts.facts_source_for`).
    With `in_flight` above one, the three are read at the same time, each with that many calls under way
    (`ztui.libvirt.reader.spread_for` says how many a host gets: over a network each call is a round trip)."""
    from ztui.libvirt.reader import ordered_map, read_node_devices

    source = facts_source_for(uri)
    reads: list[Callable[[], Any]] = [lambda: read_node_devices(conn, in_flight),
                                      lambda: read_networks(conn, in_flight),
                                      lambda: read_pool_volumes(conn, in_flight, files_root(source, uri))
                                      if volumes else ()]
    node_devices, networks, pool_volumes = ordered_map(lambda read: read(), reads, min(in_flight, len(reads)))
    return HostRecords(uri=uri, local=source.same_machine, facts=source, udev=source.devices(udev),
                       node_devices=node_devices, networks=networks, pool_volumes=pool_volumes,
                       system=source.system_use())


def inventory_for(records: HostRecords, guests: Iterable[Guest]) -> Inventory:
    """The inventory for these guests: the host's records, the volumes they name, their files' facts."""
    guests = tuple(guests)
    inv = build_inventory(records.udev, records.node_devices, local=bool(records.udev), networks=records.networks,
                          volumes=volumes_for(records.pool_volumes, guests), uri=records.uri,
                          same_machine=records.local and records.facts.files_here, system=records.system)
    return refresh_files(inv, guests)


def snapshot_inventory(source: FactsSource, guests: Iterable[Guest]) -> Inventory:
    """The inventory of saved domain XML read against a host-facts snapshot, without any connection."""
    guests = tuple(guests)
    inv = build_inventory(source.devices(), (), local=source.snapshot is not None, uri=None,
                          system=source.system_use())
    return inv.with_files(source.files(p for g in guests for p in paths_to_examine(g)))
