"""The lab's URIs for `ztui --lab` and the TUI's "start the lab" offer (starts the lab when needed)."""

from __future__ import annotations


class LabUnavailable(RuntimeError):
    """The lab could not be started; the message is one line for the user (plus the daemon log, if any)."""


def lab_uris() -> list[str]:
    from ztui.lab import LabError, ensure_lab

    try:
        return [host.uri for host in ensure_lab()]
    except LabError as exc:
        raise LabUnavailable(str(exc)) from None
