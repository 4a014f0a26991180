"""`ztui prepare` and `ztui unprepare`: a host device made ready for pass-through (and given back), with
the plan shown first, each step proven, journaled and audited, and everything undone when a step fails.

    ztui prepare vfio-ccw 0.0.5c3f --dry-run           # the plan as commands, nothing changed
    ztui prepare vfio-ap --adapter 0x0c --domain 0x0038 [--control-domain 0x0038]
    ztui prepare pci 0000:01:00.0 [--unmanaged]
    ztui unprepare vfio-ccw 0.0.5c3f | vfio-ap UUID | pci 0000:01:00.0

Exit statuses: 0 done and proven; 1 a step failed (everything done was undone, or what was not is listed
with its command); 2 bad input or a refusal known before any write (nothing changed); 128+N a signal
stopped it after a step (what was done is undone).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from ztui.cli.targets import readonly_why
from ztui.errors import BadInput, End, Refused, Status
from ztui.libvirt.connection import ConnectError, open_within
from ztui.libvirt.link import HostLink
from ztui.ops.prepare.guarded import run_recorded
from ztui.ops.prepare.plan import DRIVERCTL_DIR, parse_ap_numbers
from ztui.ops.prepare.read import read_host_view
from ztui.ops.prepare.request import PrepRequest, plan_for, preparable_here
from ztui.ops.prepare.steps import PrepKind, PrepRefused
from ztui.ops.safety.signals import SignalGuard

if TYPE_CHECKING:

    from ztui.ops.prepare.plan import HostView
    from ztui.ops.prepare.request import PrepRequest
    from ztui.ops.prepare.steps import PrepPlan

#: where driverctl's saved overrides are written (a test or a chroot sets it; default /etc/driverctl.d)
ENV_DRIVERCTL_DIR = "ZTUI_DRIVERCTL_DIR"


def _host_view(link: HostLink) -> HostView:
    return read_host_view(link, os.environ.get(ENV_DRIVERCTL_DIR, "").strip() or DRIVERCTL_DIR)


def request_of(args: argparse.Namespace) -> PrepRequest:
    """The request the arguments make; BadInput for numbers the kernel would not take."""
    kind = PrepKind(args.prep_kind)
    if kind is PrepKind.VFIO_CCW:
        return PrepRequest(kind, args.busid, undo=args.undo, uuid=getattr(args, "uuid", None))
    if kind is PrepKind.PCI:
        return PrepRequest(kind, args.address, undo=args.undo, unmanaged=getattr(args, "unmanaged", False))
    if args.undo:
        return PrepRequest(kind, args.uuid, undo=True)
    try:
        return PrepRequest(kind, uuid=args.uuid, adapters=tuple(parse_ap_numbers(args.adapter, "adapter", 256)),
                           domains=tuple(parse_ap_numbers(args.domain, "domain", 256)),
                           control_domains=tuple(parse_ap_numbers(args.control_domain, "control domain", 256)))
    except PrepRefused as exc:
        raise BadInput(str(exc)) from None


def make_plan(args: argparse.Namespace, view: HostView) -> PrepPlan:
    """The plan the arguments ask for; BadInput (nothing changed) when the device cannot be prepared."""
    try:
        return plan_for(view, request_of(args))
    except PrepRefused as exc:
        raise BadInput(str(exc)) from None


def run_prepare(args: argparse.Namespace) -> End:
    uris = list(args.connect)
    if len(uris) != 1:
        raise BadInput("give one host (-c URI) to prepare a device on")
    uri = uris[0]
    if not preparable_here(uri):
        raise BadInput(f"{uri} is not this machine's own host (remote, recorded or simulated): run ztui prepare "
                       "on that host (its sysfs is written directly)")
    if args.readonly and not args.dry_run:
        raise BadInput(f"{readonly_why(args)}: ztui does not prepare devices; nothing was changed")
    try:
        conn = open_within(uri, readonly=args.readonly or args.dry_run)
    except ConnectError as exc:
        raise Refused(str(exc)) from None
    try:
        link = HostLink(uri, conn)
        plan = make_plan(args, _host_view(link))
        if args.dry_run:
            _emit(args, {"plan": plan.as_json()}, plan.text())
            return Status.DONE
        return _run(args, link, plan)
    finally:
        conn.close()


def _run(args: argparse.Namespace, link: HostLink, plan: PrepPlan) -> End:
    if not args.json:
        sys.stdout.write(plan.text() + "\n")
        sys.stdout.flush()
    with SignalGuard(f"{'unprepare' if args.undo else 'prepare'} {plan.kind.value} {plan.target}") as guard:
        result, _op = run_recorded(link, plan, undo=args.undo, guard=guard)
    doc: dict[str, Any] = {"plan": plan.as_json(), "ok": result.ok, "error": result.error or None,
                           "done": [s.title for s in result.done], "undone": [s.title for s in result.undone],
                           "not_undone": [{"step": s.title, "command": s.command, "reason": r}
                                          for s, r in result.not_undone],
                           "guest_matrix": result.guest_matrix or None}
    _emit(args, doc, result.text())
    return Status.DONE if result.ok else Status.FAILED


def _emit(args: argparse.Namespace, doc: dict[str, Any], text: str) -> None:
    if args.json:
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(text + "\n")
    sys.stdout.flush()
