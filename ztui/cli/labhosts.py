"""The lab's URIs for `ztui --lab` and the TUI's "start the lab" offer (starts the lab when needed)."""

from __future__ import annotations


def lab_uris() -> list[str]:
    from ztui.lab import ensure_lab

    return [host.uri for host in ensure_lab()]
