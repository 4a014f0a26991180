"""Where the TUI imports these names from; they live in `ztui.ops.migrate`."""

from __future__ import annotations

from ztui.ops.migrate.where import Placement, Readiness, where

__all__ = [
    "Placement",
    "Readiness",
    "where",
]
