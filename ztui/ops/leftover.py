"""Where the TUI imports these names from; they live in `ztui.ops.migrate`."""

from __future__ import annotations

from ztui.ops.migrate.leftover import remove_leftover

__all__ = [
    "remove_leftover",
]
