"""`ztui attach`: hotplug a device from the command line; it counts as attached only when libvirt shows it.

How it ends (shared with `ztui detach`, `ztui.errors.Status`): done (proven), failed (libvirt's reason,
another action on the guest, no journal: nothing changed), bad input (nothing changed), unknown (not proven:
a timeout, a lost connection; the journal entry stays open), or stopped by a signal (what was done undone).
Errors are `ztui.errors` exceptions; `ztui.cli.main` turns them, and every end, into a line and a status.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import libvirt

from ztui.cli.common import error
from ztui.cli.targets import readonly_why
from ztui.errors import BadInput, End, Refused
from ztui.libvirt.connection import ConnectError, open_within
from ztui.libvirt.eventloop import ensure_event_loop
from ztui.libvirt.link import HostLink
from ztui.ops.attach import (
    SOURCES,
    AttachRequest,
    BadRequest,
    HostProbe,
    attach_recorded,
    audit_refused,
    parse_size,
    plan_attach,
    read_facts,
    virsh_attach,
    virsh_commands,
)


@contextmanager
def open_guest(args: argparse.Namespace) -> Iterator[tuple[HostLink, libvirt.virDomain]]:
    """The host (its connection with the event loop running, for DEVICE_REMOVED) and the guest; BadInput,
    Refused if not."""
    uris = list(args.connect)
    if len(uris) != 1:
        raise BadInput("give one host (-c URI) for a change")
    uri = uris[0]
    ensure_event_loop()  # before opening: the proof listens for DEVICE_REMOVED
    try:
        conn = open_within(uri)
    except ConnectError as exc:
        raise Refused(str(exc)) from None
    try:
        try:
            dom = conn.lookupByName(args.guest)
        except libvirt.libvirtError:
            raise BadInput(f"there is no guest named '{args.guest}' on {uri}") from None
        yield HostLink(uri, conn), dom
    finally:
        conn.close()


def refuse_readonly(args: argparse.Namespace, action: str, what: str, **fields: Any) -> None:
    """--readonly refuses every change, before any connection; the refusal is in the audit log too."""
    if args.readonly:
        message = f"{readonly_why(args)}: the connection is read-only, so ztui does not {what}; nothing was changed"
        audit_refused(action, ",".join(args.connect), args.guest, message, **fields)
        raise BadInput(message)


def emit(args: argparse.Namespace, result: dict[str, Any], lines: list[str]) -> None:
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def run_attach(args: argparse.Namespace) -> End:
    kind = next(k for k in SOURCES if getattr(args, k))
    refuse_readonly(args, "attach", "attach devices", kind=kind, source=getattr(args, kind))
    try:
        size = parse_size(args.size) if args.size else None
    except BadRequest as exc:
        audit_refused("attach", ",".join(args.connect), args.guest, str(exc), size=args.size)
        raise BadInput(str(exc)) from None
    request = AttachRequest(args.guest, kind, getattr(args, kind), size, args.target, args.devno, args.live,
                            args.config)
    with open_guest(args) as (link, dom):
        try:
            plan = plan_attach(request, read_facts(link.conn, dom), HostProbe.for_connection(link.conn))
        except BadRequest as exc:
            audit_refused("attach", link.uri, args.guest, str(exc), request=dataclasses.asdict(request))
            raise BadInput(str(exc)) from None
        commands = virsh_commands(link.uri, plan)
        done = attach_recorded(link, dom, plan, request=request)
        change = done.change
    device = change.device
    result = {"guest": args.guest, "uri": link.uri, "outcome": change.outcome.value, "ok": change.ok,
              "message": change.message, "live": plan.live, "config": plan.config,
              "target": device.target if device else "", "alias": device.alias if device else "",
              "address": device.address_text if device else "", "xml": plan.xml,
              "virsh": virsh_attach(link.uri, plan), "commands": commands, "notes": list(plan.notes),
              "seconds": round(change.seconds, 3), "journal": done.journal}
    lines = [f"attach to {args.guest} ({plan.where})", *("  " + c for c in commands),
             *("  " + x for x in plan.xml.splitlines()), *plan.notes]
    if change.ok and device is not None:
        name = device.display_name
        lines.append(f"attached: {name} {device.address_text}".rstrip() + f" ({change.seconds * 1000:.0f} ms)")
    emit(args, result, lines)
    if not change.ok:
        error(change.message)
    if done.journal:
        error(f"the operation stays in the journal as {done.journal}: see `ztui journal`")
    for problem in done.problems:
        error(problem)
    return done.end
