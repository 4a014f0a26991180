"""Where the TUI imports these names from; they live in `ztui.ops.safety`."""

from __future__ import annotations

from ztui.ops.safety.guestlock import guest_lock

__all__ = [
    "guest_lock",
]
