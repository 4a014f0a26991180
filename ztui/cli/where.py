"""`ztui where GUEST`: every other host ztui knows, ready, ready after steps or not, with the reasons.

Each host is judged by the migration preflight (`ztui.ops.migrate.where`): the guest's volumes seen there by their
identity, its interfaces there, an equivalent of each pass-through device free there, the CPU model, free
memory, Secure Execution, the guest not already there. Exit status 0 when every host was asked (whatever
they said), 1 when the guest's own host could not be read.
"""

from __future__ import annotations

import argparse
import json
import sys

import libvirt

from ztui.cli.common import error
from ztui.errors import End, Status
from ztui.libvirt.connection import ConnectError, install_error_handler, libvirt_reason, open_within
from ztui.libvirt.eventloop import ensure_event_loop
from ztui.ops.migrate import where
from ztui.ops.safety.known_hosts import host_named, known_hosts
from ztui.safe_text import escape_control


def run_where(args: argparse.Namespace) -> End:

    install_error_handler()
    ensure_event_loop()  # keepalive: a host that stops answering mid-way is given up, not waited for
    (src_uri,) = args.connect[:1] or [""]
    session = list(getattr(getattr(args, "targets", None), "uris", None) or args.connect)
    try:
        src = open_within(src_uri, readonly=args.readonly)
    except ConnectError as exc:
        error(str(exc))
        return Status.FAILED
    try:
        try:
            dom = src.lookupByName(args.guest)
        except libvirt.libvirtError:
            error(f"no guest named '{args.guest}' on {src_uri}")
            return Status.FAILED
        try:
            found = where(src, src_uri, dom, session)
        except libvirt.libvirtError as exc:
            error(f"reading {src_uri} failed: {libvirt_reason(exc)}")
            return Status.FAILED
    finally:
        src.close()
    if args.json:
        json.dump({"guest": args.guest, "source": src_uri, "hosts": [p.to_json() for p in found]}, sys.stdout,
                  indent=2)
        sys.stdout.write("\n")
        return Status.DONE

    lines = [f"where can {args.guest} go from {host_named(known_hosts(session), src_uri).label}?"]
    if not found:
        lines.append("  no other host is known (give them with -c, save them with ztui hosts add, or --lab)")
    for placement in found:
        lines.append(f"  {placement.host}: {placement.readiness.value}")
        lines.extend(f"    - {f.text}" for f in placement.reasons)
        lines.extend(f"    step: {step}" for step in placement.steps)
        if placement.check is not None:
            lines.extend(f"    {r.text}" for r in placement.check.rewrites)
    sys.stdout.write("\n".join(escape_control(line) for line in lines) + "\n")
    return Status.DONE
