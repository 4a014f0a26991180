"""Where the TUI imports these names from; they live in `ztui.ops.safety` and `ztui.ops.lifecycle`."""

from __future__ import annotations

from ztui.ops.lifecycle import start_one_copy
from ztui.ops.safety.other_copies import CopyCheck, lock_notes

__all__ = [
    "CopyCheck",
    "lock_notes",
    "start_one_copy",
]
