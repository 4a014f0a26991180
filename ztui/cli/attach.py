"""`ztui attach`: hotplug a device from the command line; it counts as attached only when libvirt shows it.

Exit statuses (shared with `ztui detach`): 0 proven done, 1 libvirt refused (its reason is printed),
2 bad input (nothing changed), 3 not proven within the timeout.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ztui.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, error

if TYPE_CHECKING:
    import libvirt

    from ztui.ops.proof import DeviceChange

EXIT_PENDING = 3

SOURCE_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("disk", "PATH", "virtio-blk from an image file (with --size: a new qcow2/raw image, by its name)"),
    ("block", "DEV", "virtio-blk from a host block device (multipath, NVMe, /dev/disk/by-path/…)"),
    ("dasd", "BUSID", "virtio-blk from a DASD by bus-ID, e.g. 0.0.5c3f"),
    ("lun", "DEV", "a SCSI LUN on virtio-scsi (the controller is added when the guest has none)"),
    ("net", "NETWORK", "virtio-net on a libvirt network"),
    ("bridge", "BR", "virtio-net on a host bridge (Linux or Open vSwitch, detected)"),
    ("macvtap", "IFACE", "virtio-net, macvtap (direct) on an interface: an OSA or HiperSockets card on Z"),
    ("mdev", "UUID", "an existing mdev: vfio-ccw live; vfio-ap goes into the persistent config only"),
    ("pci", "ADDR", "a PCI/zPCI function, managed VFIO"),
)


class CommandExit(Exception):
    """Stop a command with an exit status after one error line."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def add_attach_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                       common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "attach", parents=[common], help="hotplug a device into a guest",
        description="Attach a device. The request is validated first (exit 2, nothing changed); the device "
                    "counts as attached only when the guest's XML shows it. Without --live/--config: live "
                    "for a running guest, the persistent config for a shut-off one.")
    p.add_argument("guest", metavar="GUEST")
    source = p.add_mutually_exclusive_group(required=True)
    for name, metavar, text in SOURCE_OPTIONS:
        source.add_argument(f"--{name}", metavar=metavar, help=text)
    p.add_argument("--size", help="create the --disk image with this size first, e.g. 64M (removed again if "
                                  "the attach fails)")
    p.add_argument("--target", default="", help="target name (default: the next free vdX, sdX for --lun)")
    p.add_argument("--devno", default="", help="ccw bus-ID 0.0.0000-0.0.ffff (default: libvirt picks one)")
    p.add_argument("--live", action="store_true", default=None, help="change the running guest")
    p.add_argument("--config", action="store_true", default=None, help="change the persistent config")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(func=run_attach)


@contextmanager
def open_guest(args: argparse.Namespace) -> Iterator[tuple[libvirt.virConnect, libvirt.virDomain, str]]:
    """The connection (with the event loop running, for DEVICE_REMOVED) and the guest; CommandExit if not."""
    import libvirt

    from ztui.libvirt.connection import ConnectError, open_connection, resolve_uris
    from ztui.libvirt.eventloop import ensure_event_loop

    uris = resolve_uris(args.connect)
    if len(uris) != 1:
        raise CommandExit(EXIT_BAD_INPUT, "give one host (-c URI) for a change")
    uri = uris[0]
    ensure_event_loop()  # before opening: the proof listens for DEVICE_REMOVED
    try:
        conn = open_connection(uri)
    except ConnectError as exc:
        raise CommandExit(EXIT_FAILED, str(exc)) from None
    try:
        try:
            dom = conn.lookupByName(args.guest)
        except libvirt.libvirtError:
            raise CommandExit(EXIT_BAD_INPUT, f"there is no guest named '{args.guest}' on {uri}") from None
        yield conn, dom, uri
    finally:
        conn.close()


def refuse_readonly(args: argparse.Namespace, what: str) -> None:
    if args.readonly:
        raise CommandExit(EXIT_BAD_INPUT,
                          f"--readonly: the connection is read-only, so ztui does not {what}; nothing was changed")


def exit_status(change: DeviceChange) -> int:
    """0 proven done, 1 refused, 3 accepted but not proven (removal pending, or never seen)."""
    from ztui.ops.proof import Outcome

    if change.ok:
        return EXIT_OK
    return EXIT_FAILED if change.outcome is Outcome.REFUSED else EXIT_PENDING


def emit(args: argparse.Namespace, result: dict[str, Any], lines: list[str]) -> None:
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def run_attach(args: argparse.Namespace) -> int:
    try:
        return _attach(args)
    except CommandExit as exc:
        error(str(exc))
        return exc.status


def _attach(args: argparse.Namespace) -> int:
    from ztui.ops.hotplug import (
        SOURCES,
        AttachRequest,
        BadRequest,
        HostProbe,
        audit_attach,
        audit_refused,
        carry_out_attach,
        parse_size,
        plan_attach,
        read_facts,
        virsh_attach,
        virsh_commands,
    )

    refuse_readonly(args, "attach devices")
    kind = next(k for k in SOURCES if getattr(args, k))
    try:
        size = parse_size(args.size) if args.size else None
    except BadRequest as exc:
        raise CommandExit(EXIT_BAD_INPUT, str(exc)) from None
    request = AttachRequest(args.guest, kind, getattr(args, kind), size, args.target, args.devno, args.live,
                            args.config)
    with open_guest(args) as (conn, dom, uri):
        try:
            plan = plan_attach(request, read_facts(conn, dom), HostProbe.for_connection(conn))
        except BadRequest as exc:
            audit_refused("attach", uri, args.guest, str(exc), request=dataclasses.asdict(request))
            raise CommandExit(EXIT_BAD_INPUT, str(exc)) from None
        commands = virsh_commands(uri, plan)
        change = carry_out_attach(conn, dom, plan)
        audit_attach(uri, plan, change, request=request)
    device = change.device
    result = {"guest": args.guest, "uri": uri, "outcome": change.outcome.value, "ok": change.ok,
              "message": change.message, "live": plan.live, "config": plan.config,
              "target": device.target if device else "", "alias": device.alias if device else "",
              "address": device.address_text if device else "", "xml": plan.xml,
              "virsh": virsh_attach(uri, plan), "commands": commands, "notes": list(plan.notes),
              "seconds": round(change.seconds, 3)}
    lines = [f"attach to {args.guest} ({plan.where})", *("  " + c for c in commands),
             *("  " + x for x in plan.xml.splitlines()), *plan.notes]
    if change.ok and device is not None:
        name = device.target or device.alias or device.kind.value
        lines.append(f"attached: {name} {device.address_text}".rstrip() + f" ({change.seconds * 1000:.0f} ms)")
    emit(args, result, lines)
    if not change.ok:
        error(change.message)
    return exit_status(change)
