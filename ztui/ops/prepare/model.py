"""Where the TUI imports these names from; they live in `ztui.ops.prepare`."""

from __future__ import annotations

from ztui.ops.prepare.steps import PrepKind, PrepPlan, PrepRefused

__all__ = [
    "PrepKind",
    "PrepPlan",
    "PrepRefused",
]
