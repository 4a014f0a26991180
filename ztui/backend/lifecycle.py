"""A guest's daily actions for the UI: start (under the one-copy rule: `ztui.ops.safety.other_copies`), resume, shut
down, reboot, destroy, pause, each proven (`ztui.ops.lifecycle`) and audited; and the console's record.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from ztui.backend.hosts import LiveHosts
from ztui.errors import ZtuiError
from ztui.libvirt.link import HostLink
from ztui.ops.lifecycle import (
    Action,
    LifecyclePlan,
    LifecycleResult,
    audit_refused,
    carry_out_recorded,
    plan,
    start_one_copy,
    start_or_resume,
    virsh_console,
)
from ztui.ops.safety.audit import record
from ztui.ops.safety.other_copies import CopyCheck, lock_notes

__all__ = ["Action", "CopyCheck", "LifecycleDone", "LifecyclePlan", "LifecycleResult", "audit_refused", "plan",
           "start_or_resume", "virsh_console"]


@dataclass(frozen=True)
class LifecycleDone:
    """How an action ended: its proven `result` (with what could not be written beside it, `problem`); or
    `error`, the line to show when nothing was done or nothing is claimed; or, for a start, `asked`: another
    host runs the guest (or did not answer) and the user must confirm, with what makes libvirt refuse a second
    copy on each host (`notes`)."""

    result: LifecycleResult | None = None
    problem: str = ""
    error: str = ""
    asked: CopyCheck | None = None
    notes: dict[str, str] = field(default_factory=dict)


def carry_out(hosts: LiveHosts, planned: LifecyclePlan, uuid: str, shown: Sequence[str],
              accepted: CopyCheck | None, timeout: float | None) -> LifecycleDone:
    """On the session's connection: a start or resume only when no other host runs the guest, or `accepted`
    (what the user confirmed) covers what they say now —, audited."""
    conns = hosts.connections()
    conn = conns.get(planned.uri)
    if conn is None:
        return LifecycleDone(error=f"{planned.guest}: the host is disconnected; nothing was done")
    link = HostLink(planned.uri, conn)
    try:
        dom = conn.lookupByUUIDString(uuid)
        if planned.action.starts_guest:
            started = start_one_copy(link, dom, planned, session=list(shown), conns=conns,
                                     accepted=accepted, timeout=timeout, via="tui")
            if started.result is None:
                return LifecycleDone(asked=started.check, notes=lock_notes(started.check, planned.uri))
            return LifecycleDone(started.result, started.problem)
        result, problem = carry_out_recorded(link, dom, planned, timeout=timeout, via="tui")
        return LifecycleDone(result, problem)
    except ZtuiError as exc:  # another action holds the guest, or no state directory: nothing was done
        return LifecycleDone(error=f"{planned.guest}: {exc}")
    except Exception as exc:  # the guest vanished or the host went away mid-way: nothing is claimed
        with contextlib.suppress(ZtuiError):
            record(f"lifecycle-{planned.action.value}", planned.uri, planned.guest, "not proven",
                   virsh=planned.virsh, message=str(exc), via="tui")
        return LifecycleDone(error=f"{planned.guest}: {planned.action.verb} not proven: {exc}")


def console_ended(uri: str, guest: str, code: int, command: Sequence[str]) -> None:
    """The console's record in the audit log; it is not a change, so a full state directory does not matter."""
    with contextlib.suppress(ZtuiError):
        record("console", uri, guest, "ended" if code == 0 else f"exit {code}", virsh=" ".join(command), via="tui")
