"""`ztui evacuate HOST`: empty a host for maintenance — every running guest to a host that can take it.

The plan first (`ztui.ops.evacuate`): per running guest its destination (the ready host with the most
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

from ztui.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, error
from ztui.cli.validate import text
from ztui.report.safe_text import escape_control

EXIT_UNKNOWN = 3


def add_evacuate_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                         common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("evacuate", parents=[common],
                              help="migrate every running guest off a host (maintenance), planned first",
                              description="Plan a destination for every running guest of HOST (the ready host with "
                                          "the most free memory), show the plan, then migrate them one by one, "
                                          "stopping at the first that cannot go.")
    p.add_argument("host", metavar="HOST", type=text(), help="the host to empty: a saved name, a lab host, a URI")
    p.add_argument("--to", action="append", default=[], metavar="HOST", type=text(), dest="to_hosts",
                   help="only these destinations (repeatable; default: every other host ztui knows)")
    p.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    p.add_argument("--json", action="store_true", help="JSON lines: the plan, each guest's migration, the report")
    p.set_defaults(func=run_evacuate)


def _uri(name: str, args: argparse.Namespace) -> str:
    from ztui.config import choose_hosts

    (target,) = choose_hosts([name], None, lab=getattr(args, "lab_hosts", None) or {}).hosts
    return target.uri


def run_evacuate(args: argparse.Namespace) -> int:
    import libvirt

    from ztui.libvirt.connection import ConnectError, install_error_handler, libvirt_reason, open_within
    from ztui.libvirt.eventloop import ensure_event_loop
    from ztui.ops.evacuate import plan_evacuation, run_evacuation
    from ztui.ops.migrate_guarded import Guarded
    from ztui.ops.migrate_report import StepResult
    from ztui.ops.signals import SignalGuard

    src_uri = _uri(args.host, args)
    to = [_uri(name, args) for name in args.to_hosts]
    if src_uri in to:
        error("the host to empty is among the destinations (--to)")
        return EXIT_BAD_INPUT
    if args.readonly and not args.dry_run:
        from ztui.cli.targets import readonly_why

        error(f"{readonly_why(args)}: ztui does not migrate guests on a read-only connection (--dry-run plans)")
        return EXIT_BAD_INPUT
    session = [src_uri, *to, *getattr(getattr(args, "targets", None), "uris", ())]
    install_error_handler()
    ensure_event_loop()
    try:
        src = open_within(src_uri, readonly=args.readonly)
    except ConnectError as exc:
        error(str(exc))
        return EXIT_FAILED

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
            return EXIT_FAILED
        emit(plan.to_json(), plan.lines() + ([] if args.dry_run or not plan.moves else ["carrying it out:"]))
        if args.dry_run or not plan.moves:
            return EXIT_OK if plan.complete else EXIT_FAILED

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
        if guard.signum:
            return 128 + guard.signum
        if not report.certain:
            return EXIT_UNKNOWN
        return EXIT_OK if report.ok else EXIT_FAILED
    finally:
        src.close()
