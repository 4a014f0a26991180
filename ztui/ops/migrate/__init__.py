"""Live migration with pass-through handled, and what builds on it — the one import for its callers.

Pass-through devices block live migration (docs/ARCHITECTURE.md §5), so they are taken off first, each
removal proven, and put back on the destination afterwards; nothing may be lost. The work goes by step:

- read: what each host says (`read`: its guests, devices, networks, images, CPU, memory; `destination`:
  what the destination's own guests use);
- judge: `preflight` (every finding before anything changes: `findings`, with the destination's fit in
  `fit` and what the migration must not break in `safety`);
- plan: `plan` (options, libvirt's flags and parameters, the virsh equivalents, the steps);
- act: `run` (detach → migrate with progress → attach, and the rollback), `offline` (a shut-off guest's
  definition), `guarded` (one migration with its lock, journal and audit);
- prove: `locate` (where the guest runs after a fault, read from both hosts), `report` (progress and the
  end report that loses nothing), `leftover` (the source's definition after a migration);
- `where` (every other host judged by the preflight) and `evacuate` (a host emptied guest by guest).
"""

from __future__ import annotations

from ztui.ops.migrate.evacuate import EvacuationPlan, EvacuationReport, GuestResult, plan_evacuation, run_evacuation
from ztui.ops.migrate.findings import Code, Finding, Severity
from ztui.ops.migrate.guarded import Guarded, migrate_guarded
from ztui.ops.migrate.leftover import remove_leftover
from ztui.ops.migrate.plan import (
    MigrationOptions,
    PlanStep,
    Rewrite,
    migrate_flags,
    migrate_params,
    migration_uri,
    name_of,
    plan_steps,
    virsh_device,
    virsh_migrate,
)
from ztui.ops.migrate.preflight import Preflight, assess, preflight, preflight_json
from ztui.ops.migrate.read import MigrationHost, read_migration_host
from ztui.ops.migrate.report import (
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
from ztui.ops.migrate.run import MigrationControl, run_migration, start_postcopy, state_on
from ztui.ops.migrate.where import Placement, Readiness, where

__all__ = [
    "PROGRESS_KEYS",
    "Code",
    "DeviceFate",
    "EvacuationPlan",
    "EvacuationReport",
    "Fate",
    "Finding",
    "Guarded",
    "GuestResult",
    "MigrationControl",
    "MigrationHost",
    "MigrationOptions",
    "MigrationReport",
    "Placement",
    "PlanStep",
    "Preflight",
    "Readiness",
    "Rewrite",
    "Severity",
    "StepResult",
    "assess",
    "completed_text",
    "migrate_flags",
    "migrate_guarded",
    "migrate_params",
    "migration_uri",
    "name_of",
    "percent",
    "plan_evacuation",
    "plan_steps",
    "preflight",
    "preflight_json",
    "progress_of",
    "progress_text",
    "read_migration_host",
    "remove_leftover",
    "run_evacuation",
    "run_migration",
    "start_postcopy",
    "state_on",
    "virsh_device",
    "virsh_migrate",
    "where",
]
