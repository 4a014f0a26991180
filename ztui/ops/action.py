"""Where the TUI imports these names from; they live in `ztui.ops.attach`."""

from __future__ import annotations

from ztui.ops.attach.guarded import attach_recorded, detach_recorded

__all__ = [
    "attach_recorded",
    "detach_recorded",
]
