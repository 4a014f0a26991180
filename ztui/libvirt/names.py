"""Names read quickly from hosts, for shell completion: guests, a guest's devices, host devices, networks.

A completion runs while a person waits at the prompt, so each answer is one read per host (the guests
with their states in one `getAllDomainStats`, host devices from the host's facts or, for a remote host,
node devices by name only), the hosts are asked at once, and the whole read is bounded: a host that
does not answer in time (an ssh host that is down, a daemon that hangs) adds nothing and is never waited
for. Connections are read-only, and nothing asks on the terminal: a completion must never prompt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import libvirt

from ztui.bounded import answers_within
from ztui.host.facts_source import FactsOrigin, facts_source_for
from ztui.libvirt.connection import ConnectError, open_connection
from ztui.libvirtxml.domain import parse_domain
from ztui.libvirtxml.nodedev import id_from_name
from ztui.model import GuestState, HostDevice, HostDeviceKind

Name = tuple[str, str]
"""A value and a few words on it (zsh and fish show them beside the value)."""

Question = Callable[[libvirt.virConnect, str], list[Name]]
"""What to ask one host: its connection and its URI (the URI says where its host facts are)."""

#: how long a completion waits for all hosts together
DEFAULT_TIMEOUT = 2.0


def ask_hosts(uris: Sequence[str], question: Question, timeout: float = DEFAULT_TIMEOUT) -> list[Name]:
    """`question`'s answers from every host that answers within `timeout` (all asked at once,
    `ztui.bounded`), in the order of `uris`, without repeats. Connections are read-only and opened as
    every connection of ztui's is: over ssh nothing can ask on the terminal (`without_prompts`)."""

    def ask(uri: str) -> list[Name]:
        try:
            conn = open_connection(uri, readonly=True)
        except ConnectError:
            return []
        try:
            return question(conn, uri)
        except libvirt.libvirtError:
            return []
        finally:
            conn.close()

    answers = answers_within({i: partial(ask, uri) for i, uri in enumerate(uris)}, timeout)
    found: dict[str, str] = {}
    for index in sorted(answers):
        for value, about in answers[index]:
            found.setdefault(value, about)
    return list(found.items())


def guests(accept: Callable[[str, GuestState], bool] | None = None) -> Question:
    """The guests (with their state), those `accept` takes when given."""

    def read(conn: libvirt.virConnect, _uri: str) -> list[Name]:
        out = []
        for dom, stats in conn.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE):
            state = GuestState.from_libvirt(int(stats.get("state.state", -1)))
            if accept is None or accept(dom.name(), state):
                out.append((dom.name(), state.value))
        return sorted(out)

    return read


def devices_of(guest: str) -> Question:
    """A guest's devices by the names `ztui detach` takes (`find_for_detach`): the target, else the alias,
    else the source; and the ccw bus-ID."""

    def read(conn: libvirt.virConnect, _uri: str) -> list[Name]:
        try:
            dom = conn.lookupByName(guest)
        except libvirt.libvirtError:
            return []
        out: list[Name] = []
        for device in parse_domain(dom.XMLDesc(0)).devices:
            about = " ".join(p for p in (device.kind.value, device.source) if p)
            name = device.target or device.alias or device.source
            if name:
                out.append((name, about))
            if device.busid:
                out.append((device.busid, f"{name} {about}".strip()))
        return out

    return read


def host_devices(kind: HostDeviceKind, wanted: Callable[[HostDevice], bool], about: Callable[[HostDevice], str],
                 capability: int) -> Question:
    """Host devices of a kind by their id (bus-ID, UUID, PCI address), from the host's facts as ztui reads
    them (`facts_source_for`: this machine's udev, a snapshot beside the socket such as the lab's simulated
    z16); for a remote host, libvirt's node devices of that capability, by name alone."""

    def read(conn: libvirt.virConnect, uri: str) -> list[Name]:
        source = facts_source_for(uri)
        if source.origin is FactsOrigin.REMOTE:
            ids = (id_from_name(dev.name()) for dev in conn.listAllDevices(capability))
            return sorted((i, kind.value) for i in ids if i)
        return sorted((d.id, about(d)) for d in source.devices() if d.kind is kind and d.id and wanted(d))

    return read


def networks(conn: libvirt.virConnect, _uri: str) -> list[Name]:
    """The active networks (an inactive one cannot take a new interface)."""
    return sorted((net.name(), "network") for net in conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE))
