"""`ztui hostdevs`: the host's devices grouped (DASD, SCSI/FCP, network, PCI/zPCI, subchannels and mdevs,
AP), each with the guests that use it, conflicts and VFIO readiness; JSON with --json."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from ztui.cli.common import EXIT_FAILED, EXIT_OK, error

if TYPE_CHECKING:
    from ztui.host.scan import LocalUdev


def add_hostdevs_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                         common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "hostdevs", parents=[common], help="list host devices and the guests using each",
        description="List the host's devices grouped by kind, with the guests and guest devices that use "
                    "each, conflicts and pass-through readiness. udev is read for a local URI.")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_hostdevs, one_shot=True)


def read_host_inventory(uri: str, readonly: bool, udev: LocalUdev) -> dict[str, Any]:
    """One host's grouped inventory as a JSON-ready dict; raises ConnectError / libvirtError."""
    from ztui.host.resolve import resolve_host
    from ztui.host.scan import scan_host
    from ztui.host.usage import conflicts, users_of
    from ztui.libvirt.connection import open_within
    from ztui.libvirt.reader import read_host
    from ztui.report.hostdevs import inventory_json

    conn = open_within(uri, readonly=readonly)  # a host that does not answer holds up the others no longer
    try:
        host = read_host(conn, uri)
        inv = scan_host(conn, uri, host.guests, udev=udev.for_uri(uri))
    finally:
        conn.close()
    host = resolve_host(host, inv)
    users = users_of([host], inv)
    return {"uri": uri, "hostname": host.hostname, "local": inv.local, "host_facts": host.facts or None,
            "groups": inventory_json(inv, users, conflicts(users))}


def run_hostdevs(args: argparse.Namespace) -> int:
    import libvirt

    from ztui.cli.common import text_width
    from ztui.libvirt.connection import ConnectError, libvirt_reason
    from ztui.report.hostdevs import render_text

    hosts: list[dict[str, Any]] = []
    failed = False
    uris = list(args.connect)
    from ztui.host.scan import LocalUdev

    udev = LocalUdev(uris)
    for uri in uris:
        try:
            hosts.append(read_host_inventory(uri, args.readonly, udev))
        except ConnectError as exc:
            error(str(exc))
            failed = True
        except libvirt.libvirtError as exc:
            error(f"reading {uri} failed: {libvirt_reason(exc)}")
            failed = True
    if args.json:
        json.dump({"hosts": hosts}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for h in hosts:
            title = f"{h['uri']}" + (f" ({h['hostname']})" if h["hostname"] else "")
            if h["host_facts"]:
                title += f" [{h['host_facts']}]"
            if not h["local"]:
                title += " — libvirt node devices only (udev is read for local hosts)"
            sys.stdout.write(render_text(title, h["groups"], width=text_width()))
    return EXIT_FAILED if failed else EXIT_OK
