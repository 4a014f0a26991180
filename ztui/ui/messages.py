"""Messages the app receives: host updates from the backend's threads, and what screens ask of the app.

A screen says what it wants (`Status`, `Resync`, `OpenHosts`) rather than calling the app: the message
bubbles up to it, so no screen depends on the app that composes it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.message import Message

from ztui.backend.updates import Inventory, Update


class HostUpdate(Message):
    """Something changed on a host: a session's update, handed over from its thread."""

    def __init__(self, update: Update) -> None:
        super().__init__()
        self.update = update


class Status(Message):
    """A line for the main screen's status bar ('' clears it)."""

    def __init__(self, text: Text | str) -> None:
        super().__init__()
        self.text = text


class OpenHosts(Message):
    """Show these hosts (the lab, once started) and start reading them."""

    def __init__(self, uris: Sequence[str]) -> None:
        super().__init__()
        self.uris = list(uris)


class InventoryRead(Message, bubble=False):
    """A host's session scanned its devices: the app hands it to the screen on top (the host devices view
    takes it, any other screen leaves it)."""

    def __init__(self, uri: str, inventory: Inventory | None) -> None:
        super().__init__()
        self.uri = uri
        self.inventory = inventory
