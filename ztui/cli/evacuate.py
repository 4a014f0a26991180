"""`ztui evacuate HOST`: empty a host for maintenance — every running guest to a host that can take it.

The plan first (`ztui.ops.migrate.evacuate`): per running guest its destination (the ready host with the most
memory left, from `ztui where`), the devices detached before and attached there after, the disks renamed
there, or why it cannot go. `--dry-run` stops there. Then guest by guest, each a migration with its own
safety (lock, fresh preflight, journal, rollback, audit), stopping at the first guest that cannot go; the
report says what moved and what stayed.

Exit status: 0 every running guest moved; 1 some stayed or failed (the report says which and why; where
each runs is known); 2 bad input (an unknown host) — nothing changed; 3 where a guest runs could not be
proven; 128+N stopped by signal N (the guest being moved is settled first).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import libvirt

from ztui.cli.common import error
from ztui.cli.targets import readonly_why
from ztui.config import choose_hosts
from ztui.errors import End, Status
from ztui.libvirt.connection import ConnectError, install_error_handler, libvirt_reason, open_within
from ztui.libvirt.eventloop import ensure_event_loop
from ztui.ops.migrate import Guarded, StepResult, plan_evacuation, run_evacuation
from ztui.ops.safety.signals import SignalGuard
from ztui.safe_text import escape_control


def _uri(name: str, args: argparse.Namespace) -> str:
    (target,) = choose_hosts([name], None, lab=getattr(args, "lab_hosts", None) or {}).hosts
    return target.uri


def run_evacuate(args: argparse.Namespace) -> End:

    src_uri = _uri(args.host, args)
    to = [_uri(name, args) for name in args.to_hosts]
    if src_uri in to:
        error("the host to empty is among the destinations (--to)")
        return Status.BAD_INPUT
    if args.readonly and not args.dry_run:
        error(f"{readonly_why(args)}: ztui does not migrate guests on a read-only connection (--dry-run plans)")
        return Status.BAD_INPUT
    session = [src_uri, *to, *getattr(getattr(args, "targets", None), "uris", ())]
    install_error_handler()
    ensure_event_loop()
    try:
        src = open_within(src_uri, readonly=args.readonly)
    except ConnectError as exc:
        error(str(exc))
        return Status.FAILED

    def emit(obj: dict[str, Any], lines: list[str]) -> None:
        if args.json:
            sys.stdout.write(json.dumps(obj) + "\n")
        else:
            sys.stdout.write("\n".join(escape_control(line) for line in lines) + "\n")
        sys.stdout.flush()

    try:
        try:
            plan = plan_evacuation(src, src_uri, session, to=to)
        except libvirt.libvirtError as exc:
            error(f"reading {src_uri} failed: {libvirt_reason(exc)}")
            return Status.FAILED
        emit(plan.to_json(), plan.lines() + ([] if args.dry_run or not plan.moves else ["carrying it out:"]))
        if args.dry_run or not plan.moves:
            return Status.DONE if plan.complete else Status.FAILED

        def shown(guest: str, done: Guarded) -> None:
            emit({"type": "guest", "guest": guest, "ok": done.check.ok,
                  "findings": [f.to_json() for f in done.check.findings], "virsh": done.command,
                  "plan": [s.to_json() for s in done.plan]},
                 [f"  {guest}: " + ("migrating" if done.check.ok else "refused by its preflight"),
                  *(f"    {s.text}" for s in done.plan if done.check.ok)])

        def step(result: StepResult) -> None:
            emit(result.to_json(), [f"    {result.action} {result.device}".rstrip()
                                    + f": {'ok' if result.ok else 'FAILED'} — {result.message}"])

        with SignalGuard(f"the evacuation of {plan.host}") as guard:
            report = run_evacuation(plan, src, session, on_guest=shown, stop=lambda: bool(guard.signum),
                                    on_step=step, guard=guard)
        emit(report.to_json(), report.lines())
        return report.end(guard.signum)
    finally:
        src.close()
