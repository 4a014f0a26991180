"""Live I/O for the UI: one sample of a running guest's counters (`ztui.ops.iostats`), on its host's session
connection. The guest's handle is looked up once per guest and connection, not at every tick.
"""

from __future__ import annotations

import threading

import libvirt

from ztui.backend.hosts import LiveHosts
from ztui.ops.iostats import IoKind, IoRate, IoSample, IoSource, human_rate, io_sources, rates, read_sample

__all__ = ["IoKind", "IoRate", "IoReader", "IoSample", "IoSource", "human_rate", "io_sources", "rates"]


class IoReader:
    """Samples of one guest at a time (the selected one); safe to call from a reader thread."""

    def __init__(self, hosts: LiveHosts) -> None:
        self._hosts = hosts
        self._lock = threading.Lock()
        self._domain: tuple[libvirt.virConnect, str, libvirt.virDomain] | None = None  # the last guest read

    def sample(self, uri: str, uuid: str, sources: tuple[IoSource, ...], when: float) -> IoSample:
        """The counters now; raises `ConnectionError` while the host is disconnected and libvirt's error when
        the guest stopped or went away (its handle is then looked up again next time)."""
        conn = self._hosts.connection(uri)
        with self._lock:
            domain = self._domain
            if domain is None or domain[0] is not conn or domain[1] != uuid:
                domain = self._domain = (conn, uuid, conn.lookupByUUIDString(uuid))
        try:
            return read_sample(domain[2], sources, when)
        except Exception:
            with self._lock:
                self._domain = None
            raise
