"""The frame around every change to a guest: its lock, its journal entry, its signal guard — in that order,
before anything changes — and, after it, the journal entry closed or left open by what was proven.

    with guarded(JournalAction.ATTACH, uri, dom, guest, device_xml=xml, plan={...}) as (op, guard):
        change = carry_out_attach(conn, dom, plan, uri=uri, op=op, guard=guard)
        audit_attach(...)                       # the outcome on record first,
        end_entry(op, change, guard)            # then the journal entry goes (or stays, with why)

`Busy` (another process acts on the guest) and `StateUnwritable` (no journal) are raised before any change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import libvirt

from ztui.errors import StateUnwritable
from ztui.ops.guestlock import guest_lock
from ztui.ops.journal import EntryState, JournalAction, Operation
from ztui.ops.proof import DeviceChange, Outcome
from ztui.ops.signals import SignalGuard

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


def exit_status(change: DeviceChange, guard: SignalGuard | None = None) -> int:
    """0 proven done; 1 refused (proven: nothing changed); 3 not proven (pending, not seen, unknown);
    128 + the signal when a signal stopped the action."""
    if guard is not None and guard.signum and not change.ok:
        return 128 + guard.signum
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
