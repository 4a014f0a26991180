"""A host ztui is connected to: its URI and the open connection, as one value.

The URI is the host's identity — the key of its journal entries, audit records, guest locks and facts
source — and the connection is how ztui talks to it. Passed apart, a connection of one host could travel
with the URI of another, and a lock or a journal entry would then name the wrong host; passed as one value
they cannot part.
"""

from __future__ import annotations

from dataclasses import dataclass

import libvirt

from ztui.libvirt.connection import uri_of


@dataclass(frozen=True)
class HostLink:
    """One connected host: `uri` as the user gave it (the host's key everywhere), `conn` open to it."""

    uri: str
    conn: libvirt.virConnect

    @classmethod
    def of(cls, conn: libvirt.virConnect) -> HostLink:
        """The link of an open connection, its URI the one it was opened for (`uri_of`)."""
        return cls(uri_of(conn), conn)
