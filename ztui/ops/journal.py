"""Where the TUI imports these names from; they live in `ztui.ops.safety`."""

from __future__ import annotations

from ztui.ops.safety.journal import Entry, EntryState, JournalAction, Operation, unfinished

__all__ = [
    "Entry",
    "EntryState",
    "JournalAction",
    "Operation",
    "unfinished",
]
