"""The frame around every change to a guest: its lock, its journal entry, its signal guard — in that order,
before anything changes — and, after it, the journal entry closed or left open by what was proven.

    with guarded(JournalAction.ATTACH, uri, dom, guest, device_xml=xml, plan={...}) as (op, guard):
        change = carry_out_attach(conn, dom, plan, uri=uri, op=op, guard=guard)
        audit_attach(...)                       # the outcome on record first,
        end_entry(op, change, guard)            # then the journal entry goes (or stays, with why)

`attach_recorded` and `detach_recorded` are exactly that, for the CLI and the TUI.

`Busy` (another process acts on the guest) and `StateUnwritable` (no journal) are raised before any change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import libvirt

from ztui.errors import StateUnwritable
from ztui.ops.guestlock import guest_lock
from ztui.ops.journal import EntryState, JournalAction, Operation
from ztui.ops.proof import DeviceChange, Outcome
from ztui.ops.signals import SignalGuard

if TYPE_CHECKING:
    from ztui.ops.attach_plan import AttachPlan, AttachRequest
    from ztui.ops.hotplug import DetachPlan

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_UNKNOWN = 3

#: outcomes after which nothing is left to do (the journal entry goes)
SETTLED = frozenset({Outcome.ATTACHED, Outcome.REMOVED, Outcome.REFUSED, Outcome.INTERRUPTED})


@contextmanager
def guarded(action: JournalAction, uri: str, dom: libvirt.virDomain, guest: str, *, device_xml: str = "",
            plan: dict[str, Any] | None = None) -> Iterator[tuple[Operation, SignalGuard]]:
    """Lock the guest, guard against signals, write the intent; see the module."""
    uuid = dom.UUIDString()
    with SignalGuard(f"the {action.value} on {guest}") as guard, \
            guest_lock(uri, uuid, guest=guest, action=action.value):
        op = Operation.begin(action, uri, guest, uuid, device_xml=device_xml, plan=plan)
        yield op, guard


def end_entry(op: Operation, change: DeviceChange, guard: SignalGuard | None = None) -> None:
    """Close the journal entry when the outcome is settled; otherwise leave it open with the reason."""
    if change.outcome in SETTLED:
        op.close()
    else:
        state = EntryState.INTERRUPTED if guard is not None and guard.signum else EntryState.UNKNOWN
        op.leave_open(state, f"{change.outcome.value}: {change.message}")


def exit_status(change: DeviceChange, signum: int | None = None) -> int:
    """0 proven done; 1 refused (proven: nothing changed); 3 not proven (pending, not seen, unknown);
    128 + the signal when a signal stopped the action."""
    if signum and not change.ok:
        return 128 + signum
    if change.ok:
        return EXIT_OK
    return EXIT_REFUSED if change.outcome is Outcome.REFUSED else EXIT_UNKNOWN


def record_outcome(write: Callable[[], object]) -> str:
    """Write the audit record of a change that has happened: '' or why it could not be written.

    Raising here would hide a proven outcome (and a detached device's XML) behind an error about the log,
    so the caller prints the outcome and this line beside it."""
    try:
        write()
    except StateUnwritable as exc:
        return f"the audit log could not be written: {exc}"
    return ""


@dataclass(frozen=True)
class Recorded:
    """A change carried out in its frame: what happened, the journal entry left open ('' when closed),
    what could not be written (audit, journal), and the signal that stopped it."""

    change: DeviceChange
    journal: str
    problems: tuple[str, ...]
    signum: int | None

    @property
    def exit_status(self) -> int:
        return exit_status(self.change, self.signum)


def _recorded(change: DeviceChange, op: Operation, audit_error: str, guard: SignalGuard) -> Recorded:
    return Recorded(change, "" if op.closed else op.id, tuple(p for p in (audit_error, op.write_error) if p),
                    guard.signum)


def attach_recorded(uri: str, conn: libvirt.virConnect, dom: libvirt.virDomain, plan: AttachPlan, *,
                    request: AttachRequest | None = None, via: str = "cli", guard_signals: bool = True) -> Recorded:
    """An attach in its frame (lock, journal, signals), audited. Busy/StateUnwritable before any change."""
    from ztui.ops.hotplug import audit_attach, carry_out_attach

    with guarded(JournalAction.ATTACH, uri, dom, plan.guest, device_xml=plan.xml,
                 plan=attach_plan_record(plan)) as (op, guard):
        change = carry_out_attach(conn, dom, plan, uri=uri, op=op, guard=guard if guard_signals else None)
        audit_error = record_outcome(lambda: audit_attach(uri, plan, change, request=request, via=via,
                                                          journal=op.id))
        end_entry(op, change, guard)
    return _recorded(change, op, audit_error, guard)


def detach_recorded(uri: str, conn: libvirt.virConnect, dom: libvirt.virDomain, plan: DetachPlan, *,
                    timeout: float, asked: str = "", via: str = "cli", guard_signals: bool = True) -> Recorded:
    """A detach in its frame, audited (see `attach_recorded`)."""
    from ztui.ops.hotplug import audit_detach, carry_out_detach

    with guarded(JournalAction.DETACH, uri, dom, plan.guest, device_xml=plan.device.xml,
                 plan=detach_plan_record(plan, timeout)) as (op, guard):
        change = carry_out_detach(conn, dom, plan, timeout=timeout, uri=uri, op=op,
                                  guard=guard if guard_signals else None)
        audit_error = record_outcome(lambda: audit_detach(uri, plan, change, timeout=timeout, asked=asked, via=via,
                                                          journal=op.id))
        end_entry(op, change, guard)
    return _recorded(change, op, audit_error, guard)


def attach_plan_record(plan: AttachPlan) -> dict[str, Any]:
    """What `ztui journal finish|rollback` needs of an attach plan to redo or undo it."""
    return {"xml": plan.xml, "controller_xml": plan.controller_xml, "live": plan.live, "config": plan.config,
            "create_image": list(plan.create_image) if plan.create_image is not None else None}


def detach_plan_record(plan: DetachPlan, timeout: float) -> dict[str, Any]:
    """What `ztui journal finish|rollback` needs of a detach plan to redo or undo it."""
    return {"name": plan.name, "xml": plan.device.xml, "live": plan.live, "config": plan.config,
            "timeout": timeout}
