"""Where the TUI imports these names from; they live in `ztui.host.facts_source`."""

from __future__ import annotations

from ztui.host.facts_source import forget_snapshots, use_snapshot, write_snapshot

__all__ = [
    "forget_snapshots",
    "use_snapshot",
    "write_snapshot",
]
