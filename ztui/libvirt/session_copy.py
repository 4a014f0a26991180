"""What a host session knows of its host: the guests as read and as last sent, and the newest inventory.

Only the session's own thread changes it (docs/ARCHITECTURE.md §3). `inventory` is the one thing other
threads read (the backend, for an action): it is only ever replaced by a new frozen `Inventory`, so such a
reader sees either the old scan or the new one, whole. A guest named by an event is resolved here alone,
against the inventory the session has, with its sharing conflicts against the guests as last sent.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from ztui.host.inventory import Inventory
from ztui.host.resolve import resolve_guest
from ztui.host.scan import refresh_files
from ztui.host.usage import held_keys, with_sharing_warnings
from ztui.libvirt.pipeline import Resolved
from ztui.model import Guest, GuestState, Host

log = logging.getLogger("ztui.libvirt.session")


class HostCopy:
    """One host's guests and inventory as its session last read and sent them."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.inventory: Inventory | None = None
        self.raw: dict[str, Guest] = {}  # guests as read, before their chains were resolved
        self.sent: dict[str, Guest] = {}  # guests as last handed to the sink
        # the host devices each sent guest holds exclusively, remembered with the guest they were taken from
        self._held: dict[str, tuple[Guest, frozenset[str]]] = {}

    def read_whole(self, view: Resolved) -> None:
        """A full read: every guest replaced; the inventory too, unless the scan failed (a failure costs the
        chains, never the tree)."""
        self.raw = {g.uuid: g for g in view.read.guests}
        self.sent = {g.uuid: g for g in view.host.guests}
        if view.inventory is not None:
            self.inventory = view.inventory

    def read_one(self, uuid: str, guest: Guest) -> Guest:
        """A guest read again after an event: the guest to send, with its chains when there is an inventory."""
        self.raw[uuid] = guest
        resolved = self._with_backing(guest)
        self.sent[uuid] = resolved
        return resolved

    def gone(self, uuid: str) -> None:
        """A guest that no longer exists."""
        self.raw.pop(uuid, None)
        self.sent.pop(uuid, None)
        self._held.pop(uuid, None)

    def in_state(self, uuid: str, state: GuestState) -> Guest | None:
        """The guest as last sent, in the state a lifecycle event named; None when it is not known or already
        in that state (nothing to send)."""
        sent = self.sent.get(uuid)
        raw = self.raw.get(uuid)
        if sent is None or raw is None or sent.state is state:
            return None
        self.raw[uuid] = replace(raw, state=state)
        self.sent[uuid] = replace(sent, state=state)
        return self.sent[uuid]

    def as_read(self) -> Host:
        """Every guest as read, before any chain: what a rescan resolves again, all at once (so that a
        sharing conflict is warned on both guests' devices)."""
        return Host(self.uri, guests=tuple(self.raw.values()))

    def rescanned(self, view: Resolved, *, chains: bool) -> list[Guest]:
        """A rescan's result taken in (the previous inventory is kept when the scan failed). With `chains`,
        the guests whose chains changed, in the order to send them."""
        if view.inventory is None:
            return []
        self.inventory = view.inventory
        if not chains:
            return []
        changed = [g for g in view.host.guests if g != self.sent.get(g.uuid)]
        for resolved in changed:
            self.sent[resolved.uuid] = resolved
        return changed

    def _with_backing(self, guest: Guest) -> Guest:
        """One guest's chains after an event: only its own image files are looked at again."""
        if self.inventory is None:
            return guest
        try:
            self.inventory = refresh_files(self.inventory, [guest])
        except OSError as exc:
            log.info("%s: files of %s not re-read: %s", self.uri, guest.name, exc)
        return self._with_sharing(resolve_guest(guest, self.inventory))

    def _with_sharing(self, resolved: Guest) -> Guest:
        """One guest with the sharing conflicts of its devices against the other guests as last sent (their
        own warnings follow at the next rescan). Per event this costs a set intersection per guest: what
        each guest holds is remembered until that guest changes."""
        mine = held_keys((resolved,))
        if not mine:
            return resolved
        sharing = []
        for uuid, other in self.sent.items():
            if uuid == resolved.uuid:
                continue
            known = self._held.get(uuid)
            if known is None or known[0] is not other:
                known = (other, frozenset(held_keys((other,))))
                self._held[uuid] = known
            if not mine.isdisjoint(known[1]):
                sharing.append(other)
        if not sharing:
            return resolved
        return with_sharing_warnings(Host(self.uri, guests=(resolved, *sharing))).guests[0]
