"""One live migration with all of its safety, for every caller that runs one unattended or from a command:
the guest locked on both hosts before anything is read, the preflight under that lock, the plan shown, the
intent journaled before the first change, the run (`ztui.ops.migrate.run`), the outcome audited and the
journal entry closed only when the outcome is proven.

`ztui migrate` runs one; `ztui evacuate` runs one per guest, each the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import libvirt

from ztui.errors import ZtuiError
from ztui.host.inventory import Inventory
from ztui.ops.migrate.plan import MigrationOptions, PlanStep, name_of, plan_steps, virsh_migrate
from ztui.ops.migrate.preflight import Preflight, preflight
from ztui.ops.migrate.report import MigrationReport, StepResult
from ztui.ops.migrate.run import MigrationControl, ProgressCallback, audit_failures, run_migration
from ztui.ops.safety.audit import record
from ztui.ops.safety.guestlock import guest_lock
from ztui.ops.safety.journal import EntryState, JournalAction, Operation
from ztui.ops.safety.signals import SignalGuard


@dataclass
class Guarded:
    """A migration's preflight, the options it ran with, its virsh command and plan, and — when it ran — its
    report; `unrecorded` names audit records that could not be written."""

    check: Preflight
    options: MigrationOptions
    command: str
    plan: tuple[PlanStep, ...]
    report: MigrationReport | None = None
    unrecorded: list[str] = field(default_factory=list)

    @property
    def ran(self) -> bool:
        return self.report is not None


def migrate_guarded(src: libvirt.virConnect, src_uri: str, dom: libvirt.virDomain, dest: libvirt.virConnect | None,
                    dest_uri: str, options: MigrationOptions, *, dest_error: str = "", session: Sequence[str] = (),
                    src_inventory: Inventory | None = None, shown: Callable[[Guarded], None] = lambda _g: None,
                    on_progress: ProgressCallback | None = None, control: MigrationControl | None = None,
                    on_step: Callable[[StepResult], None] | None = None, guard: SignalGuard | None = None,
                    during: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext,
                    via: str = "cli") -> Guarded:
    """Lock, preflight, show (`shown`, before anything changes), journal, run, audit. Nothing runs when the
    preflight finds a blocker or the destination is not connected (`Guarded.report` stays None). `during`
    wraps the run (a signal handler for the switch to post-copy). ZtuiError (the guest busy, the journal
    not writable) before the first change."""
    guest, uuid = dom.name(), dom.UUIDString()
    with guest_lock(src_uri, uuid, guest=guest, action="migrate"), \
            guest_lock(dest_uri, uuid, guest=guest, action="migrate"):
        check = preflight(src, dom, dest, options, src_uri=src_uri, dest_uri=dest_uri, dest_error=dest_error,
                          session=session, src_inventory=src_inventory)
        run_options = check.options or options  # --unsafe where the storage was proven shared
        done = Guarded(check, run_options, virsh_migrate(src_uri, guest, dest_uri, run_options, bool(check.rewrites)),
                       plan_steps(guest, src_uri, dest_uri, run_options, check.to_move, check.rewrites))
        shown(done)
        if not check.ok or dest is None:
            record("migrate", src_uri, guest, "refused by preflight", to=dest_uri, virsh=done.command,
                   findings=[f.to_json() for f in check.findings], via=via)
            return done
        plan_doc = {"destination": dest_uri, "virsh": done.command,
                    "devices": [{"name": name_of(d), "xml": d.xml} for d in check.to_move],
                    "rewrites": [r.to_json() for r in check.rewrites]}
        op = Operation.begin(JournalAction.MIGRATE, src_uri, guest, uuid, plan=plan_doc)
        with during():
            report = run_migration(src, src_uri, dom, dest, dest_uri, run_options, check.to_move, on_progress,
                                   control, on_step, guard=guard, op=op, rewrites=check.rewrites)
        done.report = report
        try:
            record("migrate", src_uri, guest, "done" if report.ok else "failed", to=dest_uri, virsh=done.command,
                   report=report.to_json(), via=via)
        except ZtuiError as exc:
            done.unrecorded.append(str(exc))
        done.unrecorded[:0] = audit_failures()
        if report.certain and not report.lost:
            op.close()
        else:
            op.leave_open(EntryState.INTERRUPTED if guard is not None and guard.signum else EntryState.UNKNOWN,
                          report.message)
        return done
