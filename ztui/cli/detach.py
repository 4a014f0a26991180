"""`ztui detach`: hot-unplug a device; it counts as removed only when libvirt proves it gone.

A guest that does not release the device within `--timeout` leaves it *removal pending*: exit 3 with
advice, never "removed" (x86 PCI without a cooperating OS is the usual case).
"""

from __future__ import annotations

import argparse

from ztui.cli.attach import CommandExit, emit, exit_status, open_guest, refuse_readonly
from ztui.cli.common import EXIT_BAD_INPUT, error


def add_detach_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                       common: argparse.ArgumentParser) -> None:
    from ztui.ops.proof import DEFAULT_DETACH_TIMEOUT

    d = subparsers.add_parser(
        "detach", parents=[common], help="hot-unplug a device from a guest",
        description="Detach a device by target (vdb), alias (virtio-disk1) or bus-ID (0.0.0003). A running "
                    "guest loses it live (and from its config with --config); a shut-off guest from its "
                    "config. Exit 3 when the guest does not release it within the timeout.")
    d.add_argument("guest", metavar="GUEST")
    d.add_argument("device", metavar="TARGET|ALIAS|BUSID")
    d.add_argument("--timeout", type=_seconds, default=DEFAULT_DETACH_TIMEOUT,
                   help=f"seconds to wait for the guest to release it (default {DEFAULT_DETACH_TIMEOUT:g})")
    d.add_argument("--config", action="store_true", help="also remove it from the persistent config")
    d.add_argument("--json", action="store_true", help="print the result as one JSON object")
    d.set_defaults(func=run_detach)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError("the timeout is between 0 and 3600 seconds")
    return value


def run_detach(args: argparse.Namespace) -> int:
    try:
        return _detach(args)
    except CommandExit as exc:
        error(str(exc))
        return exc.status


def _detach(args: argparse.Namespace) -> int:
    from ztui.libvirtxml.common import pretty_xml
    from ztui.ops.hotplug import (
        BadRequest,
        audit_detach,
        audit_refused,
        carry_out_detach,
        plan_detach,
        read_facts,
        virsh_detach,
    )

    refuse_readonly(args, "detach devices")
    with open_guest(args) as (conn, dom, uri):
        try:
            plan = plan_detach(read_facts(conn, dom), args.device, config=args.config)
        except BadRequest as exc:
            audit_refused("detach", uri, args.guest, str(exc), device=args.device, config=args.config)
            raise CommandExit(EXIT_BAD_INPUT, str(exc)) from None
        virsh = virsh_detach(uri, args.guest, plan.live, plan.config)
        xml = pretty_xml(plan.device.xml)
        change = carry_out_detach(conn, dom, plan, timeout=args.timeout)
        audit_detach(uri, plan, change, timeout=args.timeout, asked=args.device)
    result = {"guest": args.guest, "uri": uri, "device": args.device, "target": plan.name,
              "alias": plan.device.alias, "outcome": change.outcome.value, "ok": change.ok,
              "message": change.message, "live": plan.live, "config": plan.config, "xml": xml, "virsh": virsh,
              "notes": list(change.notes), "seconds": round(change.seconds, 3)}
    lines = [f"detach {plan.name} from {args.guest} ({plan.where})", f"  {virsh}",
             *("  " + x for x in xml.splitlines())]
    if change.ok:
        lines.append(f"removed: {plan.name} ({change.seconds * 1000:.0f} ms)")
    emit(args, result, lines)
    if not change.ok:
        error(change.message)
        for note in change.notes:
            error(note)
    return exit_status(change)
