"""Hosts as people name them on screen: saved names, hostnames, URIs; and whether a host takes changes."""

from __future__ import annotations

from ztui.fleet import Fleet


class HostNames:
    """The names of the fleet's hosts, asked at the moment (a host's hostname arrives once it is connected)."""

    def __init__(self, fleet: Fleet, readonly: bool) -> None:
        self._fleet = fleet
        self._readonly = readonly

    def host_name(self, uri: str) -> str:
        """A host's name as people say it: its saved name, else its hostname once connected, else the URI."""
        entry = self._fleet.hosts.get(uri)
        return entry.display_name if entry is not None else uri

    def host_readonly(self, uri: str) -> bool:
        """Whether nothing may be changed on this host: ztui was started with --readonly, or the host is saved
        read-only (its connection is read-only too)."""
        entry = self._fleet.hosts.get(uri)
        return self._readonly or (entry is not None and entry.readonly)

    def named(self, text: str) -> str:
        """`text` with each known host's URI replaced by its name (messages from the backend name URIs)."""
        for uri in sorted(self._fleet.hosts, key=len, reverse=True):
            name = self.host_name(uri)
            if name != uri:
                text = text.replace(uri, name)
        return text

    @property
    def shown(self) -> list[str]:
        """Every shown host's URI (the hosts an action asks besides its own)."""
        return list(self._fleet.hosts)
