"""A host as every view shows it, built one way: read → scan → resolve.

Its guests are read (`ztui.libvirt.reader`), its records — node devices, networks, storage volumes, and the
device records and system use its facts source adds — are read (`ztui.libvirt.hostrecords`) and made an
inventory (`ztui.host.scan`), and every guest's backing chains are resolved against that inventory, with a
warning on each device that two running guests share (`ztui.host.resolve`). `ztui tree`, `ztui hostdevs`,
a preparation and the TUI's sessions all read a host here. Joining several hosts' volumes
(`ztui.host.volumes`) needs every host read first, so it is done by whoever read them.

A host far away answers each call after a round trip: its records are then read while its guests are
fetched, not after (`ztui.libvirt.reader.spread_for` says which hosts are far). A failure to read the
records costs the chains, never the guests: the host comes back as read, and `Resolved.lost` says why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

import libvirt

from ztui.host.inventory import Inventory, build_inventory
from ztui.host.resolve import resolve_host
from ztui.host.scan import HostRecords, inventory_for, volume_paths
from ztui.libvirt.connection import libvirt_reason
from ztui.libvirt.hostrecords import read_host_records
from ztui.libvirt.link import HostLink
from ztui.libvirt.reader import (
    FetchedGuest,
    Listing,
    SpareConnection,
    fetch_guests,
    host_header,
    list_host,
    read_guests,
    spread_for,
)
from ztui.model import Guest, Host, HostDevice

log = logging.getLogger("ztui.libvirt.pipeline")


@dataclass(frozen=True, slots=True)
class Resolved:
    """One host read: every guest with its backing chains and sharing warnings (`host`), the inventory they
    were resolved against (None without chains), the same host as read before any chain (`read`: what a later
    resolve starts from, so that no warning is added twice), and why the chains are missing when they were
    asked for and could not be had (`lost`)."""

    host: Host
    inventory: Inventory | None
    read: Host
    lost: str = ""


def scan_host(link: HostLink, guests: Iterable[Guest] = (), *,
              udev: tuple[HostDevice, ...] | None = None) -> Inventory:
    """The inventory of the linked host for these guests. `udev` passes records already read (several
    local URIs in one command share one udev walk); by default they are read when the URI is local."""
    guests = tuple(guests)
    return inventory_for(read_host_records(link.conn, link.uri, udev=udev, volumes=bool(volume_paths(guests))),
                         guests)


def resolve(host: Host, records: HostRecords) -> Resolved:
    """A host already read, its chains resolved against an inventory of these records."""
    inventory = inventory_for(records, host.guests)
    return Resolved(resolve_host(host, inventory), inventory, host)


def with_chains(link: HostLink, host: Host, *, udev: tuple[HostDevice, ...] | None = None,
                records: HostRecords | None = None) -> Resolved:
    """A host already read with its chains: its records read now unless given (`udev`: this machine's records
    when already walked, see `ztui.libvirt.hostrecords.read_host_records`). A daemon that fails meanwhile, or
    a file that cannot be examined, costs the chains: the host comes back as it was read."""
    try:
        if records is not None:
            return resolve(host, records)
        inventory = scan_host(link, host.guests, udev=udev)
        return Resolved(resolve_host(host, inventory), inventory, host)
    except (libvirt.libvirtError, OSError) as exc:
        reason = libvirt_reason(exc) if isinstance(exc, libvirt.libvirtError) else str(exc)
        log.warning("%s: backing chains not resolved: %s", link.uri, reason)
        return Resolved(host, None, host, reason)


def read_resolved(link: HostLink, names: Iterable[str] | None = None, *,
                  udev: tuple[HostDevice, ...] | None = None, backing: bool = True, listing: Listing | None = None,
                  spare: Callable[[], list[SpareConnection]] | None = None,
                  hostname: str | None = None) -> Resolved:
    """The linked host with every guest (or the named ones, in the order named) and, unless `backing`
    is false, their chains. `listing` when the host was listed already; `spare`: what gives the extra
    connections to fetch the guests over, called once the records are under way (by default the reader opens
    those the spread asks for); `hostname` when known. The guests' read raises what libvirt raises (a host
    that cannot be read at all is the caller's to report); the records' read only costs the chains."""
    conn, uri = link.conn, link.uri
    listing = list_host(conn, names) if listing is None else listing
    spread = spread_for(uri, len(listing))
    with ThreadPoolExecutor(1, thread_name_prefix="ztui-records") as beside:
        early = (beside.submit(read_host_records, conn, uri, udev=udev, in_flight=spread.records_in_flight)
                 if backing and spread.overlap else None)
        extra = spare() if spare is not None else None
        host = replace(host_header(conn, uri, hostname),
                       guests=read_guests(conn, names, listing=listing, spare=extra))
        records = _records_read_beside(uri, early)
    if not backing:
        return Resolved(host, None, host)
    return with_chains(link, host, udev=udev, records=records)


def read_unparsed(link: HostLink, names: Sequence[str],
                  udev: tuple[HostDevice, ...] | None) -> tuple[Host, HostRecords | None, list[FetchedGuest]]:
    """The host without its guests, its records, and its guests' XML not parsed yet, in name order unless
    named: for a reader that parses and resolves them in parts (`ztui.cli.tree_split`). The records are read
    while the XML is fetched — both mostly wait for the daemon — with as many calls under way as the host's
    spread gives them; a failure to read them costs the chains (None)."""
    conn, uri = link.conn, link.uri
    host = host_header(conn, uri)
    # far away each of the records' calls is a round trip, so several are under way; near, those threads
    # would only wait for each other's parsing (a test-driver host's 7000 node devices: 10 % slower)
    with ThreadPoolExecutor(1, thread_name_prefix="ztui-records") as beside:
        reading = beside.submit(read_host_records, conn, uri, udev=udev,
                                in_flight=spread_for(uri, 0).records_in_flight)
        fetched = fetch_guests(conn, names or None)
        try:
            records: HostRecords | None = reading.result()
        except libvirt.libvirtError as exc:  # the chains are lost, never the tree
            log.warning("%s: backing chains not resolved: %s", uri, libvirt_reason(exc))
            records = None
    if not names:
        fetched.sort(key=lambda f: f.name)
    return host, records, fetched


def _records_read_beside(uri: str, reading: Future[HostRecords] | None) -> HostRecords | None:
    """The records read beside the guests; None when none were, or their read failed (then they are read
    again after the guests)."""
    if reading is None:
        return None
    try:
        return reading.result()
    except (libvirt.libvirtError, OSError) as exc:
        log.info("%s: host records not read beside the guests: %s", uri, exc)
        return None


def read_inventory(link: HostLink, *, in_flight: int = 8) -> Inventory | None:
    """A host's inventory without its guests: its devices with its host facts folded in, its networks and
    every pool volume (a disk may be at another path there), for judging whether a guest fits there; None
    when libvirt cannot tell."""
    try:
        records = read_host_records(link.conn, link.uri, in_flight=in_flight)
    except libvirt.libvirtError:
        return None
    return build_inventory(records.udev, records.node_devices, local=bool(records.udev), networks=records.networks,
                           volumes=records.pool_volumes, uri=link.uri, system=records.system)
