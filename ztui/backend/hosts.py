"""The live hosts behind the backend: one session per host, and the connections the actions run on.

Each session (`ztui.libvirt.session.HostSession`) reads its host in its own thread, keeps it current from
libvirt's events and reconnects with back-off; its connection is shared by every action on that host
(libvirt connections are thread-safe, docs/ARCHITECTURE.md §3). A host the UI does not show (a migration's
destination typed as a URI) gets a connection of its own for one action, closed after it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import libvirt

from ztui.host.inventory import Inventory
from ztui.libvirt.connection import open_connection
from ztui.libvirt.early import HeldSink, start_sessions
from ztui.libvirt.link import HostLink
from ztui.libvirt.reader import read_at_once
from ztui.libvirt.session import HostSession
from ztui.libvirt.session_updates import Sink

Started = tuple[Mapping[str, HostSession], HeldSink]
"""Sessions a command started early and their sink, as `ztui.libvirt.early` hands them over."""


@dataclass(frozen=True)
class EarlyStart:
    """Sessions a command started before it built the TUI, and the sink holding what they read meanwhile
    (`ztui.libvirt.early`)."""

    sessions: Mapping[str, HostSession]
    sink: HeldSink


class LiveHosts:
    """Every host's session, by URI."""

    def __init__(self, *, readonly: bool = False, udev: bool = True,
                 reconnect_delays: Sequence[float] | None = None, early: EarlyStart | None = None) -> None:
        self.readonly = readonly
        self.udev = udev
        self.reconnect_delays = reconnect_delays
        self.sessions: dict[str, HostSession] = {}
        """The sessions, by URI (the tests reach a host's connection through them)."""
        self._early = early

    def open(self, uris: Sequence[str], sink: Sink, shown: Sequence[str]) -> None:
        """Sessions for these hosts (the ones started early adopted, their held updates handed over first);
        `shown`: every host the UI shows, so that the reader knows how many share this process."""
        read_at_once(shown)
        early, self._early = self._early, None
        if early is not None:
            self.sessions.update(early.sessions)
            early.sink.attach(sink)
        self.sessions.update(start_sessions([u for u in uris if u not in self.sessions], sink,
                                            readonly=self.readonly, udev=self.udev,
                                            reconnect_delays=self.reconnect_delays))

    def connection(self, uri: str) -> libvirt.virConnect:
        """The open connection of a shown host; `ConnectionError` while it is disconnected."""
        session = self.sessions.get(uri)
        conn = session.connection if session is not None else None
        if conn is None:
            raise ConnectionError(f"{uri} is not connected")
        return conn

    def link(self, uri: str) -> HostLink:
        """The shown host as a link (its URI with its open connection); `ConnectionError` while disconnected."""
        return HostLink(uri, self.connection(uri))

    def connections(self) -> dict[str, libvirt.virConnect]:
        """The connected hosts' connections, to ask no host twice."""
        return {uri: s.connection for uri, s in self.sessions.items() if s.connection is not None}

    def inventory(self, uri: str) -> Inventory | None:
        """The host's devices as its session last scanned them; None before the first scan."""
        session = self.sessions.get(uri)
        return session.inventory if session is not None else None

    def inventories(self) -> dict[str, Inventory]:
        return {uri: s.inventory for uri, s in self.sessions.items() if s.inventory is not None}

    @contextmanager
    def other(self, uri: str) -> Iterator[libvirt.virConnect]:
        """Another host's connection for one action: a shown host's own, else a new one, closed after it.
        Raises `ConnectError` when it cannot be opened."""
        session = self.sessions.get(uri)
        if session is not None and session.connection is not None:
            yield session.connection
            return
        conn = open_connection(uri)
        try:
            yield conn
        finally:
            conn.close()

    def resync(self) -> None:
        for session in self.sessions.values():
            session.resync()

    def refresh_inventory(self, uri: str) -> bool:
        """Scan the host's devices again; the answer comes as an `InventoryChanged` update. False: no session."""
        session = self.sessions.get(uri)
        if session is None:
            return False
        session.refresh_inventory()
        return True

    def stop(self) -> None:
        for session in self.sessions.values():
            session.stop(timeout=1.0)
