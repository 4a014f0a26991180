"""Where the TUI imports these names from; they live in `ztui.ops.attach`."""

from __future__ import annotations

from ztui.ops.attach.unplug import unplug_refusal

__all__ = [
    "unplug_refusal",
]
