"""`ztui attach`: hotplug a device from the command line; it counts as attached only when libvirt shows it.

Exit statuses (shared with `ztui detach`): 0 proven done, 1 refused (libvirt's reason, another action
on the guest, no journal: nothing changed), 2 bad input (nothing changed), 3 not proven (timeout, a lost
connection: "unknown", the journal entry stays open), 128 + N stopped by signal N (what was done undone).
Errors are `ztui.errors` exceptions, turned into their line and status by `cli/main.py`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ztui.cli.common import error
from ztui.cli.validate import text
from ztui.errors import BadInput, Refused

if TYPE_CHECKING:
    import libvirt

SOURCE_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("disk", "PATH", "virtio-blk from an image file (with --size: a new qcow2/raw image, by its name)"),
    ("block", "DEV", "virtio-blk from a host block device (multipath, NVMe, /dev/disk/by-path/…)"),
    ("dasd", "BUSID", "virtio-blk from a DASD by bus-ID, e.g. 0.0.5c3f"),
    ("lun", "DEV", "a SCSI LUN on virtio-scsi (the controller is added when the guest has none)"),
    ("net", "NETWORK", "virtio-net on a libvirt network"),
    ("bridge", "BR", "virtio-net on a host bridge (Linux or Open vSwitch, detected)"),
    ("macvtap", "IFACE", "virtio-net, macvtap (direct) on an interface: an OSA or HiperSockets card on Z"),
    ("mdev", "UUID", "an existing mdev: vfio-ccw or vfio-ap (one vfio-ap per guest), live like any device"),
    ("pci", "ADDR", "a PCI/zPCI function, managed VFIO"),
)


def add_attach_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                       common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "attach", parents=[common], help="hotplug a device into a guest",
        description="Attach a device. The request is validated first (exit 2, nothing changed); the device "
                    "counts as attached only when the guest's XML shows it. Without --live/--config: live "
                    "for a running guest, the persistent config for a shut-off one.")
    p.add_argument("guest", metavar="GUEST", type=text())
    source = p.add_mutually_exclusive_group(required=True)
    for name, metavar, help_text in SOURCE_OPTIONS:
        source.add_argument(f"--{name}", metavar=metavar, help=help_text, type=text())
    p.add_argument("--size", type=text(), help="create the --disk image with this size first, e.g. 64M (removed "
                                               "again if the attach fails)")
    p.add_argument("--target", default="", help="target name (default: the next free vdX, sdX for --lun)")
    p.add_argument("--devno", default="", help="ccw bus-ID 0.0.0000-0.0.ffff (default: libvirt picks one)")
    p.add_argument("--live", action="store_true", default=None, help="change the running guest")
    p.add_argument("--config", action="store_true", default=None, help="change the persistent config")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(func=run_attach)


@contextmanager
def open_guest(args: argparse.Namespace) -> Iterator[tuple[libvirt.virConnect, libvirt.virDomain, str]]:
    """The connection (with the event loop running, for DEVICE_REMOVED) and the guest; BadInput, Refused if
    not."""
    import libvirt

    from ztui.libvirt.connection import ConnectError, open_within
    from ztui.libvirt.eventloop import ensure_event_loop

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
        yield conn, dom, uri
    finally:
        conn.close()


def refuse_readonly(args: argparse.Namespace, action: str, what: str, **fields: Any) -> None:
    """--readonly refuses every change, before any connection; the refusal is in the audit log too."""
    if args.readonly:
        from ztui.cli.targets import readonly_why
        from ztui.ops.hotplug import audit_refused

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


def run_attach(args: argparse.Namespace) -> int:
    return _attach(args)


def _attach(args: argparse.Namespace) -> int:
    from ztui.ops.action import attach_recorded
    from ztui.ops.hotplug import (
        SOURCES,
        AttachRequest,
        BadRequest,
        HostProbe,
        audit_refused,
        parse_size,
        plan_attach,
        read_facts,
        virsh_attach,
        virsh_commands,
    )

    kind = next(k for k in SOURCES if getattr(args, k))
    refuse_readonly(args, "attach", "attach devices", kind=kind, source=getattr(args, kind))
    try:
        size = parse_size(args.size) if args.size else None
    except BadRequest as exc:
        audit_refused("attach", ",".join(args.connect), args.guest, str(exc), size=args.size)
        raise BadInput(str(exc)) from None
    request = AttachRequest(args.guest, kind, getattr(args, kind), size, args.target, args.devno, args.live,
                            args.config)
    with open_guest(args) as (conn, dom, uri):
        try:
            plan = plan_attach(request, read_facts(conn, dom), HostProbe.for_connection(conn))
        except BadRequest as exc:
            audit_refused("attach", uri, args.guest, str(exc), request=dataclasses.asdict(request))
            raise BadInput(str(exc)) from None
        commands = virsh_commands(uri, plan)
        done = attach_recorded(uri, conn, dom, plan, request=request)
        change = done.change
    device = change.device
    result = {"guest": args.guest, "uri": uri, "outcome": change.outcome.value, "ok": change.ok,
              "message": change.message, "live": plan.live, "config": plan.config,
              "target": device.target if device else "", "alias": device.alias if device else "",
              "address": device.address_text if device else "", "xml": plan.xml,
              "virsh": virsh_attach(uri, plan), "commands": commands, "notes": list(plan.notes),
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
    return done.exit_status
