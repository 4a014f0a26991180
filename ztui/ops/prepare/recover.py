"""Resolving a preparation that did not finish (a crash, a signal, a step that could not be undone).

Its journal entry holds the whole plan and the step it reached (each step is recorded before it runs), so:

* `rollback` undoes the steps up to and including the one reached, in reverse, with the undo steps the plan
  itself carries, each proven; an undo that finds nothing to undo (no driver to unbind, no mdev left) does
  nothing;
* `finish` runs the plan from the step reached on; steps already done are done again harmlessly (the same
  value written, an mdev already defined or started is left as it is), then proven like any run. Before it,
  the preparation is planned again against the host as it is now (`finish_refusal`): a device the rule of
  `ztui.host.release` keeps today — the host mounted it meanwhile, a guest took it — is not taken, and the
  entry is left for a rollback.

Both take the device's lock, so an entry whose process still works on it cannot be resolved behind its back.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace

import libvirt

from ztui.errors import BadInput, Refused
from ztui.facts import ap_queue_numbers
from ztui.host.sysfs import Sysfs
from ztui.libvirt.connection import ConnectError, open_connection
from ztui.libvirt.link import HostLink
from ztui.model import HostDeviceKind
from ztui.ops.prepare.nodedevs import LibvirtNodeDevices
from ztui.ops.prepare.plan import HostView
from ztui.ops.prepare.read import read_host_view
from ztui.ops.prepare.request import PrepRequest, plan_for
from ztui.ops.prepare.run import PrepResult, run_plan
from ztui.ops.prepare.steps import Direction, PrepKind, PrepPlan, PrepRefused
from ztui.ops.safety.audit import record
from ztui.ops.safety.guestlock import guest_lock
from ztui.ops.safety.journal import Entry, EntryState, Operation, resume
from ztui.ops.safety.signals import SignalGuard


def lock_key(plan: PrepPlan) -> str:
    """The lock of a host device being prepared (beside the guests' locks, keyed like them by URI)."""
    return f"hostdev:{plan.kind.value}:{plan.target}"


def step_reached(entry: Entry) -> int:
    """How many of the plan's steps may have been done: the one recorded last counts (it may have run)."""
    head = entry.step.partition(":")[0]
    if head == "undo":  # it was rolling back: any step may have been done
        return len(entry.plan.get("steps", []))
    return int(head) if head.isdigit() else 0


def rollback_plan(plan: PrepPlan, reached: int) -> PrepPlan:
    undo = tuple(u for step in reversed(plan.steps[:reached]) for u in step.undo)
    return PrepPlan(plan.kind, Direction.UNPREPARE, plan.target, undo,
                    result=f"the {plan.direction.value} of {plan.target} is undone", touches=plan.touches)


def finish_plan(plan: PrepPlan, reached: int) -> PrepPlan:
    return PrepPlan(plan.kind, plan.direction, plan.target, plan.steps[max(reached - 1, 0):], plan.result,
                    plan.notes, plan.mdev_uuid, plan.touches)


def finish_refusal(plan: PrepPlan, view: HostView) -> str:
    """Why finishing `plan` would take from the host a device `release_refusal` keeps now ('' when it may go
    on): the same preparation planned again as it is now, the plan's own mdev (if it got that far) not
    counted as another mdev holding its APQNs."""
    if plan.direction is not Direction.PREPARE:
        return ""
    if plan.kind is PrepKind.VFIO_AP:
        own = view.inventory.get(HostDeviceKind.MDEV, plan.mdev_uuid) if view.inventory is not None else None
        if own is not None and view.inventory is not None:
            view = replace(view, inventory=view.inventory.without_device(own.key))
        queues = [n for q in plan.touches if (n := ap_queue_numbers(q)) is not None]
        request = PrepRequest(plan.kind, adapters=tuple(dict.fromkeys(a for a, _ in queues)),
                              domains=tuple(dict.fromkeys(d for _, d in queues)), uuid=plan.mdev_uuid or None)
    else:
        request = PrepRequest(plan.kind, plan.target, uuid=plan.mdev_uuid or None, unmanaged=bool(plan.steps))
    try:
        plan_for(view, request)
    except PrepRefused as exc:
        return str(exc)
    return ""


def resolve_prepare(entry: Entry, finish: bool) -> tuple[PrepResult, Operation]:
    """Finish or roll back a preparation's entry; the entry goes when the result is proven."""
    plan = PrepPlan.from_json(entry.plan)
    todo = (finish_plan if finish else rollback_plan)(plan, step_reached(entry))
    how = "finish" if finish else "rollback"
    try:
        conn = open_connection(entry.uri)
    except ConnectError as exc:
        raise Refused(f"{exc}; {entry.id} stays in the journal") from None
    try:
        with guest_lock(entry.uri, lock_key(plan), guest=plan.target, action=f"journal {how}"), \
                SignalGuard(f"the {how} of {entry.id}") as guard:
            refused = finish_refusal(plan, read_host_view(HostLink(entry.uri, conn))) if finish else ""
            if refused:
                raise BadInput(f"{refused}: finishing {entry.id} would take it from the host; `ztui journal rollback "
                               f"{entry.id}` undoes what was done")
            op = resume(entry)
            result = run_plan(todo, Sysfs(), LibvirtNodeDevices(conn), op, between=lambda _s: guard.check())
            record(f"journal-{how}", entry.uri, plan.target, "done" if result.ok else "failed",
                   journal=entry.id, of=entry.action.value, error=result.error)
            if result.ok:
                op.close()
            else:
                op.leave_open(EntryState.UNKNOWN, f"{how} failed: {result.error}")
            return result, op
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            conn.close()
