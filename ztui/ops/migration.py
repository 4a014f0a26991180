"""Where the TUI imports these names from; they live in `ztui.ops.migrate`."""

from __future__ import annotations

from ztui.ops.migrate import (
    Finding,
    MigrationControl,
    MigrationOptions,
    MigrationReport,
    Preflight,
    Severity,
    completed_text,
    percent,
    plan_steps,
    preflight,
    progress_text,
    run_migration,
    virsh_migrate,
)

__all__ = [
    "Finding",
    "MigrationControl",
    "MigrationOptions",
    "MigrationReport",
    "Preflight",
    "Severity",
    "completed_text",
    "percent",
    "plan_steps",
    "preflight",
    "progress_text",
    "run_migration",
    "virsh_migrate",
]
