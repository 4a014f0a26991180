"""`ztui start|shutdown|reboot|destroy|suspend|resume GUEST`: a guest's daily actions, each proven.

Like the TUI keys they share `ztui.ops.lifecycle`: the virsh equivalent is printed, the attempt goes to
the audit log, and the exit status says what was proven — 0 the lifecycle event arrived and the state
agrees, 3 the request was accepted but not seen within `--timeout` (a guest OS that ignores a shutdown),
1 libvirt refused it, 2 the guest is not in a state for it or the input was bad (nothing changed).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from ztui.cli.attach import emit, open_guest, refuse_readonly
from ztui.cli.common import error
from ztui.errors import BadInput, End, Status
from ztui.ops.lifecycle import (
    Action,
    LifecyclePlan,
    Start,
    audit_refused,
    carry_out_recorded,
    plan,
    read_state,
    start_one_copy,
)
from ztui.ops.safety.other_copies import lock_notes


def _said(planned: LifecyclePlan, started: Start) -> None:
    """What the other hosts said, when it was not "nowhere else": the start refused (audited), or forced; then
    what to configure against a second copy, once a host."""
    check = started.check
    if started.result is not None:
        error(f"--force: {started.forced}")
    else:
        reason = check.reason()
        problem = audit_refused(replace(planned, refused=reason), via="cli")
        error(f"{reason}; nothing was changed (--force {planned.action.value}s it all the same)")
        if problem:
            error(problem)
    for note in lock_notes(check, planned.uri).values():
        error(note)


def run_lifecycle(args: argparse.Namespace) -> End:
    """Done when proven, failed when libvirt refused (or another action holds the guest), bad input when the
    guest is not in a state for it, unknown when requested but not proven within the timeout. Errors are
    `ztui.errors` exceptions, said by `ztui.cli.main`."""
    action = Action(args.action)
    refuse_readonly(args, f"lifecycle-{action.value}", f"{action.verb} guests")
    with open_guest(args) as (link, dom):
        planned = plan(action, link.uri, args.guest, read_state(link.conn, dom.UUIDString()))
        if not planned.ok:
            problem = audit_refused(planned, via="cli")
            if problem:
                error(problem)
            raise BadInput(f"{planned.refused}; nothing was changed")
        if action.starts_guest:  # only when no other host runs it (or --force), checked and started under one lock
            started = start_one_copy(link, dom, planned, force=args.force, timeout=args.timeout, via="cli")
            if not started.check.clear:
                _said(planned, started)
            if started.result is None:
                return Status.BAD_INPUT
            result, problem = started.result, started.problem
        else:
            result, problem = carry_out_recorded(link, dom, planned, timeout=args.timeout, via="cli")
    # the outcome once: on stdout when proven, else as the error line (with what to do next)
    emit(args, result.to_json(), [f"{action.value} {args.guest}", f"  {planned.virsh}",
                                  *([result.message] if result.ok else [])])
    if problem:
        error(problem)
    if result.ok:
        return Status.DONE
    error(result.message)
    return Status.UNKNOWN if result.requested else Status.FAILED
