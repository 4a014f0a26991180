"""Live migration for the UI: the preflight, the migration in its frame (locks on both hosts, the journal,
the audit log, like `ztui migrate`), its progress as typed steps, and the leftover definition's removal.

Imported when a migration is first asked for, not at start-up: the migration code is the biggest part of
`ztui.ops`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import libvirt

from ztui.backend.hosts import LiveHosts
from ztui.backend.state import state_problem
from ztui.errors import StateUnwritable, ZtuiError
from ztui.libvirt.connection import ConnectError
from ztui.model import GuestDevice
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
from ztui.ops.migrate.leftover import remove_leftover
from ztui.ops.migrate.plan import Rewrite
from ztui.ops.safety.audit import record
from ztui.ops.safety.guestlock import guest_lock
from ztui.ops.safety.journal import EntryState, JournalAction, Operation

__all__ = ["LeftoverDone", "MigrationControl", "MigrationDone", "MigrationOptions", "MigrationReport",
           "MigrationStep", "Preflight", "Severity", "plan_steps"]

Figure = int | float | bool | str


@dataclass(frozen=True)
class MigrationStep:
    """One progress step of a running migration: libvirt's job figures as `run_migration` reported them."""

    figures: Mapping[str, Figure]

    @classmethod
    def of(cls, step: Mapping[str, Any]) -> MigrationStep:
        return cls(MappingProxyType(dict(step)))

    @property
    def completed(self) -> bool:
        """libvirt reported the job completed: these are the finished job's totals."""
        return bool(self.figures.get("completed"))

    def line(self, downtime_ms: int | None = None) -> tuple[float, str]:
        """The bar's value and the text beside it, from the same figures so they cannot disagree.

        While running: libvirt's processed / total. Once libvirt reports the job completed: 100 %, the data
        moved and the time it took (the totals of a finished job do not make a meaningful ratio);
        `downtime_ms` is the report's, for a step that does not carry it."""
        step = dict(self.figures)
        if self.completed:
            return 100.0, completed_text(step, downtime_ms)
        return percent(step) or 0.0, progress_text(step)


@dataclass(frozen=True)
class MigrationDone:
    """The migration's report, and why its audit record was not written ('' when it was)."""

    report: MigrationReport
    audit_error: str = ""


@dataclass(frozen=True)
class LeftoverDone:
    """The source's definition removed (proven), or why not."""

    ok: bool
    message: str


def check(hosts: LiveHosts, uri: str, guest: str, dest_uri: str, options: MigrationOptions,
          shown: Sequence[str]) -> Preflight:
    """The preflight; a destination that cannot be opened, or a host that went away mid-check, is a blocker."""
    try:
        with hosts.other(dest_uri) as dest:
            try:
                src = hosts.connection(uri)
                return preflight(src, src.lookupByName(guest), dest, options, src_uri=uri, dest_uri=dest_uri,
                                 session=list(shown), src_inventory=hosts.inventory(uri))
            except (libvirt.libvirtError, ConnectionError) as exc:
                return Preflight((Finding(Severity.BLOCKER, f"preflight failed: {exc}"),), ())
    except ConnectError as exc:
        return Preflight((Finding(Severity.BLOCKER, str(exc)),), ())


def migrate(hosts: LiveHosts, uri: str, guest: str, dest_uri: str, options: MigrationOptions,
            to_move: tuple[GuestDevice, ...], control: MigrationControl, rewrites: tuple[Rewrite, ...],
            progress: Callable[[MigrationStep], None]) -> MigrationDone:
    """The CLI's rules: locked on both hosts, the intent in the journal, before any change; refused (raises
    `StateUnwritable`) when the state directory cannot be written. Busy, or a journal that cannot be written,
    is a report that says nothing was migrated."""
    problem = state_problem()
    if problem:
        raise StateUnwritable(problem)
    src = hosts.connection(uri)
    report: MigrationReport | None = None
    with hosts.other(dest_uri) as dest:
        dom = src.lookupByName(guest)
        uuid = dom.UUIDString()
        try:
            with guest_lock(uri, uuid, guest=guest, action="migrate"), \
                    guest_lock(dest_uri, uuid, guest=guest, action="migrate"):
                op = Operation.begin(JournalAction.MIGRATE, uri, guest, uuid, plan={"destination": dest_uri})
                report = run_migration(src, uri, dom, dest, dest_uri, options, to_move,
                                       lambda step: progress(MigrationStep.of(step)), control, op=op,
                                       rewrites=rewrites)
                if report.certain and not report.lost:
                    op.close()
                else:
                    op.leave_open(EntryState.UNKNOWN, report.message)
        except ZtuiError as exc:  # busy, or the journal cannot be written: nothing was changed
            if report is None:
                report = MigrationReport(guest, uri, False, f"not migrated: {exc}", 0.0, source=uri,
                                         destination=dest_uri)
    try:
        record("migrate", uri, guest, "done" if report.ok else "failed", to=dest_uri,
               virsh=virsh_migrate(uri, guest, dest_uri, options), report=report.to_json(), via="tui")
    except (OSError, ZtuiError) as exc:  # the result stands; only its record is missing, and the user is told
        return MigrationDone(report, f"audit log not written: {exc}")
    return MigrationDone(report)


def undefine_leftover(hosts: LiveHosts, report: MigrationReport) -> LeftoverDone:
    """The definition a migration left on its source goes (`ops.leftover`), proven."""
    with hosts.other(report.destination) as dest:
        uuid = dest.lookupByName(report.guest).UUIDString()
        done = remove_leftover(hosts.connection(report.source), report.source, dest, report.destination, uuid,
                               report.guest)
    return LeftoverDone(done.ok, done.message)
