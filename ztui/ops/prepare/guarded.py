"""One frame for running a preparation, shared by `ztui prepare` and the host devices view: the device's
lock, the journal entry before the first write, the run with proof and rollback, the audit record.

    result, op = run_recorded(link, plan, undo=False, guard=guard)

The plan comes from `ztui.ops.prepare.plan` (read-only); nothing here decides what to do, only that it
is done safely and recorded.
"""

from __future__ import annotations

from ztui.host.sysfs import Sysfs
from ztui.libvirt.link import HostLink
from ztui.ops.prepare.nodedevs import LibvirtNodeDevices
from ztui.ops.prepare.recover import lock_key
from ztui.ops.prepare.run import PrepResult, run_plan
from ztui.ops.prepare.steps import PrepPlan
from ztui.ops.safety.audit import record
from ztui.ops.safety.guestlock import guest_lock
from ztui.ops.safety.journal import EntryState, JournalAction, Operation
from ztui.ops.safety.signals import SignalGuard


def run_recorded(link: HostLink, plan: PrepPlan, *, undo: bool,
                 guard: SignalGuard | None = None, sysfs: Sysfs | None = None) -> tuple[PrepResult, Operation]:
    """Run `plan` under the device's lock with its journal entry and audit record (see the module).

    `Busy` when another ztui works on the device, `StateUnwritable` when the journal cannot be written
    (both before any change)."""
    action = JournalAction.UNPREPARE if undo else JournalAction.PREPARE
    uri = link.uri
    between = (lambda _step: guard.check()) if guard is not None else None
    with guest_lock(uri, lock_key(plan), guest=plan.target, action=action.value):
        op = Operation.begin(action, uri, plan.target, plan.mdev_uuid, plan=plan.to_json())
        try:
            result = run_plan(plan, sysfs or Sysfs(), LibvirtNodeDevices(link.conn), op, between=between)
        except BaseException as exc:
            op.leave_open(EntryState.INTERRUPTED, f"{type(exc).__name__} after step {op.entry.step}; what was "
                                                   "done has been undone where proven")
            record(action.value, uri, plan.target, "interrupted", kind=plan.kind.value, mdev=plan.mdev_uuid)
            raise
        outcome = "done" if result.ok else ("failed, undone" if not result.not_undone else "failed, NOT undone")
        record(action.value, uri, plan.target, outcome, kind=plan.kind.value, mdev=plan.mdev_uuid,
               steps=[s.command for s in result.done], error=result.error,
               not_undone=[u.command for u, _ in result.not_undone])
        if result.not_undone:
            op.leave_open(EntryState.UNKNOWN, "steps could not be undone: "
                          + "; ".join(u.command for u, _ in result.not_undone))
        else:
            op.close()
    return result, op
