"""Every connected host's current model, patched one update at a time.

The TUI renders from this and nothing else, so what is on screen is always derivable from the updates
received; the tests check it the same way (a fleet after a storm equals a fresh read). Pure: no libvirt,
no textual.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal
from urllib.parse import urlsplit

from ztui.model import Guest, Host


@dataclass
class HostEntry:
    """A host as the user sees it: its last snapshot, and whether it is connected right now."""

    uri: str
    host: Host
    connected: bool = False
    error: str = ""
    retry_in: float = 0.0
    guests: dict[str, Guest] = field(default_factory=dict)  # by UUID, in display order
    name: str = ""  # the name it is saved under (`ztui hosts`), '' for a URI given as it is
    readonly: bool = False  # saved read-only: its connection is read-only, nothing on it may be changed

    @property
    def display_name(self) -> str:
        """How the host is called on screen: its saved name, else its hostname once known, else its URI, short
        (`root@lpar1:2222` for a network URI: the whole URI is in the details, and the host's line must keep
        room for why it is not connected)."""
        return self.name or self.host.hostname or short_uri(self.uri)


def short_uri(uri: str) -> str:
    """`[user@]host[:port]` of a URI that names a host, else the URI as it is."""
    parts = urlsplit(uri)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is no number: the URI as it is
        return uri
    if not host:
        return uri
    user = f"{parts.username}@" if parts.username else ""
    return f"{user}{host}:{port}" if port else f"{user}{host}"


#: what an update changed: a host's whole subtree, its line only, one guest, or a guest gone
ChangeKind = Literal["host", "state", "guest", "gone"]


@dataclass(frozen=True)
class Change:
    """What an update changed: `what` is host (whole subtree), state (host line only), guest or gone."""

    what: ChangeKind
    uri: str
    uuid: str = ""


class Fleet:
    """Hosts by URI in the order they were given, each with its guests by UUID; `names` are saved names,
    `readonly` the hosts saved read-only."""

    def __init__(self, uris: list[str], names: Mapping[str, str] | None = None,
                 readonly: Collection[str] = ()) -> None:
        names = names or {}
        self.hosts: dict[str, HostEntry] = {u: HostEntry(uri=u, host=Host(uri=u, connected=False),
                                                         name=names.get(u, ""), readonly=u in readonly)
                                            for u in uris}

    def host_up(self, uri: str, host: Host) -> Change:
        entry = self._entry(uri)
        entry.host = host
        entry.connected, entry.error, entry.retry_in = True, "", 0.0
        entry.guests = {g.uuid: g for g in sorted(host.guests, key=lambda g: g.name)}
        return Change("host", uri)

    def host_down(self, uri: str, reason: str, retry_in: float) -> Change:
        entry = self._entry(uri)
        entry.connected, entry.error, entry.retry_in = False, reason, retry_in
        entry.host = replace(entry.host, connected=False, error=reason)
        return Change("state", uri)

    def guest_updated(self, uri: str, guest: Guest) -> Change:
        entry = self._entry(uri)
        is_new = guest.uuid not in entry.guests
        entry.guests[guest.uuid] = guest
        if is_new:  # keep display order by name
            entry.guests = dict(sorted(entry.guests.items(), key=lambda kv: kv[1].name))
        return Change("guest", uri, guest.uuid)

    def guest_gone(self, uri: str, uuid: str) -> Change:
        self._entry(uri).guests.pop(uuid, None)
        return Change("gone", uri, uuid)

    def guest(self, uri: str, uuid: str) -> Guest | None:
        entry = self.hosts.get(uri)
        return entry.guests.get(uuid) if entry is not None else None

    def snapshot(self, uri: str) -> Host:
        """The host as currently known, guests included (for comparing with a fresh read)."""
        entry = self._entry(uri)
        return replace(entry.host, guests=tuple(entry.guests.values()), connected=entry.connected)

    def _entry(self, uri: str) -> HostEntry:
        if uri not in self.hosts:
            self.hosts[uri] = HostEntry(uri=uri, host=Host(uri=uri, connected=False))
        return self.hosts[uri]
