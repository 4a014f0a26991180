"""A host's records as libvirt gives them: node devices, networks and storage volumes, with the device
records and system use its facts source adds (`ztui.host.facts_source.facts_source_for`).

Over a network each of these calls is a round trip, so a host far away has several under way at a time
(`ztui.libvirt.reader.spread_for` says how many). What is read here is handed to
`ztui.host.scan.inventory_for`, which builds the inventory without any I/O of its own.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import libvirt

from ztui.bounded import ordered_map
from ztui.host.facts_source import FactsSource, facts_source_for
from ztui.host.index import VolumeInfo
from ztui.host.place import HostPlace, daemon_root
from ztui.host.scan import HostRecords
from ztui.libvirt.connection import libvirt_reason
from ztui.libvirtxml.common import XmlError
from ztui.libvirtxml.network import parse_network
from ztui.libvirtxml.nodedev import parse_nodedevs
from ztui.libvirtxml.pool import parse_pool
from ztui.model import HostDevice, NetworkInfo

log = logging.getLogger("ztui.libvirt")


def read_node_devices(conn: libvirt.virConnect, in_flight: int = 1) -> tuple[HostDevice, ...]:
    """libvirt's node devices (works over remote connections, where udev is out of reach), with up to
    `in_flight` XMLDesc calls under way: a host far away has hundreds of devices, each a round trip."""
    try:
        node_devices = conn.listAllDevices(0)
    except libvirt.libvirtError as exc:
        log.warning("cannot list node devices: %s", libvirt_reason(exc))
        return ()

    def fetch(dev: libvirt.virNodeDevice) -> tuple[str, str] | None:
        try:
            return str(dev.name()), str(dev.XMLDesc(0))
        except libvirt.libvirtError as exc:
            log.warning("node device %s skipped: %s", dev.name(), exc)
            return None

    # by name: libvirt lists them in hash-table order, and records that share an id (two `/dev/sda` on
    # the test driver) must merge the same way every time
    ordered = sorted(node_devices, key=lambda d: str(d.name()))
    fetched = [f for f in ordered_map(fetch, ordered, in_flight) if f is not None]
    devices = []
    for (name, _), read in zip(fetched, parse_nodedevs(xml for _, xml in fetched), strict=True):
        if isinstance(read, XmlError):
            log.warning("node device %s skipped: %s", name, read)
        else:
            devices.append(read)
    return tuple(devices)


def read_networks(conn: libvirt.virConnect, in_flight: int = 1) -> tuple[NetworkInfo, ...] | None:
    """Every libvirt network (active or not); None when the driver has no network support. Up to
    `in_flight` networks are asked at once (two round trips each)."""
    try:
        nets = conn.listAllNetworks(0)
    except libvirt.libvirtError as exc:
        log.debug("cannot list networks: %s", exc)
        return None

    def one(net: libvirt.virNetwork) -> NetworkInfo | None:
        try:
            return parse_network(net.XMLDesc(0), active=bool(net.isActive()))
        except libvirt.libvirtError as exc:
            log.debug("network skipped: %s", exc)
            return None

    return tuple(info for info in ordered_map(one, nets, in_flight) if info is not None)


def read_pool_volumes(conn: libvirt.virConnect, in_flight: int = 1, root: str | None = None) -> tuple[VolumeInfo, ...]:
    """Every volume of every active pool, each pool listed once (a few calls per pool): looking up each
    disk path instead cost thousands of round trips on a big host. Each volume carries what its pool is
    made of (from the pool's XML), so the tree can follow a remote image down to a device. Up to
    `in_flight` pools are asked at once. `root`: where this process sees the host's files (`/` for this
    machine, the daemon's root for one in a mount namespace of its own on this kernel, None for a remote
    host), to tell which directory pools several hosts share (`VolumeInfo.shared_at`)."""
    try:
        pools = conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
    except libvirt.libvirtError:
        return ()
    return tuple(v for found in ordered_map(lambda pool: _pool_volumes(pool, root), pools, in_flight)
                 for v in found)


def _pool_volumes(pool: libvirt.virStoragePool, root: str | None = None) -> list[VolumeInfo]:
    """One pool's volumes; none when the pool went away or its XML is unreadable."""
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
    try:
        info = os.stat(root.rstrip("/") + target)
    except OSError:
        return ""
    return f"directory {os.major(info.st_dev)}:{os.minor(info.st_dev)} inode {info.st_ino}"


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


def files_root(source: FactsSource, uri: str) -> str | None:
    """Where this process sees a host's files: `/` for this machine, a daemon's root for one in a mount
    namespace of its own on this kernel (a lab host), None for a remote host."""
    if source.place is HostPlace.THIS_MACHINE:
        return "/"
    if source.place is HostPlace.OTHER_NAMESPACE:
        return daemon_root(uri)
    return None


def read_host_records(conn: libvirt.virConnect, uri: str, *, udev: tuple[HostDevice, ...] | None = None,
                      volumes: bool = True, in_flight: int = 1) -> HostRecords:
    """The host's devices, networks and (unless `volumes` is false) pool volumes. The device records
    beside libvirt's come from the URI's host facts source (`ztui.host.facts_source.facts_source_for`).
    With `in_flight` above one, the three are read at the same time, each with that many calls under way
    (`ztui.libvirt.reader.spread_for` says how many a host gets: over a network each call is a round trip)."""
    source = facts_source_for(uri)
    reads: list[Callable[[], Any]] = [lambda: read_node_devices(conn, in_flight),
                                      lambda: read_networks(conn, in_flight),
                                      lambda: read_pool_volumes(conn, in_flight, files_root(source, uri))
                                      if volumes else ()]
    node_devices, networks, pool_volumes = ordered_map(lambda read: read(), reads, min(in_flight, len(reads)))
    return HostRecords(uri=uri, local=source.same_machine, facts=source, udev=source.devices(udev),
                       node_devices=node_devices, networks=networks, pool_volumes=pool_volumes,
                       system=source.system_use())
