"""How `ztui tree` reads its hosts in one process: each host in a thread of its own (a host mostly waits for
its daemon, so many wait at once), a host that does not answer holding up no other, the named guests looked
for on every host, and several hosts' volumes joined before anything is shown (`ztui.host.volumes`). A big
host's JSON may be worked out by two processes (`ztui.cli.tree_split`); a fleet's by one process a CPU
(`ztui.cli.tree_fleet`, which reads its share of the hosts here)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import libvirt

from ztui.cli.tree_split import host_json, resolved_host
from ztui.host.scan import LocalUdev
from ztui.host.volumes import decorate_hosts
from ztui.libvirt.connection import ConnectError, libvirt_reason, open_within
from ztui.libvirt.link import HostLink
from ztui.libvirt.pipeline import read_resolved
from ztui.libvirt.reader import GuestNotFound, read_at_once
from ztui.model import Host
from ztui.report.tree_json import host_json_compact


@dataclass(frozen=True, slots=True)
class EncodedHost:
    """A host already encoded as compact JSON (`tree_split.host_json`, which may split the work between two
    processes): printed as it is, never parsed back."""

    text: str


HOSTS_AT_ONCE = 16
"""Hosts read at the same time by one process: each read mostly waits for its host, so many overlap; the
parsing they then all do takes turns on one CPU (see `ztui.cli.tree_fleet` for the other CPUs)."""


@dataclass(frozen=True, slots=True)
class HostRead:
    """One host as read: the host (None when it is left out: it has none of the named guests, or they went
    away during the read), its error lines, whether it was asked for the named guests, and which it has."""

    host: Host | EncodedHost | None
    errors: list[str]
    asked: bool = False
    found: tuple[str, ...] = ()


def read_hosts_here(uris: list[str], readonly: bool, names: list[str], as_json: bool = False) -> list[HostRead]:
    """The hosts read in this process: one thread per host (up to `HOSTS_AT_ONCE`)."""
    read_at_once(uris)
    udev = LocalUdev(uris)
    if len(uris) == 1:  # only then may a big host's read fork (never beside threads inside libvirt)
        return [read_one_host(uris[0], readonly, names, as_json, udev, alone=True)]
    with ThreadPoolExecutor(min(len(uris), HOSTS_AT_ONCE), thread_name_prefix="ztui-host") as pool:
        reads = list(pool.map(lambda uri: read_one_host(uri, readonly, names, as_json, udev), uris))
    hosts = iter(joined([r.host for r in reads if r.host is not None], as_json))
    return [replace(r, host=next(hosts)) if r.host is not None else r for r in reads]


def joined(hosts: list[Host | EncodedHost], as_json: bool) -> list[Host | EncodedHost]:
    """Several hosts with their volumes joined (`ztui.host.volumes`: where else each volume is, who writes
    it on another host), then encoded when JSON text was asked for."""
    models = decorate_hosts([h for h in hosts if isinstance(h, Host)])
    out: list[Host | EncodedHost] = []
    for host in models:
        out.append(EncodedHost(host_json_compact(host)) if as_json and host.connected else host)
    return out


def read_one_host(uri: str, readonly: bool, names: list[str], as_json: bool, udev: LocalUdev,
                  alone: bool = False) -> HostRead:
    """One host read (or why not, as a disconnected host), with its error lines: as JSON text when it is read
    alone (`as_json`), else as a model (its volumes are joined with the other hosts' first)."""
    try:
        conn = open_within(uri, readonly=readonly)
    except ConnectError as exc:
        return HostRead(Host(uri=uri, connected=False, error=exc.summary), [str(exc)])
    present = names
    link = HostLink(uri, conn)
    try:
        if names:
            present = guests_present(conn, names)
            if not present:
                return HostRead(None, [], asked=True)
        host: Host | EncodedHost
        if as_json and alone:
            host = EncodedHost(host_json(link, present, udev.for_uri(uri), split=True))
        elif as_json:
            host = resolved_host(link, present, udev.for_uri(uri))
        else:
            host = read_resolved(link, present or None, udev=udev.for_uri(uri)).host
        return HostRead(host, [], asked=bool(names), found=tuple(present))
    except GuestNotFound as exc:  # undefined between the look and the read
        return HostRead(None, [str(exc)], asked=True, found=tuple(present))
    except libvirt.libvirtError as exc:
        return HostRead(Host(uri=uri, connected=False, error=libvirt_reason(exc)),
                        [f"reading {uri} failed: {libvirt_reason(exc)}"])
    finally:
        conn.close()


def guests_present(conn: libvirt.virConnect, names: list[str]) -> list[str]:
    """The names, in the order given, of the guests this host has (one lookup each)."""
    present = []
    for name in dict.fromkeys(names):
        try:
            conn.lookupByName(name)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise
        else:
            present.append(name)
    return present
