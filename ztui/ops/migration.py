"""Live migration with pass-through handled — the one import for callers (CLI, TUI, tests).

The work is split by phase into small modules: `migrate_preflight` (what can be known before anything
changes), `migrate_plan` (options, libvirt flags/parameters, the virsh equivalents, the plan),
`migrate_run` (detach → migrate with progress → attach, rollback) and `migrate_report` (progress figures
and the end report). Pass-through devices block live migration (docs/ARCHITECTURE.md §5), so they are taken off
first, each removal proven, and put back on the destination afterwards; nothing may be lost.
"""

from __future__ import annotations

from ztui.ops.migrate_plan import (
    MigrationOptions,
    PlanStep,
    migrate_flags,
    migrate_params,
    migration_uri,
    name_of,
    plan_steps,
    virsh_device,
    virsh_migrate,
)
from ztui.ops.migrate_preflight import (
    Code,
    Finding,
    HostFacts,
    Preflight,
    Severity,
    assess,
    preflight,
    preflight_json,
    read_host,
)
from ztui.ops.migrate_report import (
    PROGRESS_KEYS,
    DeviceFate,
    Fate,
    MigrationReport,
    StepResult,
    completed_text,
    percent,
    progress_of,
    progress_text,
)
from ztui.ops.migrate_run import MigrationControl, run_migration, start_postcopy, state_on

__all__ = [
    "PROGRESS_KEYS",
    "Code",
    "DeviceFate",
    "Fate",
    "Finding",
    "HostFacts",
    "MigrationControl",
    "MigrationOptions",
    "MigrationReport",
    "PlanStep",
    "Preflight",
    "Severity",
    "StepResult",
    "assess",
    "completed_text",
    "migrate_flags",
    "migrate_params",
    "migration_uri",
    "name_of",
    "percent",
    "plan_steps",
    "preflight",
    "preflight_json",
    "progress_of",
    "progress_text",
    "read_host",
    "run_migration",
    "start_postcopy",
    "state_on",
    "virsh_device",
    "virsh_migrate",
]
