"""`ztui detach`: hot-unplug a device; it counts as removed only when libvirt proves it gone.

A guest that does not release the device within `--timeout` leaves it *removal pending*: exit 3 with
advice, never "removed" (x86 PCI without a cooperating OS is the usual case). A lost connection is
settled by re-connecting, else "unknown" (exit 3) with the device's XML; a signal puts a removed device back.
"""

from __future__ import annotations

import argparse

from ztui.cli.attach import emit, open_guest, refuse_readonly
from ztui.cli.common import error
from ztui.cli.validate import text
from ztui.errors import BadInput


def add_detach_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                       common: argparse.ArgumentParser) -> None:
    from ztui.ops.proof import DEFAULT_DETACH_TIMEOUT

    d = subparsers.add_parser(
        "detach", parents=[common], help="hot-unplug a device from a guest",
        description="Detach a device by target (vdb), alias (virtio-disk1) or bus-ID (0.0.0003). A running "
                    "guest loses it live (and from its config with --config); a shut-off guest from its "
                    "config. Exit 3 when the guest does not release it within the timeout.")
    d.add_argument("guest", metavar="GUEST", type=text())
    d.add_argument("device", metavar="TARGET|ALIAS|BUSID", type=text())
    d.add_argument("--timeout", type=_seconds, default=DEFAULT_DETACH_TIMEOUT,
                   help=f"seconds to wait for the guest to release it (default {DEFAULT_DETACH_TIMEOUT:g})")
    d.add_argument("--config", action="store_true", help="also remove it from the persistent config")
    d.add_argument("--force", action="store_true",
                   help="even the device the running guest IPLed from (its root file system goes with it)")
    d.add_argument("--json", action="store_true", help="print the result as one JSON object")
    d.set_defaults(func=run_detach)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not 0 < value <= 3600:  # also NaN
        raise argparse.ArgumentTypeError("the timeout is between 0 and 3600 seconds")
    return value


def run_detach(args: argparse.Namespace) -> int:
    from ztui.libvirtxml.common import pretty_xml
    from ztui.ops.action import detach_recorded
    from ztui.ops.hotplug import (
        BadRequest,
        audit_refused,
        plan_detach,
        read_facts,
        virsh_detach,
    )

    refuse_readonly(args, "detach", "detach devices", device=args.device, config=args.config)
    with open_guest(args) as (conn, dom, uri):
        try:
            plan = plan_detach(read_facts(conn, dom), args.device, config=args.config, force=args.force)
        except BadRequest as exc:
            audit_refused("detach", uri, args.guest, str(exc), device=args.device, config=args.config)
            raise BadInput(str(exc)) from None
        virsh = virsh_detach(uri, args.guest, plan.live, plan.config)
        xml = pretty_xml(plan.device.xml)
        done = detach_recorded(uri, conn, dom, plan, timeout=args.timeout, asked=args.device)
        change = done.change
    result = {"guest": args.guest, "uri": uri, "device": args.device, "target": plan.name,
              "alias": plan.device.alias, "outcome": change.outcome.value, "ok": change.ok,
              "message": change.message, "live": plan.live, "config": plan.config, "xml": xml, "virsh": virsh,
              "notes": list(change.notes), "seconds": round(change.seconds, 3),
              "journal": done.journal}
    lines = [f"detach {plan.name} from {args.guest} ({plan.where})", f"  {virsh}",
             *("  " + x for x in xml.splitlines())]
    if change.ok:
        lines.append(f"removed: {plan.name} ({change.seconds * 1000:.0f} ms)")
    emit(args, result, lines)
    if not change.ok:
        error(change.message)
        for note in change.notes:
            error(note)
    if done.journal:
        error(f"the operation stays in the journal as {done.journal}: see `ztui journal`")
    for problem in done.problems:
        error(problem)
    return done.exit_status
