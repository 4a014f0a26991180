"""Where the TUI imports these names from; they live in `ztui.ops.attach`."""

from __future__ import annotations

from ztui.ops.attach.boot import boot_warning

__all__ = [
    "boot_warning",
]
