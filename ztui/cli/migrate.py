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
from typing import Any

import libvirt

from ztui.cli.common import error
from ztui.cli.targets import readonly_why
from ztui.errors import End, Status
from ztui.libvirt.connection import ConnectError, install_error_handler, open_within
from ztui.libvirt.eventloop import ensure_event_loop
from ztui.ops.migrate import (
    Fate,
    Guarded,
    MigrationControl,
    MigrationOptions,
    StepResult,
    migrate_guarded,
    preflight_json,
    progress_text,
)
from ztui.ops.safety.signals import SignalGuard
from ztui.safe_text import escape_control


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


def run_migrate(args: argparse.Namespace) -> End:

    if args.readonly:
        error(f"{readonly_why(args)}: ztui does not migrate guests on a read-only connection")
        return Status.BAD_INPUT
    uris = list(args.connect)
    if len(uris) != 1:
        error("give one source host (-c URI)")
        return Status.BAD_INPUT
    src_uri, dest_uri = uris[0], args.to
    if src_uri == dest_uri:
        error("the destination is the source host")
        return Status.BAD_INPUT
    install_error_handler()
    ensure_event_loop()  # keepalive and DEVICE_REMOVED need it
    try:
        src = open_within(src_uri)
    except ConnectError as exc:
        error(str(exc))
        return Status.FAILED
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
            return Status.BAD_INPUT
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
                return Status.BAD_INPUT
            unrecorded = done.unrecorded
            lines = report.lines()
            if unrecorded:  # the log does not have them: the output must
                lines += [f"  {d.name} ({d.state}):\n    {d.xml}" for d in report.devices
                          if d.state != Fate.LOST]
            out.emit(report.to_json(), "\n".join(lines))
            if unrecorded:
                error(f"the audit log could not be written ({unrecorded[0]}); the report above has every "
                      "moved device's XML")
        end = report.end(guard.signum)
        return Status.FAILED if unrecorded and end is Status.DONE else end
    finally:
        for conn in (src, dest):
            if conn is not None:
                with contextlib.suppress(libvirt.libvirtError):  # a daemon that died mid-migration
                    conn.close()
