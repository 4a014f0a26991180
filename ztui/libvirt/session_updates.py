"""What a live host session reports: one typed update at a time, handed to a sink from the session's thread.

Kept apart from the session itself so that whoever only receives updates (the backend, the early sink)
names them without the machinery that makes them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ztui.host.inventory import Inventory
from ztui.model import Guest, Host


@dataclass(frozen=True)
class HostUp:
    """A (re)connected host with a full snapshot of its guests."""

    uri: str
    host: Host


@dataclass(frozen=True)
class HostDown:
    """The connection is gone (or could not be opened); the session retries after `retry_in` seconds."""

    uri: str
    reason: str
    retry_in: float


@dataclass(frozen=True)
class GuestUpdated:
    """A guest's current state and devices, read after an event named it."""

    uri: str
    guest: Guest


@dataclass(frozen=True)
class GuestGone:
    """A guest that no longer exists on the host (undefined, or a transient guest that stopped)."""

    uri: str
    uuid: str
    name: str


@dataclass(frozen=True)
class InventoryChanged:
    """A fresh scan of the host's devices, made on the session's thread: after a node-device or udev
    event (chains were re-resolved where needed), or because the host devices view asked for one.
    `inventory` is None when the scan failed or the host is disconnected."""

    uri: str
    inventory: Inventory | None


@dataclass(frozen=True)
class EventSeen:
    """A libvirt event worth telling the user about, as one line of text."""

    uri: str
    guest: str
    text: str


Update = HostUp | HostDown | GuestUpdated | GuestGone | InventoryChanged | EventSeen
Sink = Callable[[Update], None]
