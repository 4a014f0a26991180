"""The one exception the lab raises: its `str()` is the message shown to the user."""

from __future__ import annotations


class LabError(Exception):
    """The lab cannot do what was asked; the message says why and, where possible, what to do.

    `details` carries a multi-line excerpt (a daemon's log) that the CLI prints below the one-line message.
    """

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details
