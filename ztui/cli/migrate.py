"""`ztui migrate`: live migration with pass-through devices moved around it, and a report that loses nothing.

Exit status 0 only when the guest runs on the destination with every device back; 1 when the migration
failed or a device needs manual action (the report says where the guest runs and what to do); 2 when the
preflight found a blocker (nothing was changed).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

from ztui.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, error


def add_migrate_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                        common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("migrate", parents=[common], help="live-migrate a guest, moving pass-through devices",
                              description="Detach pass-through devices, migrate live (peer-to-peer), attach them on "
                                          "the destination; roll back on any failure.")
    p.add_argument("guest", metavar="GUEST")
    p.add_argument("--to", required=True, metavar="URI", help="the destination host's libvirt URI")
    p.add_argument("--passthrough", choices=("detach-reattach", "refuse"), default="detach-reattach",
                   help="what to do with pass-through devices (default: detach-reattach)")
    p.add_argument("--detach", action="append", default=[], metavar="TARGET",
                   help="also move this device around the migration (repeatable)")
    storage = p.add_mutually_exclusive_group()
    storage.add_argument("--unsafe", action="store_true", help="disks are on storage the destination shares")
    storage.add_argument("--copy-storage", action="store_true", help="copy local disks to the destination")
    p.add_argument("--bandwidth", type=int, default=0, metavar="MiB/s", help="limit the migration bandwidth")
    p.add_argument("--persistent", action="store_true", help="define the guest on the destination")
    p.add_argument("--undefine-source", action="store_true", help="undefine the guest on the source")
    p.add_argument("--auto-converge", action="store_true", help="throttle vCPUs if memory does not converge")
    p.add_argument("--postcopy", action="store_true", help="allow switching to post-copy")
    p.add_argument("--json", action="store_true", help="one JSON object per progress step, then the report")
    p.set_defaults(func=run_migrate)


def _emit(args: argparse.Namespace, obj: dict[str, Any], text: str) -> None:
    if args.json:
        sys.stdout.write(json.dumps(obj) + "\n")
    else:
        sys.stdout.write(text + "\n")
    sys.stdout.flush()


def run_migrate(args: argparse.Namespace) -> int:
    import libvirt

    from ztui.libvirt.connection import ConnectError, open_connection, resolve_uris
    from ztui.libvirt.eventloop import ensure_event_loop
    from ztui.ops.audit import record
    from ztui.ops.migration import MigrationOptions, preflight, run_migration, virsh_migrate

    if args.readonly:
        error("--readonly: ztui does not migrate guests on a read-only connection")
        return EXIT_BAD_INPUT
    uris = resolve_uris(args.connect)
    if len(uris) != 1:
        error("give one source host (-c URI)")
        return EXIT_BAD_INPUT
    src_uri = uris[0]
    ensure_event_loop()
    try:
        src = open_connection(src_uri)
        dest = open_connection(args.to)
    except ConnectError as exc:
        error(str(exc))
        return EXIT_FAILED
    try:
        try:
            dom = src.lookupByName(args.guest)
        except libvirt.libvirtError:
            error(f"no guest named '{args.guest}' on {src_uri}")
            return EXIT_BAD_INPUT
        options = MigrationOptions(passthrough=args.passthrough, extra_detach=tuple(args.detach), unsafe=args.unsafe,
                                   copy_storage=args.copy_storage, bandwidth_mib=args.bandwidth,
                                   persistent=args.persistent, undefine_source=args.undefine_source,
                                   auto_converge=args.auto_converge, postcopy=args.postcopy)
        check = preflight(src, dom, dest, options)
        command = virsh_migrate(src_uri, args.guest, args.to, options)
        _emit(args, {"type": "preflight", "ok": check.ok, "virsh": command,
                     "findings": [f.__dict__ for f in check.findings],
                     "moves": [d.target or d.alias for d in check.to_move]},
              "\n".join([f"migrate {args.guest}: {src_uri} -> {args.to}", f"  {command}",
                         *(f"  {f.severity}: {f.text}" for f in check.findings)]))
        if not check.ok:
            for finding in check.findings:
                if finding.severity == "blocker":
                    error(finding.text)
            record("migrate", src_uri, args.guest, "refused by preflight", to=args.to,
                   findings=[f.__dict__ for f in check.findings])
            return EXIT_BAD_INPUT
        abort = threading.Event()
        previous = signal.signal(signal.SIGINT, lambda *_: abort.set())  # ctrl+c aborts the job, cleanly

        def progress(step: dict[str, Any]) -> None:
            total = step.get("data_total") or 0
            done = step.get("data_processed") or 0
            pct = f"{100 * done / total:5.1f}%" if total else "  ?  "
            _emit(args, step, f"  {pct}  {done >> 20} of {total >> 20} MiB, "
                              f"iteration {step.get('iteration', '?')}, {step.get('elapsed_ms', 0)} ms")

        try:
            report = run_migration(src, src_uri, dom, dest, args.to, options, check.to_move, progress, abort)
        finally:
            signal.signal(signal.SIGINT, previous)
        record("migrate", src_uri, args.guest, "done" if report.ok else "failed", to=args.to, virsh=command,
               report=report.to_json())
        lines = [report.message, *(f"  {d.name}: {d.state}" + (f" — by hand: {d.virsh}" if d.virsh else "")
                                   for d in report.devices)]
        _emit(args, report.to_json(), "\n".join(lines))
        return EXIT_OK if report.ok else EXIT_FAILED
    finally:
        src.close()
        dest.close()
