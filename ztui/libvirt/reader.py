"""Reading a whole host from an open libvirt connection into the model.

The cost of a full read is one `XMLDesc` per domain; everything else is batched so it does not grow with
the number of guests: all states come from one `getAllDomainStats` call and persistence from one filtered
`listAllDomains`. Capabilities are never asked for here: on a cold daemon that probes every QEMU binary.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import libvirt

from ztui.bounded import ordered_map
from ztui.host.facts_source import facts_source_for
from ztui.host.place import HostPlace, host_place
from ztui.libvirt.connection import libvirt_reason, uri_of, without_prompts
from ztui.libvirtxml.common import XmlError
from ztui.libvirtxml.domain import parse_domain
from ztui.model import Guest, GuestState, Host

log = logging.getLogger("ztui.libvirt")
T = TypeVar("T")
R = TypeVar("R")


class GuestNotFound(LookupError):
    """A guest named on the command line that the host does not have."""


def read_hostname(conn: libvirt.virConnect) -> str:
    """The host's name, or empty when the driver cannot tell."""
    try:
        return str(conn.getHostname())
    except libvirt.libvirtError as exc:
        log.debug("getHostname failed: %s", libvirt_reason(exc))
        return ""


def _states(conn: libvirt.virConnect, domains: list[libvirt.virDomain]) -> dict[str, GuestState]:
    """All domain states in one RPC; per-domain calls only if the driver lacks the bulk call."""
    states: dict[str, GuestState] = {}
    try:
        for dom, stats in conn.domainListGetStats(domains, libvirt.VIR_DOMAIN_STATS_STATE) if domains else []:
            states[dom.UUIDString()] = GuestState.from_libvirt(int(stats.get("state.state", -1)))
        return states
    except libvirt.libvirtError as exc:
        log.debug("bulk state read failed, reading one by one: %s", libvirt_reason(exc))
    for dom in domains:
        states[dom.UUIDString()] = _state_of(dom)
    return states


def _state_of(dom: libvirt.virDomain) -> GuestState:
    try:
        return GuestState.from_libvirt(dom.state()[0])
    except libvirt.libvirtError:
        return GuestState.UNKNOWN


def _transient_uuids(conn: libvirt.virConnect) -> set[str] | None:
    """The guests without a persistent config (few or none: asking for these rather than for the
    persistent ones keeps the answer small), None when libvirt cannot tell."""
    try:
        return {d.UUIDString() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT)}
    except libvirt.libvirtError:
        return None


def _persistent(uuid: str, transient: set[str] | None) -> bool | None:
    return None if transient is None else uuid not in transient


def read_guest(dom: libvirt.virDomain, state: GuestState | None = None,
               persistent: bool | None = None, *, at_once: bool = False) -> Guest | None:
    """One guest from its live XML; None if it vanished meanwhile (a race with undefine). `at_once`: the
    XML, state and persistence are asked at the same time, one round trip to a host far away instead of
    three (`Spread.overlap`)."""
    try:
        if at_once and (state is None or persistent is None):
            with ThreadPoolExecutor(2, thread_name_prefix="ztui-guest") as beside:
                asked_state = beside.submit(dom.state) if state is None else None
                asked_persistent = beside.submit(dom.isPersistent) if persistent is None else None
                xml = _live_xml(dom)
                if asked_state is not None:
                    state = GuestState.from_libvirt(asked_state.result()[0])
                if asked_persistent is not None:
                    persistent = bool(asked_persistent.result())
        else:
            xml = _live_xml(dom)
            if xml is None:
                return None
            if state is None:
                state = GuestState.from_libvirt(dom.state()[0])
            if persistent is None:
                persistent = bool(dom.isPersistent())
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return None
        raise
    if xml is None:
        return None
    return _guest_from_xml(str(dom.UUIDString()), str(dom.name()), xml, state, persistent)


def _guest_from_xml(uuid: str, name: str, xml: str, state: GuestState | None,
                    persistent: bool | None) -> Guest:
    try:
        return parse_domain(xml, state=state, persistent=persistent, what=f"XML of guest {name}")
    except XmlError as exc:
        log.warning("%s", exc)
        return Guest(name=name, uuid=uuid, state=state, persistent=persistent, warnings=(str(exc),))


def list_domains(conn: libvirt.virConnect, names: Iterable[str] | None = None) -> list[libvirt.virDomain]:
    """All domains, or the named ones in the order given (GuestNotFound names the first missing one)."""
    if not names:
        return list(conn.listAllDomains(0))
    found = []
    for name in names:
        try:
            found.append(conn.lookupByName(name))
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                raise GuestNotFound(f"no guest named '{name}' on {uri_of(conn)}") from None
            raise
    return found


def read_guests(conn: libvirt.virConnect, names: Iterable[str] | None = None, *, listing: Listing | None = None,
                spare: list[SpareConnection] | None = None) -> tuple[Guest, ...]:
    """Every guest (or the named ones, in the order named) with state and persistence, sorted by name.
    `listing` and `spare` as for `fetch_guests`."""
    if listing is None:
        listing = list_host(conn, names)
    spread = spread_for(uri_of(conn), len(listing))
    if not spread.overlap:
        return guests_from_fetched(fetch_guests(conn, names, listing=listing, spare=spare), by_name=not names)
    names_of = dict(listing.idents)

    def each(dom: libvirt.virDomain) -> Guest | None:
        xml = _live_xml(dom)
        if xml is None:
            return None
        uuid = str(dom.UUIDString())  # the same on every connection's handle, and known without a call
        return _guest_from_xml(uuid, names_of[uuid], xml, listing.states.get(uuid),
                               _persistent(uuid, listing.transient))

    guests = [g for g in _fetch_each(listing.domains, conn, spread, each, spare) if g is not None]
    if not names:
        guests.sort(key=lambda g: g.name)
    return tuple(guests)


@dataclass(frozen=True, slots=True)
class FetchedGuest:
    """One guest's live XML and what libvirt says of it beside the XML, not parsed yet."""

    uuid: str
    name: str
    state: GuestState | None
    persistent: bool | None
    xml: str


@dataclass(frozen=True, slots=True)
class Listing:
    """A host's domains with their states and persistence, from three calls whatever their number: what the
    guest list shows first and what the full read fetches the XML of, asked once for both."""

    domains: list[libvirt.virDomain]
    idents: list[tuple[str, str]]  # (UUID, name) of each domain, in the same order
    states: dict[str, GuestState]
    transient: set[str] | None

    def __len__(self) -> int:
        return len(self.domains)


def list_host(conn: libvirt.virConnect, names: Iterable[str] | None = None) -> Listing:
    """Every domain (or the named ones) with its state and persistence, in libvirt's order or as named."""
    domains = list_domains(conn, names)
    states = _states(conn, domains)
    transient = _transient_uuids(conn)
    # asked before any fetching starts: see _fetch_each
    idents = [(str(dom.UUIDString()), str(dom.name())) for dom in domains]
    for dom, (uuid, _) in zip(domains, idents, strict=True):
        if uuid not in states:  # defined after the bulk call, or left out of it: asked alone
            states[uuid] = _state_of(dom)
    return Listing(domains, idents, states, transient)


def fetch_guests(conn: libvirt.virConnect, names: Iterable[str] | None = None, *,
                 listing: Listing | None = None,
                 spare: list[SpareConnection] | None = None) -> list[FetchedGuest]:
    """Every guest's (or the named ones') XML, state and persistence, in libvirt's order or as named.
    Guests that vanish meanwhile are left out. `listing` is the host's listing when already asked for;
    `spare` the extra connections to spread the fetches over (by default opened here when they pay)."""
    if listing is None:
        listing = list_host(conn, names)
    xmls = _fetch_each(listing.domains, conn, spread_for(uri_of(conn), len(listing)), _live_xml, spare)
    return [FetchedGuest(uuid, name, listing.states.get(uuid), _persistent(uuid, listing.transient), xml)
            for (uuid, name), xml in zip(listing.idents, xmls, strict=True) if xml is not None]


def guests_from_fetched(fetched: Iterable[FetchedGuest], *, by_name: bool) -> tuple[Guest, ...]:
    """The guests of fetched XML, in the order fetched or sorted by name."""
    guests = [guest_from_fetched(f) for f in fetched]
    if by_name:
        guests.sort(key=lambda g: g.name)
    return tuple(guests)


def guest_from_fetched(fetched: FetchedGuest) -> Guest:
    return _guest_from_xml(fetched.uuid, fetched.name, fetched.xml, fetched.state, fetched.persistent)


# Fetching one domain's XML is a round trip to the daemon in which this process only waits, and libvirt
# lets go of the GIL meanwhile: several fetches in flight let the daemon use every core, and the parsing
# starts when all are in. (Parsing while fetching was slower: the parser holds the GIL, and each fetching
# thread waited for it once per result.) Each fetching thread makes one libvirt call per domain; UUIDs and
# names are asked before they start.
_SERIAL_BELOW = 16


@dataclass(frozen=True, slots=True)
class Spread:
    """How a host's reads are spread: over `connections` connections in all (the first included), with
    `in_flight` calls under way on each. `overlap`: every call is a round trip worth hiding behind another,
    so the host's device records are read while the guests' XML is fetched (not after it), each document is
    parsed by the thread that fetched it (not once all are in), and the event registrations are made at
    once (not one after the other). `records_in_flight`: the calls under way for the host's device records
    (node devices, networks, volumes), beside the guests' fetch."""

    connections: int
    in_flight: int
    overlap: bool
    records_in_flight: int = 1


# A daemon works on at most `max_client_requests` calls of one client at a time (5 by default), but that
# bounds its work, not the wire: further calls wait in the socket and are taken up as soon as one is done,
# without another round trip. Near, six calls in flight already keep the daemon busy. Far, every call
# waits a round trip, so what counts is how many are under way in all. Measured at 20 ms round trip,
# fetching 1000 guests' XML: 4.6 s with 5 calls in flight on one connection, 2.4 s with 10, 0.58 s with
# 40; 1.03 s on 4 connections of 5, 0.57 s on 8 of 5, 0.43 s on 4 of 16, 0.33 s on 8 of 12. Parsing then takes
# more CPU than the fetching waits, so beyond that no spread is faster (0.8 to 0.9 s to fetch and parse
# with any of them): four connections (each costs the daemon a client, over ssh a process) with sixteen
# calls in flight on each, which also spreads the daemon's work over several clients.
# A host's device records are hundreds of small documents, one call each (a z16 LPAR's subchannels, its
# mdevs, its APQNs: 700 node devices for a hundred guests' worth): measured at 20 ms, 1.2 s with 16 calls
# under way, 0.69 s with 32, 0.38 s with 64, 0.32 s with 128. So a far host read alone has 64 under way for
# them. Several far hosts read at once share the threads: `_FAR_CALLS` in all, at least 16 each.
_NEAR = Spread(connections=1, in_flight=6, overlap=False)
_FAR_CONNECTIONS = 4
_FAR_IN_FLIGHT = 16
_FAR_RECORDS_IN_FLIGHT = 64
_FAR_CALLS = 256
_SPREAD_FROM = 64
_far_at_once = 1


def read_at_once(uris: Iterable[str]) -> None:
    """The hosts this process reads at the same time (the TUI's sessions, `tree --json` over a fleet): with
    more than one of them far away, `spread_for` gives each one connection."""
    global _far_at_once
    _far_at_once = max(1, sum(1 for uri in uris if host_place(uri) is HostPlace.REMOTE))


def spread_for(uri: str, guests: int) -> Spread:
    """The one answer to how a read of `guests` guests on `uri` is spread. A host this machine reaches
    without a network (the test driver, a unix socket, a lab host) is read over one connection; a remote
    host gets extra connections when it has enough guests to fill them (and is the only far host read at
    the time: `read_at_once`), and its reads overlap: the fetching threads wait a round trip per document,
    time in which the parsing of the others and the reading of the device records fit (near, the fetches
    would only wait for the parser's hold on the GIL; measured at 20 ms, 1000 guests: fetching and parsing
    took 1.4 s one after the other, 1.2 s overlapped)."""
    if host_place(uri) is not HostPlace.REMOTE:
        return _NEAR
    # several hosts read at once keep calls enough under way between them: an extra connection would only
    # cost each daemon another client (a process, over ssh) and this process the CPU of its listing
    connections = _FAR_CONNECTIONS if guests >= _SPREAD_FROM and _far_at_once == 1 else 1
    records = max(_FAR_IN_FLIGHT, min(_FAR_RECORDS_IN_FLIGHT, _FAR_CALLS // _far_at_once))
    return Spread(connections=connections, in_flight=_FAR_IN_FLIGHT, overlap=True, records_in_flight=records)


@dataclass(frozen=True, slots=True)
class SpareConnection:
    """An extra read-only connection to a host with its own handles of the host's domains, by UUID: a
    domain handle belongs to the connection it was listed on, and one listing gives them all."""

    conn: libvirt.virConnect
    handles: dict[str, libvirt.virDomain]

    @classmethod
    def listing(cls, conn: libvirt.virConnect) -> SpareConnection:
        """`conn` with its domains listed (none when the listing fails: the first connection's handles are
        used instead)."""
        try:
            handles = {str(d.UUIDString()): d for d in conn.listAllDomains(0)}
        except libvirt.libvirtError as exc:
            log.debug("extra connection cannot list domains: %s", libvirt_reason(exc))
            handles = {}
        return cls(conn, handles)


def open_spare(conn: libvirt.virConnect, spread: Spread) -> list[SpareConnection]:
    """The extra read-only connections `spread` asks for, opened and listed at the same time (each open is
    a few round trips); fewer, or none, when the daemon refuses some: one connection is enough to read, more
    only make it faster. Domains defined after a listing are fetched through the first connection."""
    wanted = spread.connections - 1
    if wanted <= 0:
        return []
    uri = uri_of(conn)
    quiet = without_prompts(uri)

    def one(_: int) -> SpareConnection | None:
        try:
            return SpareConnection.listing(libvirt.openReadOnly(quiet))
        except libvirt.libvirtError as exc:
            log.debug("no extra connection to %s: %s", uri, libvirt_reason(exc))
            return None

    return [c for c in ordered_map(one, range(wanted), wanted) if c is not None]


def close_spare(spare: Iterable[SpareConnection], *, wait: bool = True) -> None:
    """Close the extra connections; without `wait`, in a thread of their own (each close is a round
    trip to a host far away, and nothing waits for its answer)."""
    spare = list(spare)

    def close() -> None:
        for other in spare:
            with contextlib.suppress(libvirt.libvirtError):
                other.conn.close()

    if wait or not spare:
        close()
    else:
        threading.Thread(target=close, name="ztui-close-spare", daemon=True).start()


def _fetch_each(domains: list[libvirt.virDomain], conn: libvirt.virConnect, spread: Spread,
                each: Callable[[libvirt.virDomain], T], spare: list[SpareConnection] | None = None) -> list[T]:
    """`each` of every domain (a fetch of its XML, with or without the parsing), in order, spread as
    `spread` says. Without `spare` connections given, those the spread asks for are opened here and closed
    after."""
    if len(domains) < _SERIAL_BELOW:
        return [each(dom) for dom in domains]
    if spare is not None:
        return _fetch_spread(domains, spare, spread.in_flight, each)
    opened = open_spare(conn, spread)
    try:
        return _fetch_spread(domains, opened, spread.in_flight, each)
    finally:
        close_spare(opened, wait=False)


def _live_xml(dom: libvirt.virDomain) -> str | None:
    try:
        return str(dom.XMLDesc(0))
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return None
        raise


def _fetch_on(domains: list[libvirt.virDomain], fetchers: int = _NEAR.in_flight,
              each: Callable[[libvirt.virDomain], Any] = _live_xml) -> list[Any]:
    return ordered_map(each, domains, fetchers)


def _fetch_spread(domains: list[libvirt.virDomain], extra: list[SpareConnection],
                  fetchers: int = _NEAR.in_flight,
                  each: Callable[[libvirt.virDomain], Any] = _live_xml) -> list[Any]:
    """Every n-th domain fetched through the n-th connection (its own handle for it); domains another
    connection did not list are fetched through the first."""
    if not extra:
        return _fetch_on(domains, fetchers, each)
    width = len(extra) + 1

    def group(index: int) -> list[Any]:
        mine = domains[index::width]
        if index:
            handles = extra[index - 1].handles
            mine = [handles.get(str(d.UUIDString()), d) for d in mine]
        return _fetch_on(mine, fetchers, each)

    parts = ordered_map(group, range(width), width)
    out: list[Any] = [None] * len(domains)
    for i, part in enumerate(parts):
        out[i::width] = part
    return out


def read_guest_summaries(conn: libvirt.virConnect, listing: Listing | None = None) -> tuple[Guest, ...]:
    """Every guest's name, UUID, state and persistence from three calls, whatever the number of guests,
    without any XML: what a big host shows first while the devices are still being read."""
    if listing is None:
        listing = list_host(conn)
    return tuple(sorted((Guest(name=name, uuid=uuid, state=listing.states.get(uuid),
                               persistent=_persistent(uuid, listing.transient))
                         for uuid, name in listing.idents), key=lambda g: g.name))


def host_header(conn: libvirt.virConnect, uri: str, hostname: str | None = None) -> Host:
    """The host without its guests: its URI, its name (`hostname` when known) and where its host facts come
    from when they are not read live here."""
    return Host(uri=uri, hostname=read_hostname(conn) if hostname is None else hostname,
                facts=facts_source_for(uri).label, connected=True)


def read_host(conn: libvirt.virConnect, uri: str, names: Iterable[str] | None = None, *,
              listing: Listing | None = None,
              spare: list[SpareConnection] | None = None, hostname: str | None = None) -> Host:
    """A full snapshot of one host (`listing` and `spare` as for `fetch_guests`; `hostname` when known)."""
    return replace(host_header(conn, uri, hostname), guests=read_guests(conn, names, listing=listing, spare=spare))
