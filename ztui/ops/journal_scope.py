"""Where the TUI imports these names from; they live in `ztui.ops.safety`."""

from __future__ import annotations

from ztui.ops.safety.journal_scope import session_entries

__all__ = [
    "session_entries",
]
