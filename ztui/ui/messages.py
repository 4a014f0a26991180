"""Messages the app receives from worker threads (posted with the thread-safe `post_message`)."""

from __future__ import annotations

from textual.message import Message

from ztui.libvirt.session import Update


class HostUpdate(Message):
    """Something changed on a host: a libvirt session's update, handed over from its thread."""

    def __init__(self, update: Update) -> None:
        super().__init__()
        self.update = update
