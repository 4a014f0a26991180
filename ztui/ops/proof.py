"""Where the TUI imports these names from; they live in `ztui.ops.attach`."""

from __future__ import annotations

from ztui.ops.attach.prove import DEFAULT_DETACH_TIMEOUT, DeviceChange, Outcome

__all__ = [
    "DEFAULT_DETACH_TIMEOUT",
    "DeviceChange",
    "Outcome",
]
