"""Where the TUI imports these names from; they live in `ztui.ops.migrate`."""

from __future__ import annotations

from ztui.ops.migrate.evacuate import EvacuationPlan, EvacuationReport, GuestResult, plan_evacuation, run_evacuation

__all__ = [
    "EvacuationPlan",
    "EvacuationReport",
    "GuestResult",
    "plan_evacuation",
    "run_evacuation",
]
