"""Reading a whole host from an open libvirt connection into the model.

The cost of a full read is one `XMLDesc` per domain; everything else is batched so it does not grow with
the number of guests: all states come from one `getAllDomainStats` call and persistence from one filtered
`listAllDomains`. Capabilities are never asked for here: on a cold daemon that probes every QEMU binary.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import libvirt

from ztui.libvirt.connection import libvirt_reason
from ztui.libvirtxml.common import XmlError
from ztui.libvirtxml.domain import parse_domain
from ztui.model import Guest, GuestState, Host, HostDevice

log = logging.getLogger("ztui.libvirt")


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
               persistent: bool | None = None) -> Guest | None:
    """One guest from its live XML; None if it vanished meanwhile (a race with undefine)."""
    try:
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
                raise GuestNotFound(f"no guest named '{name}' on {conn.getURI()}") from None
            raise
    return found


def read_guests(conn: libvirt.virConnect, names: Iterable[str] | None = None) -> tuple[Guest, ...]:
    """Every guest (or the named ones) with state and persistence, sorted by name."""
    return guests_from_fetched(fetch_guests(conn, names), by_name=not names)


@dataclass(frozen=True, slots=True)
class FetchedGuest:
    """One guest's live XML and what libvirt says of it beside the XML, not parsed yet."""

    uuid: str
    name: str
    state: GuestState | None
    persistent: bool | None
    xml: str


def fetch_guests(conn: libvirt.virConnect, names: Iterable[str] | None = None) -> list[FetchedGuest]:
    """Every guest's (or the named ones') XML, state and persistence, in libvirt's order or as named.
    Guests that vanish meanwhile are left out."""
    domains = list_domains(conn, names)
    states = _states(conn, domains)
    transient = _transient_uuids(conn)
    # asked before the fetching starts: see _fetch_xmls
    idents = [(str(dom.UUIDString()), str(dom.name())) for dom in domains]
    for dom, (uuid, _) in zip(domains, idents, strict=True):
        if uuid not in states:  # defined after the bulk call, or left out of it: asked alone
            states[uuid] = _state_of(dom)
    return [FetchedGuest(uuid, name, states.get(uuid), _persistent(uuid, transient), xml)
            for (uuid, name), xml in zip(idents, _fetch_xmls(domains, conn), strict=True) if xml is not None]


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
_FETCHERS = 6
_SERIAL_BELOW = 16


def _fetch_xmls(domains: list[libvirt.virDomain], conn: libvirt.virConnect | None = None) -> list[str | None]:
    """The live XML of each domain (None if it vanished meanwhile), in order."""
    if len(domains) < _SERIAL_BELOW:
        return [_live_xml(dom) for dom in domains]
    extra = _extra_connections(conn, len(domains))
    try:
        if not extra:
            return _fetch_on(domains)
        return _fetch_spread(domains, extra)
    finally:
        for other in extra:
            with contextlib.suppress(libvirt.libvirtError):
                other.close()


def _fetch_on(domains: list[libvirt.virDomain], fetchers: int = _FETCHERS) -> list[str | None]:
    pool = ThreadPoolExecutor(fetchers, thread_name_prefix="ztui-xml")
    try:
        return list(pool.map(_live_xml, domains))
    finally:  # after a failed fetch, the fetches not yet started are cancelled
        pool.shutdown(wait=True, cancel_futures=True)


# A remote daemon serves only a few requests in flight per client (`max_client_requests`, 5 by default), so
# over a network each round trip holds up the next five fetches: for a host far away the fetches are spread
# over a few more read-only connections, each with its own requests in flight.
_REMOTE_CONNECTIONS = 4
_SPREAD_FROM = 64


def _extra_connections(conn: libvirt.virConnect | None, count: int) -> list[libvirt.virConnect]:
    if conn is None or count < _SPREAD_FROM:
        return []
    from ztui.host.hostfacts import facts_source_for
    from ztui.host.place import HostPlace

    try:
        uri = str(conn.getURI())
    except libvirt.libvirtError:
        return []
    if facts_source_for(uri).place is not HostPlace.REMOTE:
        return []
    opened: list[libvirt.virConnect] = []
    quiet = _without_prompts(uri)
    for _ in range(_REMOTE_CONNECTIONS - 1):
        try:
            opened.append(libvirt.openReadOnly(quiet))
        except libvirt.libvirtError as exc:  # one is enough to read; more only make it faster
            log.debug("no extra connection to %s: %s", uri, libvirt_reason(exc))
            break
    return opened


def _without_prompts(uri: str) -> str:
    """The URI for an extra connection: over ssh with `no_tty=1`, so that one that would need a password
    fails (and the read goes on over the first connection) instead of prompting on the terminal."""
    parts = urlsplit(uri)
    if parts.scheme.partition("+")[2] not in ("ssh", "libssh", "libssh2") or "no_tty=" in parts.query:
        return uri
    return urlunsplit(parts._replace(query="&".join(q for q in (parts.query, "no_tty=1") if q)))


def _fetch_spread(domains: list[libvirt.virDomain], extra: list[libvirt.virConnect]) -> list[str | None]:
    """Every n-th domain fetched through the n-th connection (its own handle for it, found by UUID in one
    listing); domains another connection does not list are fetched through the first."""
    groups: list[list[libvirt.virDomain]] = [domains[i::len(extra) + 1] for i in range(len(extra) + 1)]
    for index, other in enumerate(extra, start=1):
        try:
            by_uuid = {str(d.UUIDString()): d for d in other.listAllDomains(0)}
        except libvirt.libvirtError:
            by_uuid = {}
        groups[index] = [by_uuid.get(str(d.UUIDString()), d) for d in groups[index]]
    with ThreadPoolExecutor(len(groups), thread_name_prefix="ztui-xml-conn") as outer:
        parts = list(outer.map(_fetch_on, groups))
    out: list[str | None] = [None] * len(domains)
    for i, part in enumerate(parts):
        out[i::len(groups)] = part
    return out


def _live_xml(dom: libvirt.virDomain) -> str | None:
    try:
        return str(dom.XMLDesc(0))
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return None
        raise


def read_guest_summaries(conn: libvirt.virConnect) -> tuple[Guest, ...]:
    """Every guest's name, UUID, state and persistence from three calls, whatever the number of guests,
    without any XML: what a big host shows first while the devices are still being read."""
    domains = list_domains(conn)
    states = _states(conn, domains)
    transient = _transient_uuids(conn)
    guests = []
    for dom in domains:
        uuid = str(dom.UUIDString())
        guests.append(Guest(name=str(dom.name()), uuid=uuid, state=states.get(uuid),
                            persistent=_persistent(uuid, transient)))
    return tuple(sorted(guests, key=lambda g: g.name))


def read_node_devices(conn: libvirt.virConnect) -> tuple[HostDevice, ...]:
    """libvirt's node devices (works over remote connections, where udev is out of reach)."""
    from ztui.libvirtxml.nodedev import parse_nodedevs  # imported here: reading node devices is optional

    devices = []
    try:
        node_devices = conn.listAllDevices(0)
    except libvirt.libvirtError as exc:
        log.warning("cannot list node devices: %s", libvirt_reason(exc))
        return ()
    # by name: libvirt lists them in hash-table order, and records that share an id (two `/dev/sda` on
    # the test driver) must merge the same way every time
    fetched: list[tuple[str, str]] = []
    for dev in sorted(node_devices, key=lambda d: str(d.name())):
        try:
            fetched.append((str(dev.name()), str(dev.XMLDesc(0))))
        except libvirt.libvirtError as exc:
            log.warning("node device %s skipped: %s", dev.name(), exc)
    for (name, _), read in zip(fetched, parse_nodedevs(xml for _, xml in fetched), strict=True):
        if isinstance(read, XmlError):
            log.warning("node device %s skipped: %s", name, read)
        else:
            devices.append(read)
    return tuple(devices)


def read_host(conn: libvirt.virConnect, uri: str, names: Iterable[str] | None = None,
              with_host_devices: bool = False) -> Host:
    """A full snapshot of one host."""
    from ztui.host.hostfacts import facts_source_for

    return Host(
        uri=uri,
        hostname=read_hostname(conn),
        facts=facts_source_for(uri).label,
        connected=True,
        guests=read_guests(conn, names),
        host_devices=read_node_devices(conn) if with_host_devices else (),
    )
