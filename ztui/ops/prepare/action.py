"""Where the TUI imports these names from; they live in `ztui.ops.prepare`."""

from __future__ import annotations

from ztui.ops.prepare.guarded import run_recorded

__all__ = [
    "run_recorded",
]
