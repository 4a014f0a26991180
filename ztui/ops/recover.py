"""Where the TUI imports these names from; they live in `ztui.ops.attach`."""

from __future__ import annotations

from ztui.ops.attach.recover import Resolution, resolve

__all__ = [
    "Resolution",
    "resolve",
]
