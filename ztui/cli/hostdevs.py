"""`ztui hostdevs`: the host's devices grouped (DASD, SCSI/FCP, network, PCI/zPCI, subchannels and mdevs,
AP), each with the guests that use it, conflicts and VFIO readiness; JSON with --json."""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import libvirt

from ztui.cli.common import error, text_width
from ztui.errors import End, Status
from ztui.host.inventory import Inventory
from ztui.host.scan import LocalUdev
from ztui.host.usage import conflicts, users_of
from ztui.host.volumes import VolumeJoin, summarize
from ztui.libvirt.connection import ConnectError, libvirt_reason, open_within
from ztui.libvirt.link import HostLink
from ztui.libvirt.pipeline import read_resolved
from ztui.model import Host
from ztui.report.hostdevs import inventory_json, render_text


def read_host_inventory(uri: str, readonly: bool, udev: LocalUdev) -> tuple[Host, Inventory] | str:
    """One host with its guests' chains, and its inventory; the error line when it cannot be read."""
    try:
        conn = open_within(uri, readonly=readonly)  # a host that does not answer holds up the others no longer
    except ConnectError as exc:
        return str(exc)
    try:
        view = read_resolved(HostLink(uri, conn), udev=udev.for_uri(uri))
    except libvirt.libvirtError as exc:
        return f"reading {uri} failed: {libvirt_reason(exc)}"
    finally:
        conn.close()
    if view.inventory is None:
        return f"reading {uri} failed: {view.lost}"
    return view.host, view.inventory


def host_json(host: Host, inv: Inventory, join: VolumeJoin | None = None) -> dict[str, Any]:
    """One host's grouped inventory as a JSON-ready dict (`join`: the volumes of the hosts read beside it)."""
    users = users_of([host], inv)
    return {"uri": host.uri, "hostname": host.hostname, "local": inv.local, "host_facts": host.facts or None,
            "groups": inventory_json(inv, users, conflicts(users), join)}


def run_hostdevs(args: argparse.Namespace) -> End:
    """Every host at once (one thread each); their volumes are joined before they are shown."""
    uris = list(args.connect)
    udev = LocalUdev(uris)
    with ThreadPoolExecutor(max(1, min(len(uris), 16)), thread_name_prefix="ztui-hostdevs") as pool:
        found = list(pool.map(lambda uri: read_host_inventory(uri, args.readonly, udev), uris))
    read_ok = [r for r in found if not isinstance(r, str)]
    failed = False
    for line in (r for r in found if isinstance(r, str)):
        error(line)
        failed = True
    join = VolumeJoin(summarize(h) for h, _ in read_ok) if len(read_ok) > 1 else None
    hosts = [host_json(h, inv, join) for h, inv in read_ok]
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
    return Status.FAILED if failed else Status.DONE
