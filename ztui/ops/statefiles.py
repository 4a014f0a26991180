"""Where the TUI imports these names from; they live in `ztui.statefiles`."""

from __future__ import annotations

from ztui.statefiles import open_dir, state_dir

__all__ = [
    "open_dir",
    "state_dir",
]
