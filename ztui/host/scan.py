"""One host's inventory from its records: udev (local hosts), libvirt's node devices, networks and volumes
(`ztui.libvirt.hostrecords` reads those), and the files its guests use.

Which of these a host gets is its facts source's answer (`ztui.host.facts_source.facts_source_for`): udev
for a host on this machine's kernel, a snapshot's records for a host known by its facts (the lab's
simulated Z hosts), this machine's file system only for a host in this process's own mount namespace (a lab
host in its own mount namespace and a remote host have their images described by their storage pools).

The I/O here is udev's walk and the file system's facts; everything is handed to
`ztui.host.inventory.build_inventory`. The resolver never does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from ztui.host.facts_source import FactsSource, facts_source_for, local_udev_devices
from ztui.host.files import read_system_use
from ztui.host.index import VolumeInfo
from ztui.host.inventory import Inventory, build_inventory
from ztui.host.resolve import paths_to_examine
from ztui.host.system import SystemUse
from ztui.model import DeviceKind, Guest, HostDevice, NetworkInfo


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
    devices = local_udev_devices() if udev is None else udev
    return build_inventory(devices, local=True, same_machine=True, system=read_system_use())


def volumes_for(volumes: Iterable[VolumeInfo], guests: Iterable[Guest]) -> tuple[VolumeInfo, ...]:
    """The volumes these guests' disks name, by path or as `pool/volume`."""
    wanted = volume_paths(guests)
    return tuple(v for v in volumes if v.path in wanted or f"{v.pool}/{v.volume}" in wanted)


def volume_paths(guests: Iterable[Guest]) -> set[str]:
    """The sources of these guests' disks: what a host's storage volumes are looked up by."""
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
