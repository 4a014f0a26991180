"""A host's update applied to the fleet: the one model the screens render, and the volumes joined across
hosts (`ztui.host.volumes`: a guest of another host whose volume is now seen otherwise is shown anew).

Pure bookkeeping on the app's thread; what it returns is what the main screen must patch.
"""

from __future__ import annotations

from ztui.backend.updates import (
    GuestGone,
    GuestUpdated,
    HostDown,
    HostUp,
    InventoryChanged,
    VolumeTracker,
)
from ztui.fleet import Change, Fleet
from ztui.model import Guest


class FleetUpdates:
    """Applies host updates to `fleet`, with `volumes` tracking each volume across the hosts."""

    def __init__(self, fleet: Fleet, volumes: VolumeTracker) -> None:
        self.fleet = fleet
        self.volumes = volumes

    def apply(self, update: HostUp | HostDown | GuestUpdated | GuestGone) -> list[Change]:
        """The fleet changed by the update: its own change first, then those of guests elsewhere."""
        elsewhere: list[tuple[str, Guest]]
        if isinstance(update, HostUp):
            entry = self.fleet.hosts.get(update.uri)
            host, elsewhere = self.volumes.host_up(update.host, entry.name if entry is not None else "")
            change = self.fleet.host_up(update.uri, host)
        elif isinstance(update, HostDown):
            elsewhere = self.volumes.host_down(update.uri)
            change = self.fleet.host_down(update.uri, update.reason, update.retry_in)
        elif isinstance(update, GuestUpdated):
            guest, elsewhere = self.volumes.guest_updated(update.uri, update.guest)
            change = self.fleet.guest_updated(update.uri, guest)
        else:
            elsewhere = self.volumes.guest_gone(update.uri, update.uuid)
            change = self.fleet.guest_gone(update.uri, update.uuid)
        return [change, *self.shown_anew(elsewhere)]

    def inventory_changed(self, update: InventoryChanged) -> list[Change]:
        """A host's devices were scanned again: guests whose volumes are now seen otherwise."""
        if update.inventory is None:
            return []
        return self.shown_anew(self.volumes.volumes_changed(update.uri, update.inventory.host_volumes))

    def shown_anew(self, guests: list[tuple[str, Guest]]) -> list[Change]:
        """Guests (of any host) whose volumes are now seen otherwise on another host."""
        return [self.fleet.guest_updated(uri, guest) for uri, guest in guests
                if uri in self.fleet.hosts and guest.uuid in self.fleet.hosts[uri].guests]
