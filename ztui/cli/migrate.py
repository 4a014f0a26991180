"""`ztui migrate`: live migration with pass-through devices moved around it, and a report that loses nothing.

Exit status 0 only when the guest runs on the destination with every device back; 1 when the migration
failed or a device needs manual action (the report says where the guest runs and what to do); 2 when the
preflight found a blocker or the input was bad (nothing was changed).

With `--json`, stdout carries one JSON object per line: `preflight` (findings and the plan), a `step` per
detach/attach/migrate as it ends, `progress` about ten times a second during the migration, and last the
`report`. SIGINT (ctrl+c), SIGTERM and SIGHUP abort the job cleanly after the current step (the guest keeps
running on the source with its devices back; once it has switched hosts the devices go back there), the
report is printed and the exit status is 128 + the signal. Exit 3 when where the guest runs could not be
proven (a host does not answer): the report then gives every moved device's XML and the command to check.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ztui.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, error
from ztui.cli.validate import integer, text
from ztui.report.safe_text import escape_control

if TYPE_CHECKING:
    from ztui.ops.migrate_report import MigrationReport

EXIT_UNKNOWN = 3  # where the guest runs (or what became of a device) could not be proven
MAX_BANDWIDTH_MIB = 1 << 20  # 1 TiB/s: beyond any link; libvirt takes an unsigned long
MAX_DOWNTIME_MS = 2_000_000  # QEMU's limit for downtime-limit (2000 s)


def add_migrate_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                        common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("migrate", parents=[common], help="migrate a guest (live, moving pass-through devices; "
                                                                "or --offline)",
                              description="Detach pass-through devices, migrate live (peer-to-peer), attach them on "
                                          "the destination; roll back on any failure.")
    p.add_argument("guest", metavar="GUEST", type=text())
    p.add_argument("--to", required=True, metavar="URI", type=text(), help="the destination host's libvirt URI")
    p.add_argument("--passthrough", choices=("detach-reattach", "refuse"), default="detach-reattach",
                   help="what to do with pass-through devices (default: detach-reattach)")
    p.add_argument("--detach", action="append", default=[], metavar="TARGET", type=text(),
                   help="also move this device around the migration (target, alias, bus-ID; repeatable)")
    storage = p.add_mutually_exclusive_group()
    storage.add_argument("--unsafe", action="store_true", help="disks are on storage the destination shares")
    storage.add_argument("--copy-storage", action="store_true", help="copy local disks to the destination")
    p.add_argument("--bandwidth", type=integer(0, MAX_BANDWIDTH_MIB), default=0, metavar="MiB/s",
                   help=f"limit the migration bandwidth (1-{MAX_BANDWIDTH_MIB}; 0 = libvirt's default)")
    p.add_argument("--max-downtime", type=integer(0, MAX_DOWNTIME_MS), default=0, metavar="MS",
                   help=f"longest pause allowed at the end (1-{MAX_DOWNTIME_MS} ms; 0 = QEMU's default)")
    p.add_argument("--persistent", action="store_true", help="define the guest on the destination")
    p.add_argument("--offline", action="store_true",
                   help="move a shut-off guest's definition only (implies --persistent; nothing starts, no disk "
                        "is copied)")
    p.add_argument("--undefine-source", action="store_true", help="undefine the guest on the source")
    p.add_argument("--auto-converge", action="store_true", help="throttle vCPUs if memory does not converge")
    p.add_argument("--postcopy", action="store_true", help="allow post-copy (ctrl+\\ switches to it)")
    p.add_argument("--migrate-uri", default=None, metavar="URI", type=text(),
                   help="the data stream's address (default tcp://<destination host>, loopback for local)")
    p.add_argument("--json", action="store_true", help="one JSON object per step and progress, then the report")
    p.set_defaults(func=run_migrate)


class _Out:
    """Where objects go: JSON lines, or text for people (progress overwriting one line on a terminal)."""

    def __init__(self, as_json: bool) -> None:
        self.json = as_json
        self.tty = sys.stdout.isatty() and not as_json
        self._dangling = False
        self.gone = False

    def emit(self, obj: dict[str, Any], text: str, *, transient: bool = False) -> None:
        """Write one object; a terminal that went away (SIGHUP, a closed pipe) stops the output, never the
        migration: the report is in the audit log and the journal as well."""
        if self.gone:
            return
        try:
            self._emit(obj, text, transient=transient)
        except (OSError, ValueError):
            self.gone = True

    def _emit(self, obj: dict[str, Any], text: str, *, transient: bool = False) -> None:
        text = "\n".join(escape_control(line) for line in text.split("\n"))  # names, paths, reasons
        if self.json:
            sys.stdout.write(json.dumps(obj) + "\n")
        elif transient and self.tty:
            sys.stdout.write("\r\033[K" + text)
            self._dangling = True
        else:
            if self._dangling:
                sys.stdout.write("\n")
                self._dangling = False
            sys.stdout.write(text + "\n")
        sys.stdout.flush()


def exit_status(report: MigrationReport, signum: int | None) -> int:
    """0 done; 128 + the signal that stopped it; 3 when where the guest runs could not be proven (a host
    did not answer, both held a copy); 1 for a failure whose end state is known (the report says it)."""
    if report.ok:
        return EXIT_OK
    if signum:
        return 128 + signum
    return EXIT_UNKNOWN if not report.certain else EXIT_FAILED


def run_migrate(args: argparse.Namespace) -> int:
    import libvirt

    from ztui.libvirt.connection import ConnectError, install_error_handler, open_within
    from ztui.libvirt.eventloop import ensure_event_loop
    from ztui.ops.migrate_guarded import Guarded, migrate_guarded
    from ztui.ops.migration import Fate, MigrationControl, MigrationOptions, StepResult, preflight_json, progress_text
    from ztui.ops.signals import SignalGuard

    if args.readonly:
        from ztui.cli.targets import readonly_why

        error(f"{readonly_why(args)}: ztui does not migrate guests on a read-only connection")
        return EXIT_BAD_INPUT
    uris = list(args.connect)
    if len(uris) != 1:
        error("give one source host (-c URI)")
        return EXIT_BAD_INPUT
    src_uri, dest_uri = uris[0], args.to
    if src_uri == dest_uri:
        error("the destination is the source host")
        return EXIT_BAD_INPUT
    install_error_handler()
    ensure_event_loop()  # keepalive and DEVICE_REMOVED need it
    try:
        src = open_within(src_uri)
    except ConnectError as exc:
        error(str(exc))
        return EXIT_FAILED
    dest: libvirt.virConnect | None = None
    dest_error = ""
    try:
        dest = open_within(dest_uri)
    except ConnectError as exc:
        dest_error = str(exc)  # a preflight finding: "destination reachable"
    out = _Out(args.json)
    try:
        try:
            dom = src.lookupByName(args.guest)
        except libvirt.libvirtError:
            error(f"no guest named '{args.guest}' on {src_uri}")
            return EXIT_BAD_INPUT
        # signals are noted from here on: one that comes before any change ends the command with nothing
        # changed (exit 128 + the signal); the guest is locked on both hosts before the preflight reads it,
        # so a second migration is refused with who holds it, not with what the first one is doing
        with SignalGuard(f"the migration of {args.guest}") as guard:
            options = MigrationOptions(passthrough=args.passthrough, extra_detach=tuple(args.detach),
                                       unsafe=args.unsafe, copy_storage=args.copy_storage, bandwidth_mib=args.bandwidth,
                                       max_downtime_ms=args.max_downtime,
                                       persistent=args.persistent or args.offline,
                                       undefine_source=args.undefine_source, auto_converge=args.auto_converge,
                                       postcopy=args.postcopy, migration_uri=args.migrate_uri or "",
                                       offline=args.offline)
            control = MigrationControl()

            def shown(done: Guarded) -> None:
                check, plan = done.check, done.plan
                out.emit({**preflight_json(check), "guest": args.guest, "source": src_uri, "destination": dest_uri,
                          "virsh": done.command, "plan": [s.to_json() for s in plan]},
                         "\n".join([f"migrate {args.guest}: {src_uri} -> {dest_uri}",
                                    *(f"  {f.severity}: {f.text}" for f in check.findings),
                                    "plan:" if check.ok else "nothing was changed",
                                    *(f"  {i}. {s.text}\n       {s.virsh}" for i, s in enumerate(plan, 1)
                                      if check.ok)]))

            def step(result: StepResult) -> None:
                mark = "ok" if result.ok else "FAILED"
                what = f"{result.action} {result.device}".strip()
                out.emit(result.to_json(), f"  {what}: {mark} — {result.message}")

            def progress(obj: dict[str, Any]) -> None:
                out.emit(obj, "  " + progress_text(obj), transient=not obj.get("completed"))

            @contextlib.contextmanager
            def postcopy_on_sigquit() -> Iterator[None]:
                previous = signal.signal(signal.SIGQUIT, lambda *_: control.switch_to_postcopy())
                try:
                    yield
                finally:
                    signal.signal(signal.SIGQUIT, previous)

            # signals are noted from here on: one that comes before any change ends the command with nothing
            # changed (exit 128 + the signal); the guest is locked on both hosts before the preflight reads
            # it, so a second migration is refused with who holds it, not with what the first one is doing
            done = migrate_guarded(src, src_uri, dom, dest, dest_uri, options, dest_error=dest_error, shown=shown,
                                   on_progress=progress, control=control, on_step=step, guard=guard,
                                   during=postcopy_on_sigquit)
            report = done.report
            if report is None:
                for finding in done.check.blockers:
                    error(finding.text)
                return EXIT_BAD_INPUT
            unrecorded = done.unrecorded
            lines = report.lines()
            if unrecorded:  # the log does not have them: the output must
                lines += [f"  {d.name} ({d.state}):\n    {d.xml}" for d in report.devices
                          if d.state != Fate.LOST]
            out.emit(report.to_json(), "\n".join(lines))
            if unrecorded:
                error(f"the audit log could not be written ({unrecorded[0]}); the report above has every "
                      "moved device's XML")
        status = exit_status(report, guard.signum)
        return EXIT_FAILED if unrecorded and status == EXIT_OK else status
    finally:
        for conn in (src, dest):
            if conn is not None:
                with contextlib.suppress(libvirt.libvirtError):  # a daemon that died mid-migration
                    conn.close()
