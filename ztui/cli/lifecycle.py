"""`ztui start|shutdown|reboot|destroy|suspend|resume GUEST`: a guest's daily actions, each proven.

Like the TUI keys they share `ztui.ops.lifecycle`: the virsh equivalent is printed, the attempt goes to
the audit log, and the exit status says what was proven — 0 the lifecycle event arrived and the state
agrees, 3 the request was accepted but not seen within `--timeout` (a guest OS that ignores a shutdown),
1 libvirt refused it, 2 the guest is not in a state for it or the input was bad (nothing changed).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import TYPE_CHECKING

from ztui.cli.attach import emit, open_guest, refuse_readonly
from ztui.cli.common import EXIT_BAD_INPUT, error
from ztui.errors import BadInput

if TYPE_CHECKING:
    from ztui.ops.lifecycle import LifecyclePlan
    from ztui.ops.other_copies import Start

_HELP = {
    "start": "start a shut-off guest", "shutdown": "ask a guest's OS to shut down (graceful)",
    "reboot": "ask a guest's OS to reboot", "destroy": "force a guest off at once",
    "suspend": "pause a running guest", "resume": "resume a paused guest",
}


def add_lifecycle_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                           common: argparse.ArgumentParser) -> None:
    from ztui.ops.lifecycle import Action

    for action in Action:
        p = subparsers.add_parser(action.value, parents=[common], help=_HELP[action.value],
                                  description=f"{_HELP[action.value].capitalize()}, and wait for libvirt's "
                                              "lifecycle event that proves it (exit 3 when it does not come "
                                              "within the timeout).")
        p.add_argument("guest", metavar="GUEST")
        p.add_argument("--timeout", type=_seconds, default=None, metavar="SECONDS",
                       help="how long to wait for the proof (default 60 for shutdown and reboot, else 10)")
        p.add_argument("--json", action="store_true", help="print the result as one JSON object")
        if action.starts_guest:
            p.add_argument("--force", action="store_true",
                           help="even when the guest runs on another host ztui knows (two copies on shared "
                                "disks destroy their file systems)")
        p.set_defaults(func=run_lifecycle, action=action.value, force=False)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError("the timeout is between 0 and 3600 seconds")
    return value


def _said(planned: LifecyclePlan, started: Start) -> None:
    """What the other hosts said, when it was not "nowhere else": the start refused (audited), or forced; then
    what to configure against a second copy, once a host."""
    from ztui.ops.lifecycle import audit_refused
    from ztui.ops.other_copies import lock_notes

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


def run_lifecycle(args: argparse.Namespace) -> int:
    """0 proven, 1 libvirt refused (or another action holds the guest), 2 not in a state for it, 3 requested
    but not proven within the timeout. Errors are `ztui.errors` exceptions, mapped by `cli/main.py`."""
    from ztui.ops.action import EXIT_OK, EXIT_REFUSED, EXIT_UNKNOWN
    from ztui.ops.lifecycle import Action, audit_refused, carry_out_recorded, plan, read_state
    from ztui.ops.other_copies import start_one_copy

    action = Action(args.action)
    refuse_readonly(args, f"lifecycle-{action.value}", f"{action.verb} guests")
    with open_guest(args) as (conn, dom, uri):
        planned = plan(action, uri, args.guest, read_state(conn, dom.UUIDString()))
        if not planned.ok:
            problem = audit_refused(planned, via="cli")
            if problem:
                error(problem)
            raise BadInput(f"{planned.refused}; nothing was changed")
        if action.starts_guest:  # only when no other host runs it (or --force), checked and started under one lock
            started = start_one_copy(conn, dom, uri, planned, force=args.force, timeout=args.timeout, via="cli")
            if not started.check.clear:
                _said(planned, started)
            if started.result is None:
                return EXIT_BAD_INPUT
            result, problem = started.result, started.problem
        else:
            result, problem = carry_out_recorded(uri, conn, dom, planned, timeout=args.timeout, via="cli")
    # the outcome once: on stdout when proven, else as the error line (with what to do next)
    emit(args, result.to_json(), [f"{action.value} {args.guest}", f"  {planned.virsh}",
                                  *([result.message] if result.ok else [])])
    if problem:
        error(problem)
    if result.ok:
        return EXIT_OK
    error(result.message)
    return EXIT_UNKNOWN if result.requested else EXIT_REFUSED
