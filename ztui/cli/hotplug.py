"""`ztui attach` and `ztui detach`: hotplug from the command line, each result proven by libvirt.

Exit statuses: 0 proven done, 1 libvirt refused (its reason is printed), 2 bad input (nothing changed),
3 not proven within the timeout (a detach left *removal pending*).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ztui.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, error

EXIT_PENDING = 3


def add_hotplug_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                         common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("attach", parents=[common], help="hotplug a device into a guest",
                              description="Attach a device; it counts as attached only when libvirt shows it.")
    p.add_argument("guest", metavar="GUEST")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--disk", metavar="PATH", help="virtio-blk from an image file (with --size: a new one)")
    source.add_argument("--block", metavar="DEV", help="virtio-blk from a host block device")
    source.add_argument("--dasd", metavar="BUSID", help="virtio-blk from a DASD, e.g. 0.0.5c3f")
    source.add_argument("--lun", metavar="DEV", help="a SCSI LUN on virtio-scsi (the controller is added if needed)")
    source.add_argument("--net", metavar="NETWORK", help="virtio-net on a libvirt network")
    source.add_argument("--bridge", metavar="BR", help="virtio-net on a host bridge")
    source.add_argument("--macvtap", metavar="IFACE", help="virtio-net, macvtap on an interface (OSA, HiperSockets)")
    source.add_argument("--mdev", metavar="UUID", help="a vfio-ccw mediated device")
    source.add_argument("--pci", metavar="ADDR", help="a PCI/zPCI function (managed VFIO)")
    p.add_argument("--size", help="create the --disk image with this size first, e.g. 64M")
    p.add_argument("--target", default="", help="target name (default: the next free vdX / sdX)")
    p.add_argument("--devno", default="", help="ccw bus-ID for the device, 0.0.0000-0.0.ffff (default: libvirt's)")
    p.add_argument("--live", action="store_true", default=None, help="change the running guest")
    p.add_argument("--config", action="store_true", default=None, help="change the persistent config")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run_attach)

    d = subparsers.add_parser("detach", parents=[common], help="hot-unplug a device from a guest",
                              description="Detach a device; it counts as removed only when libvirt proves it gone.")
    d.add_argument("guest", metavar="GUEST")
    d.add_argument("device", metavar="TARGET|ALIAS|BUSID")
    d.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for the guest (default 15)")
    d.add_argument("--config", action="store_true", help="also remove it from the persistent config")
    d.add_argument("--json", action="store_true", help="print the result as JSON")
    d.set_defaults(func=run_detach)


def _open(args: argparse.Namespace) -> tuple[Any, Any, str]:
    """The connection and domain, or an exit status after one error line."""
    import libvirt

    from ztui.libvirt.connection import ConnectError, open_connection, resolve_uris
    from ztui.libvirt.eventloop import ensure_event_loop

    uris = resolve_uris(args.connect)
    if len(uris) != 1:
        raise _Exit(EXIT_BAD_INPUT, "give one host (-c URI) for a change")
    uri = uris[0]
    ensure_event_loop()  # before opening: the proof listens for DEVICE_REMOVED
    try:
        conn = open_connection(uri)
    except ConnectError as exc:
        raise _Exit(EXIT_FAILED, str(exc)) from None
    try:
        dom = conn.lookupByName(args.guest)
    except libvirt.libvirtError:
        conn.close()
        raise _Exit(EXIT_BAD_INPUT, f"no guest named '{args.guest}' on {uri}") from None
    return conn, dom, uri


class _Exit(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _refuse_readonly(args: argparse.Namespace, what: str) -> int | None:
    if args.readonly:
        error(f"--readonly: ztui does not {what} on a read-only connection")
        return EXIT_BAD_INPUT
    return None


def _report(args: argparse.Namespace, result: dict[str, Any], lines: list[str]) -> None:
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write("\n".join(lines) + "\n")


def run_attach(args: argparse.Namespace) -> int:
    from ztui.ops.audit import record
    from ztui.ops.hotplug import (
        AttachRequest,
        BadRequest,
        carry_out_attach,
        parse_size,
        plan_attach,
        read_facts,
        virsh_attach,
    )
    from ztui.ops.proof import Outcome

    refused = _refuse_readonly(args, "attach devices")
    if refused is not None:
        return refused
    kind = next(k for k in ("disk", "block", "dasd", "lun", "net", "bridge", "macvtap", "mdev", "pci")
                if getattr(args, k))
    try:
        size = parse_size(args.size) if args.size else None
        if size is not None and kind != "disk":
            raise BadRequest("--size only goes with --disk")
        conn, dom, uri = _open(args)
    except BadRequest as exc:
        error(str(exc))
        return EXIT_BAD_INPUT
    except _Exit as exc:
        error(str(exc))
        return exc.status
    try:
        request = AttachRequest(args.guest, kind, getattr(args, kind), size, args.target, args.devno,
                                args.live, args.config)
        try:
            plan = plan_attach(request, read_facts(conn, dom))
        except BadRequest as exc:
            error(str(exc))
            record("attach", uri, args.guest, "bad request", request=request.__dict__, message=str(exc))
            return EXIT_BAD_INPUT
        virsh = virsh_attach(uri, plan)
        change = carry_out_attach(conn, dom, plan)
        record("attach", uri, args.guest, change.outcome.value, request=request.__dict__, xml=plan.xml,
               virsh=virsh, message=change.message, seconds=round(change.seconds, 3))
    finally:
        conn.close()
    where = "live" if plan.live else ""
    where = " and ".join(w for w in (where, "config" if plan.config else "") if w)
    device = change.device
    result = {"guest": args.guest, "uri": uri, "outcome": change.outcome.value, "message": change.message,
              "target": device.target if device else "", "alias": device.alias if device else "",
              "address": device.address_text if device else "", "xml": plan.xml, "virsh": virsh,
              "notes": list(plan.notes), "seconds": round(change.seconds, 3)}
    lines = [f"attach to {args.guest} ({where})", f"  {virsh}", *("  " + x for x in plan.xml.splitlines()),
             *plan.notes]
    if change.outcome is Outcome.ATTACHED and device is not None:
        lines.append(f"attached: {device.target or device.alias} {device.address_text}".rstrip()
                     + f" ({change.seconds * 1000:.0f} ms)")
    _report(args, result, lines)
    if change.outcome is Outcome.ATTACHED:
        return EXIT_OK
    error(change.message)
    return EXIT_FAILED if change.outcome is Outcome.REFUSED else EXIT_PENDING


def run_detach(args: argparse.Namespace) -> int:
    from ztui.ops.audit import record
    from ztui.ops.hotplug import BadRequest, choose_live_config, find_for_detach, read_facts, virsh_detach
    from ztui.ops.proof import Outcome, detach
    from ztui.xmlutil import pretty_xml

    refused = _refuse_readonly(args, "detach devices")
    if refused is not None:
        return refused
    try:
        conn, dom, uri = _open(args)
    except _Exit as exc:
        error(str(exc))
        return exc.status
    try:
        try:
            facts = read_facts(conn, dom)
            live, config = choose_live_config(facts, True if facts.active else None, True if args.config else None)
            device = find_for_detach(facts.guest, args.device)
        except BadRequest as exc:
            error(str(exc))
            record("detach", uri, args.guest, "bad request", device=args.device, message=str(exc))
            return EXIT_BAD_INPUT
        virsh = virsh_detach(uri, args.guest, live, config)
        change = detach(conn, dom, device, live=live, config=config, timeout=args.timeout)
        record("detach", uri, args.guest, change.outcome.value, device=args.device, xml=device.xml, virsh=virsh,
               message=change.message, seconds=round(change.seconds, 3))
    finally:
        conn.close()
    result = {"guest": args.guest, "uri": uri, "device": args.device, "outcome": change.outcome.value,
              "message": change.message, "xml": device.xml, "virsh": virsh, "notes": list(change.notes),
              "seconds": round(change.seconds, 3)}
    name = device.target or device.alias
    lines = [f"detach {name} from {args.guest}", f"  {virsh}", *("  " + x for x in pretty_xml(device.xml).splitlines())]
    if change.outcome is Outcome.REMOVED:
        lines.append(f"removed: {name} ({change.seconds * 1000:.0f} ms)")
    _report(args, result, lines)
    if change.outcome is Outcome.REMOVED:
        return EXIT_OK
    error(change.message)
    for note in change.notes:
        error(note)
    return EXIT_FAILED if change.outcome is Outcome.REFUSED else EXIT_PENDING
