"""`ztui detach`: hot-unplug a device; it counts as removed only when libvirt proves it gone.

A guest that does not release the device within `--timeout` leaves it *removal pending*: exit 3 with
advice, never "removed" (x86 PCI without a cooperating OS is the usual case). A lost connection is
settled by re-connecting, else "unknown" (exit 3) with the device's XML; a signal puts a removed device back.
"""

from __future__ import annotations

import argparse

from ztui.cli.attach import emit, open_guest, refuse_readonly
from ztui.cli.common import error
from ztui.errors import BadInput, End
from ztui.libvirtxml.common import pretty_xml
from ztui.ops.attach import (
    DEFAULT_DETACH_TIMEOUT,
    BadRequest,
    audit_refused,
    detach_recorded,
    plan_detach,
    read_facts,
    virsh_detach,
)


def run_detach(args: argparse.Namespace) -> End:
    timeout = DEFAULT_DETACH_TIMEOUT if args.timeout is None else args.timeout
    refuse_readonly(args, "detach", "detach devices", device=args.device, config=args.config)
    with open_guest(args) as (link, dom):
        try:
            plan = plan_detach(read_facts(link.conn, dom), args.device, config=args.config, force=args.force)
        except BadRequest as exc:
            audit_refused("detach", link.uri, args.guest, str(exc), device=args.device, config=args.config)
            raise BadInput(str(exc)) from None
        virsh = virsh_detach(link.uri, args.guest, plan.live, plan.config)
        xml = pretty_xml(plan.device.xml)
        done = detach_recorded(link, dom, plan, timeout=timeout, asked=args.device)
        change = done.change
    result = {"guest": args.guest, "uri": link.uri, "device": args.device, "target": plan.name,
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
    return done.end
