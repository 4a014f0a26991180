"""The frame around every change to a guest: its lock, its journal entry, its signal guard — in that order,
before anything changes — and, after it, the journal entry closed or left open by what was proven.

    with guarded(JournalAction.ATTACH, link.uri, dom, guest, device_xml=xml, plan={...}) as (op, guard):
        change = carry_out_attach(link, dom, plan, op=op, guard=guard)
        audit_attach(...)                       # the outcome on record first,
        end_entry(op, change, guard)            # then the journal entry goes (or stays, with why)

`attach_recorded` and `detach_recorded` are exactly that, for the CLI and the TUI.

`Busy` (another process acts on the guest) and `StateUnwritable` (no journal) are raised before any change.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import libvirt

from ztui.errors import End, StateUnwritable, Status, Stopped
from ztui.libvirt.link import HostLink
from ztui.ops.attach.detach_plan import DetachPlan
from ztui.ops.attach.plan import AttachPlan, AttachRequest
from ztui.ops.attach.prove import DeviceChange, Outcome
from ztui.ops.attach.run import carry_out_attach, carry_out_detach
from ztui.ops.attach.virsh import virsh_commands, virsh_detach
from ztui.ops.safety.audit import record, record_outcome
from ztui.ops.safety.guestlock import guest_lock
from ztui.ops.safety.journal import EntryState, JournalAction, Operation
from ztui.ops.safety.signals import SignalGuard

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


def ended(change: DeviceChange, signum: int | None = None) -> End:
    """How the command that asked for the change ended: done when proven, failed when refused (proven:
    nothing changed), unknown when not proven (pending, not seen, unknown), stopped when a signal stopped
    the action before its change was proven."""
    if signum and not change.ok:
        return Stopped(signum)
    if change.ok:
        return Status.DONE
    return Status.FAILED if change.outcome is Outcome.REFUSED else Status.UNKNOWN


@dataclass(frozen=True)
class Recorded:
    """A change carried out in its frame: what happened, the journal entry left open ('' when closed),
    what could not be written (audit, journal), and the signal that stopped it."""

    change: DeviceChange
    journal: str
    problems: tuple[str, ...]
    signum: int | None

    @property
    def end(self) -> End:
        return ended(self.change, self.signum)


def _recorded(change: DeviceChange, op: Operation, audit_error: str, guard: SignalGuard) -> Recorded:
    return Recorded(change, "" if op.closed else op.id, tuple(p for p in (audit_error, op.write_error) if p),
                    guard.signum)


def attach_recorded(link: HostLink, dom: libvirt.virDomain, plan: AttachPlan, *,
                    request: AttachRequest | None = None, via: str = "cli", guard_signals: bool = True) -> Recorded:
    """An attach in its frame (lock, journal, signals), audited. Busy/StateUnwritable before any change."""
    uri = link.uri
    with guarded(JournalAction.ATTACH, uri, dom, plan.guest, device_xml=plan.xml,
                 plan=attach_plan_record(plan)) as (op, guard):
        change = carry_out_attach(link, dom, plan, op=op, guard=guard if guard_signals else None)
        audit_error = record_outcome(lambda: audit_attach(uri, plan, change, request=request, via=via,
                                                          journal=op.id))
        end_entry(op, change, guard)
    return _recorded(change, op, audit_error, guard)


def detach_recorded(link: HostLink, dom: libvirt.virDomain, plan: DetachPlan, *,
                    timeout: float, asked: str = "", via: str = "cli", guard_signals: bool = True) -> Recorded:
    """A detach in its frame, audited (see `attach_recorded`)."""
    uri = link.uri
    with guarded(JournalAction.DETACH, uri, dom, plan.guest, device_xml=plan.device.xml,
                 plan=detach_plan_record(plan, timeout)) as (op, guard):
        change = carry_out_detach(link, dom, plan, timeout=timeout, op=op,
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


def audit_attach(uri: str, plan: AttachPlan, change: DeviceChange, *, request: AttachRequest | None = None,
                 via: str = "cli", **extra: Any) -> None:
    """One audit record for an attach attempt: request, spec, XML, commands and the proven result."""
    fields: dict[str, Any] = {}
    if request is not None:
        fields["request"] = dataclasses.asdict(request)
    record("attach", uri, plan.guest, change.outcome.value, **fields,
           spec={"type": type(plan.spec).__name__, **dataclasses.asdict(plan.spec)}, xml=plan.xml,
           controller_xml=plan.controller_xml or None, live=plan.live, config=plan.config,
           virsh=virsh_commands(uri, plan), message=change.message, error_code=change.error_code,
           seconds=round(change.seconds, 3), via=via, **extra)


def audit_detach(uri: str, plan: DetachPlan, change: DeviceChange, *, timeout: float, via: str = "cli",
                 asked: str = "", **extra: Any) -> None:
    """One audit record for a detach attempt, with the device XML and the proven (or pending) result."""
    record("detach", uri, plan.guest, change.outcome.value, device=asked or plan.name, target=plan.name,
           alias=plan.device.alias, live=plan.live, config=plan.config, xml=plan.device.xml,
           virsh=virsh_detach(uri, plan.guest, plan.live, plan.config), message=change.message,
           error_code=change.error_code, timeout=timeout, seconds=round(change.seconds, 3), via=via, **extra)


def audit_refused(action: str, uri: str, guest: str, message: str, **fields: Any) -> None:
    """A request refused before any change (bad input): recorded too, so the log shows every attempt.

    A log that cannot be written must not turn bad input (exit 2) into another error: it is logged."""
    try:
        record(action, uri, guest, "bad request", message=message, **fields)
    except StateUnwritable as exc:
        logging.getLogger("ztui.audit").warning("%s", exc)
