"""What a host's live session reports, as the UI receives it: one typed update at a time.

The updates are made by `ztui.libvirt.session` on its own thread; `HostBackend.open` hands each to the sink
the UI gives it (which must be thread-safe: the app's `post_message`). With them: the inventory an update
carries, and the tracker that joins the volumes of every shown host as their updates arrive.
"""

from __future__ import annotations

from collections.abc import Callable

from ztui.host.inventory import Inventory
from ztui.host.volumes import VolumeTracker
from ztui.libvirt.session_updates import EventSeen, GuestGone, GuestUpdated, HostDown, HostUp, InventoryChanged, Update

UpdateSink = Callable[[Update], None]
"""Where a host's updates go; called from the session's thread."""

__all__ = [
           "EventSeen",
           "GuestGone",
           "GuestUpdated",
           "HostDown",
           "HostUp",
           "Inventory",
           "InventoryChanged",
           "Update",
           "UpdateSink",
           "VolumeTracker",
]
