"""Running a migration: detach (proven) → live migration with progress → attach on the destination (proven),
and on any failure a rollback that puts every device back where the guest runs.

The libvirt call `migrateToURI3` blocks for the whole job, so it runs in its own thread while this one
reads `jobStats()` about ten times a second (connections are thread-safe, docs/ARCHITECTURE.md §3) and carries out
the user's requests: abort (`abortJob`, the guest keeps running on the source) and the switch to post-copy
(`migrateStartPostCopy`). After the call, where the guest runs is *asked*, never assumed, and the devices
go to that host: the destination after success, the source after a failure, nowhere — and then reported
as lost with their XML and the exact command — when the guest runs on neither.

Blocking functions: call them from a worker thread or a command.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import libvirt

from ztui import faults
from ztui.errors import ZtuiError
from ztui.libvirt.connection import libvirt_reason
from ztui.model import GuestDevice, GuestState
from ztui.ops.attach.prove import attach, detach, find_device, read_live
from ztui.ops.attach.settle import reconnect_timeout
from ztui.ops.migrate.locate import Copy, Fix, Owner, Presence, ReopeningLink, Verdict, locate, look, resolve
from ztui.ops.migrate.offline import run_offline
from ztui.ops.migrate.plan import (
    MigrationOptions,
    Rewrite,
    migrate_flags,
    migrate_params,
    name_of,
    renamed_xml,
    virsh_device,
)
from ztui.ops.migrate.report import DeviceFate, Fate, MigrationReport, StepResult, leftover_commands, progress_of
from ztui.ops.safety.audit import record as audit_record
from ztui.ops.safety.journal import JournalAction, Operation
from ztui.ops.safety.signals import SignalGuard

POLL_FIRST = 0.02  # an idle guest may be done in a few hundred ms: look early once
POLL_INTERVAL = 0.1  # then about ten times a second

ProgressCallback = Callable[[dict[str, Any]], None]
StepCallback = Callable[[StepResult], None]


class MigrationControl(threading.Event):
    """The abort flag of a running migration (`set()` aborts it) plus the user's other request, the switch
    to post-copy. An Event itself, so callers that only know about aborting can treat it as one."""

    def __init__(self) -> None:
        super().__init__()
        self.postcopy = threading.Event()

    def abort(self) -> None:
        self.set()

    def switch_to_postcopy(self) -> None:
        self.postcopy.set()


AUDIT_ERRORS: list[str] = []


def record(action: str, uri: str, guest: str, result: str, **fields: Any) -> None:
    """An audit record that cannot stop a migration: once devices are off the guest, a full or blocked
    state directory must not end the run before they are back. The failure is kept for the report
    (`audit_failures`), which then carries every device's XML itself."""
    try:
        audit_record(action, uri, guest, result, **fields)
    except (ZtuiError, OSError) as exc:
        AUDIT_ERRORS.append(f"{action}: {exc}")


def audit_failures() -> list[str]:
    """The audit records that could not be written since the last call (and forget them)."""
    failures = list(AUDIT_ERRORS)
    AUDIT_ERRORS.clear()
    return failures


def start_postcopy(dom: libvirt.virDomain) -> str:
    """Switch a running migration (started with post-copy allowed) to post-copy; '' or libvirt's reason."""
    try:
        dom.migrateStartPostCopy(0)
    except libvirt.libvirtError as exc:
        return libvirt_reason(exc)
    return ""


def state_on(conn: libvirt.virConnect | None, uuid: str) -> str:
    """The guest's state on one host ('' when it is not active there or the host does not answer)."""
    if conn is None:
        return ""
    try:
        dom = conn.lookupByUUIDString(uuid)
        if not dom.isActive():
            return ""
        return GuestState.from_libvirt(dom.state()[0]).value
    except libvirt.libvirtError:
        return ""


class _CompletedStats:
    """The totals of the finished job. libvirt sends them with JOB_COMPLETED on the source connection (the
    source domain of a transient guest is gone afterwards, so `jobStats(COMPLETED)` cannot be asked)."""

    def __init__(self, conn: libvirt.virConnect, dom: libvirt.virDomain) -> None:
        self.stats: dict[str, Any] = {}
        self.arrived = threading.Event()
        self._conn = conn
        self._id: int | None = None
        with contextlib.suppress(libvirt.libvirtError):
            self._id = conn.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                                                   self._completed, None)

    def _completed(self, _conn: object, _dom: object, params: dict[str, Any], _opaque: object) -> None:
        self.stats = dict(params)
        self.arrived.set()

    def take(self, dom: libvirt.virDomain, wait: float = 1.0) -> dict[str, Any]:
        """The totals: from the event (waiting briefly for it), else asked of the domain, else empty."""
        if self._id is not None:
            self.arrived.wait(wait)
        if self.stats:
            return self.stats
        with contextlib.suppress(libvirt.libvirtError):
            return dict(dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED))
        return {}

    def close(self) -> None:
        if self._id is not None:
            with contextlib.suppress(libvirt.libvirtError):
                self._conn.domainEventDeregisterAny(self._id)
            self._id = None


class _Run:
    """One migration's bookkeeping: the steps as they happened and the callbacks that report them."""

    def __init__(self, guest: str, on_step: StepCallback | None, op: Operation | None = None) -> None:
        self.guest = guest
        self.steps: list[StepResult] = []
        self._on_step = on_step
        self.op = op

    def journal(self, name: str, **facts: Any) -> None:
        """The migration reached step `name`: the journal entry says so (and fault hooks may strike)."""
        if self.op is not None:
            self.op.step(name, **facts)
        else:
            faults.reached(JournalAction.MIGRATE.value, name)

    def step(self, action: str, host: str, ok: bool, message: str, device: str = "", seconds: float = 0.0) -> None:
        result = StepResult(action, host, ok, message, device, seconds)
        self.steps.append(result)
        if self._on_step is not None:
            self._on_step(result)


def _put_back(conn: libvirt.virConnect | None, uri: str, uuid: str, guest: str, devices: list[GuestDevice],
              fate: Fate, run: _Run) -> list[DeviceFate]:
    """Attach devices to the running guest on `uri`; each that fails is LOST, with the command to do it
    by hand, and goes to the audit log."""
    fates = []
    dom: libvirt.virDomain | None = None
    reason = f"{guest} does not run on {uri}"
    if conn is not None:
        try:
            dom = conn.lookupByUUIDString(uuid)
        except libvirt.libvirtError as exc:
            reason = libvirt_reason(exc)
    action = "attach" if fate is Fate.DESTINATION else "rollback"
    for device in devices:
        name = name_of(device)
        command = virsh_device(uri, guest, "attach-device", f"{name}.xml")
        if dom is not None:
            try:
                change = attach(conn, dom, device.xml, live=True, config=False)
                ok, message, seconds = change.ok, change.message, change.seconds
            except libvirt.libvirtError as exc:
                ok, message, seconds = False, libvirt_reason(exc), 0.0
        else:
            ok, message, seconds = False, reason, 0.0
        run.step(action, uri, ok, message, name, seconds)
        record(f"migrate-{action}", uri, guest, "attached" if ok else "needs manual action", device=name,
               xml=device.xml, virsh=command, message=message)
        if ok:
            fates.append(DeviceFate(name, device.xml, fate, message, host=uri, kind=device.kind.value))
        else:
            fates.append(DeviceFate(name, device.xml, Fate.LOST, message, command, uri, device.kind.value))
    return fates


def _detach_all(src: libvirt.virConnect, src_uri: str, dom: libvirt.virDomain, guest: str,
                to_move: tuple[GuestDevice, ...], options: MigrationOptions, run: _Run,
                stop: Callable[[], bool], off: Callable[[GuestDevice], None] = lambda _d: None,
                ) -> tuple[list[GuestDevice], GuestDevice | None, str]:
    """Detach each device, proven gone; stop at the first that fails (it is returned with the reason), and
    before the next one when `stop()` says so (a signal or the user's abort: what is off goes back)."""
    detached: list[GuestDevice] = []
    for device in to_move:
        if stop():
            break
        name = name_of(device)
        try:
            change = detach(src, dom, device, live=True, config=False, timeout=options.detach_timeout)
            ok, message, seconds = change.ok, change.message, change.seconds
        except libvirt.libvirtError as exc:
            ok, message, seconds = False, libvirt_reason(exc), 0.0
        run.step("detach", src_uri, ok, message, name, seconds)
        record("migrate-detach", src_uri, guest, "removed" if ok else "failed", device=name, xml=device.xml,
               virsh=virsh_device(src_uri, guest, "detach-device", f"{name}.xml"), message=message)
        if not ok:
            return detached, device, message
        detached.append(device)
        off(device)
        run.journal("detached", device=name)
    return detached, None, ""


def _still_attached(dom: libvirt.virDomain, device: GuestDevice) -> bool:
    try:
        return find_device(read_live(dom), device) is not None
    except libvirt.libvirtError:
        return True  # cannot tell: do not attach a second copy


def _migrate(dom: libvirt.virDomain, dest_uri: str, options: MigrationOptions, control: threading.Event | None,
             on_progress: ProgressCallback | None, run: _Run,
             stop: Callable[[], bool] | None = None,
             rewrites: Sequence[Rewrite] = ()) -> tuple[str, bool, bool, dict[str, Any]]:
    """migrateToURI3 in a thread while this one polls; returns (error, aborted, postcopy, last stats).
    `rewrites`: the destination gets the guest's XML (and its definition) with those devices' backing under
    its own names."""
    persist = dest_xml = ""
    if options.persistent:
        with contextlib.suppress(libvirt.libvirtError):
            if dom.isPersistent():
                persist = renamed_xml(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE),
                                      rewrites)
    if rewrites:
        try:
            dest_xml = renamed_xml(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE | libvirt.VIR_DOMAIN_XML_SECURE),
                                   rewrites)
        except libvirt.libvirtError as exc:
            return f"the guest's XML for the destination could not be read: {libvirt_reason(exc)}", False, False, {}
    params = migrate_params(dest_uri, options, persist, dest_xml)
    errors: list[str] = []
    done = threading.Event()

    def call() -> None:
        try:
            dom.migrateToURI3(dest_uri, params, migrate_flags(options))
        except libvirt.libvirtError as exc:
            errors.append(libvirt_reason(exc))
        finally:
            done.set()

    worker = threading.Thread(target=call, name=f"migrate {run.guest}", daemon=True)
    worker.start()
    aborted = postcopy = downtime_set = False
    last: dict[str, Any] = {}
    interval = POLL_FIRST
    while not done.wait(interval):
        interval = POLL_INTERVAL
        if stop is not None:
            stop()  # a signal becomes the abort request
        if control is not None and control.is_set() and not aborted:
            aborted = True
            try:
                dom.abortJob()
                run.step("abort", "", True, "abort requested")
            except libvirt.libvirtError as exc:
                run.step("abort", "", False, libvirt_reason(exc))
        wants_postcopy = isinstance(control, MigrationControl) and control.postcopy.is_set()
        if wants_postcopy and not postcopy and not aborted:
            postcopy = True
            reason = start_postcopy(dom) if options.postcopy else "post-copy was not allowed for this migration"
            run.step("postcopy", "", not reason, reason or "switched to post-copy")
            postcopy = not reason
        try:
            stats = dom.jobStats()
        except libvirt.libvirtError:
            continue
        if stats.get("type", libvirt.VIR_DOMAIN_JOB_NONE) == libvirt.VIR_DOMAIN_JOB_NONE:
            continue
        if options.max_downtime_ms and not downtime_set:
            downtime_set = True
            with contextlib.suppress(libvirt.libvirtError):
                dom.migrateSetMaxDowntime(options.max_downtime_ms, 0)
        last = stats
        if on_progress is not None:
            on_progress(progress_of(stats, postcopy=postcopy))
    worker.join()
    return (errors[0] if errors else ""), aborted, postcopy, last


def _signalled(guard: SignalGuard | None) -> str:
    return signal.Signals(guard.signum).name if guard is not None and guard.signum else ""


def run_migration(src: libvirt.virConnect, src_uri: str, dom: libvirt.virDomain, dest: libvirt.virConnect | None,
                  dest_uri: str, options: MigrationOptions, to_move: tuple[GuestDevice, ...],
                  on_progress: ProgressCallback | None = None, abort: threading.Event | None = None,
                  on_step: StepCallback | None = None, guard: SignalGuard | None = None,
                  op: Operation | None = None, rewrites: Sequence[Rewrite] = ()) -> MigrationReport:
    """Detach → migrate (progress ~10/s) → attach on the destination; roll back on any failure.

    `abort` is a plain Event or a `MigrationControl` (which can also ask for post-copy). A signal noted by
    `guard` aborts like the user does; after the switch of hosts it only makes the run end early with the
    devices re-attached. `op` is the journal entry that records each step. `rewrites` (the preflight's):
    what backs a device under the destination's names, in the XML the destination gets and in the devices
    attached there. Offline, only the definition moves (`ztui.ops.migrate.offline`)."""
    if options.offline:

        return run_offline(src, src_uri, dom, dest, dest_uri, options, rewrites)
    started = time.monotonic()
    guest, uuid = dom.name(), dom.UUIDString()
    run = _Run(guest, on_step, op)
    control = abort if abort is not None else threading.Event()

    def stop() -> bool:
        if guard is not None and guard.signum and not control.is_set():
            control.set()
        return control.is_set()

    def report(runs_on: str, migrated: bool, message: str, fates: list[DeviceFate], *, aborted: bool = False,
               migration_seconds: float = 0.0, downtime: int | None = None, state: str = "",
               copies: tuple[Copy, Copy] | None = None, verdict: Verdict | None = None) -> MigrationReport:
        if copies is None:
            copies = (look(src, src_uri, uuid), look(dest, dest_uri, uuid) if dest is not None else
                      Copy(dest_uri, Presence.UNREACHABLE, error="not connected"))
        if not state and runs_on:
            state = (copies[0] if runs_on == src_uri else copies[1]).state_text
        leftover = leftover_commands(guest, src_uri, dest_uri, copies[1].persistent) \
            if runs_on == dest_uri and copies[0].defined_only else ()
        return MigrationReport(guest, runs_on, migrated, message, time.monotonic() - started, tuple(fates),
                               src_uri, dest_uri, state, aborted, migration_seconds, downtime, tuple(run.steps),
                               certain=verdict.certain if verdict is not None else True,
                               source_copy=copies[0].describe(), destination_copy=copies[1].describe(),
                               verdict=verdict.why if verdict is not None else "", interrupted=_signalled(guard),
                               leftover=leftover)

    with contextlib.ExitStack() as risk:
        def off(device: GuestDevice) -> None:
            """From its detach on, a second signal prints the device's XML and the way back."""
            if guard is not None:
                risk.enter_context(guard.at_risk(f"{name_of(device)} is detached from {guest}; to put it back: "
                                                 f"{virsh_device(src_uri, guest, 'attach-device', 'device.xml')}"
                                                 f"\n{device.xml}"))

        detached, failed, reason = _detach_all(src, src_uri, dom, guest, to_move, options, run, stop, off)
        if failed is not None or stop():
            fates = _put_back(src, src_uri, uuid, guest, detached, Fate.SOURCE, run)
            if failed is not None and _still_attached(dom, failed):
                fates.append(DeviceFate(name_of(failed), failed.xml, Fate.STAYED, reason, host=src_uri,
                                        kind=failed.kind.value))
            elif failed is not None:  # gone after all (a late removal): it goes back like the others
                fates.extend(_put_back(src, src_uri, uuid, guest, [failed], Fate.SOURCE, run))
            why = (f"{name_of(failed)} could not be detached: {reason}" if failed is not None else
                   f"stopped by {_signalled(guard)}" if _signalled(guard) else "aborted by the user")
            run.journal("rolled-back")
            return report(src_uri, False, f"not migrated: {why}; {guest} keeps running on {src_uri}", fates,
                          aborted=failed is None)

        run.journal("migrating", destination=dest_uri)
        began = time.monotonic()
        totals = _CompletedStats(src, dom)
        try:
            error, aborted, postcopy, _last = _migrate(dom, dest_uri, options, control, on_progress, run, stop,
                                                       rewrites)
            seconds = time.monotonic() - began
            final = {} if error else totals.take(dom)
        finally:
            totals.close()
        run.step("migrate", src_uri, not error, error or f"migrated to {dest_uri}", seconds=seconds)
        run.journal("migrate-returned", error=error)
        downtime: int | None = final.get("downtime")
        if final and on_progress is not None:  # the totals of the finished job: the figures end at completion
            on_progress(progress_of(final, completed=True, postcopy=postcopy))
        src_link, dst_link = ReopeningLink(src_uri, src), ReopeningLink(dest_uri, dest)
        try:
            copies, verdict = _settle(src_link, dst_link, uuid, guest, run, quick=not error)
            run.journal("located", source=copies[0].describe(), destination=copies[1].describe(),
                        owner=verdict.owner.value)
            return _finish(guest, uuid, src_link, dst_link, detached, error, aborted, seconds, downtime, copies,
                           verdict, run, report, _signalled(guard), rewrites)
        finally:
            src_link.close()
            dst_link.close()


def _settle(src: ReopeningLink, dst: ReopeningLink, uuid: str, guest: str, run: _Run,
            quick: bool) -> tuple[tuple[Copy, Copy], Verdict]:
    """Read both hosts (re-connecting for a bounded time), decide by libvirt's rules, make the pair
    consistent where that is safe, and read both again; the last reading and its verdict."""
    timeout = reconnect_timeout()
    _wait_for_job_end(src, uuid, timeout)
    copies = locate(src, dst, uuid, 0.0 if quick else timeout)
    if quick and any(c.presence is Presence.UNREACHABLE for c in copies):
        copies = locate(src, dst, uuid, timeout)
    verdict = resolve(*copies)
    if not verdict.fixes:
        return copies, verdict
    for fix in verdict.fixes:
        link = src if fix in (Fix.DESTROY_SOURCE, Fix.RESUME_SOURCE, Fix.PAUSE_SOURCE) else dst
        message = _apply(fix, link, uuid)
        run.step("settle", link.uri, not message, message or f"{fix.value}: done ({verdict.why})")
        record("migrate-settle", link.uri, guest, "done" if not message else "failed", fix=fix.value,
               source=copies[0].describe(), destination=copies[1].describe(), why=verdict.why, message=message)
    after = locate(src, dst, uuid, timeout)
    again = resolve(*after)
    # the fixes were the verdict's own: the owner stays; what could not be fixed makes it uncertain
    certain = verdict.certain and not again.fixes and again.owner == verdict.owner
    return after, Verdict(verdict.owner, verdict.fixes, verdict.why, certain)


def _wait_for_job_end(link: ReopeningLink, uuid: str, timeout: float) -> None:
    """A source whose migration job still runs (our connection broke, its daemon did not) decides for
    itself: wait until the job has ended before reading, so ztui never acts against a live job."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not link.alive():
            return
        try:
            stats = link.conn.lookupByUUIDString(uuid).jobStats() if link.conn is not None else {}
        except libvirt.libvirtError:
            return
        if stats.get("type", libvirt.VIR_DOMAIN_JOB_NONE) in (libvirt.VIR_DOMAIN_JOB_NONE,
                                                                libvirt.VIR_DOMAIN_JOB_COMPLETED,
                                                                libvirt.VIR_DOMAIN_JOB_FAILED,
                                                                libvirt.VIR_DOMAIN_JOB_CANCELLED):
            return
        time.sleep(POLL_INTERVAL)


FIX_TIMEOUT = 8.0  # seconds one fix may take; libvirt itself waits 30 s for a job that nobody ends


def _apply(fix: Fix, link: ReopeningLink, uuid: str) -> str:
    """Carry out one fix, bounded in time; '' or why it did not happen.

    A destination daemon restarted during Prepare keeps the incoming copy under a migration job that no
    thread owns: `destroy` kills its QEMU at once but then waits libvirt's 30 s for that job and fails.
    So the call runs in a thread and is waited for at most FIX_TIMEOUT; reading both hosts again says
    what it achieved."""
    conn = link.conn
    if conn is None:
        return f"{link.uri} is not connected"
    outcome: list[str] = []

    def call() -> None:
        try:
            dom = conn.lookupByUUIDString(uuid)
            if fix in (Fix.DESTROY_SOURCE, Fix.DESTROY_DESTINATION):
                dom.destroy()
            elif fix is Fix.RESUME_SOURCE:
                with contextlib.suppress(libvirt.libvirtError):
                    dom.abortJob()  # a job libvirt's own recovery left behind
                dom.resume()
            elif fix is Fix.PAUSE_SOURCE:
                dom.suspend()
            outcome.append("")
        except libvirt.libvirtError as exc:
            gone = exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN and fix is not Fix.RESUME_SOURCE
            outcome.append("" if gone else libvirt_reason(exc))  # a copy to destroy that is gone: done

    worker = threading.Thread(target=call, name=f"{fix.value} {uuid}", daemon=True)
    worker.start()
    worker.join(FIX_TIMEOUT)
    if not outcome:
        return f"no answer from {link.uri} within {FIX_TIMEOUT:g} s"
    return outcome[0]


def _finish(guest: str, uuid: str, src: ReopeningLink, dst: ReopeningLink, detached: list[GuestDevice], error: str,
            aborted: bool, seconds: float, downtime: int | None, copies: tuple[Copy, Copy], verdict: Verdict,
            run: _Run, report: Callable[..., MigrationReport], signalled: str,
            rewrites: Sequence[Rewrite] = ()) -> MigrationReport:
    """Put the devices back where the guest runs (or report them with their XML) and write the report. On the
    destination a device goes back under that host's names (`rewrites`)."""
    src_copy, dst_copy = copies
    why = (f"stopped by {signalled}" if signalled and aborted else "aborted by the user" if aborted else
           error or "the guest is not active on the destination")
    common = {"aborted": aborted, "migration_seconds": seconds, "copies": copies, "verdict": verdict}
    check = f"check with virsh -c {src.uri} list --all and virsh -c {dst.uri} list --all"
    if verdict.owner is Owner.DESTINATION and dst_copy.presence is Presence.ACTIVE and not dst_copy.postcopy:
        there = [d if (xml := renamed_xml(d.xml, rewrites)) == d.xml else replace(d, xml=xml) for d in detached]
        fates = _put_back(dst.conn, dst.uri, uuid, guest, there, Fate.DESTINATION, run)
        lost = [f for f in fates if f.state == Fate.LOST]
        head = (f"{guest} runs on {dst.uri}" if not error else
                f"migration reported: {error}; but {guest} runs on {dst.uri}")
        tail = [f"{len(lost)} device(s) need manual action"] if lost else []
        if not error and verdict.certain and not verdict.fixes:
            message = "; ".join([head, *tail])
        else:
            message = "; ".join([head, verdict.why, *tail] + ([] if verdict.certain else [f"unknown: {check}"]))
        return report(dst.uri, True, message, fates, downtime=downtime, **common)
    if verdict.owner is Owner.SOURCE and src_copy.presence is Presence.ACTIVE:
        fates = _put_back(src.conn, src.uri, uuid, guest, detached, Fate.SOURCE, run)
        message = f"migration failed: {why}; {guest} keeps running on {src.uri}"
        if verdict.fixes or not verdict.certain:
            message += f" ({verdict.why})" + ("" if verdict.certain else f"; unknown: {check}")
        return report(src.uri, False, message, fates, **common)
    # nowhere to put them back (yet): every device is reported with its XML and the way back
    where = dst if verdict.owner is Owner.DESTINATION else src
    fates = _put_back(None, where.uri, uuid, guest, detached, Fate.SOURCE, run)
    if verdict.owner is Owner.NEITHER:
        record("migrate-guest-lost", src.uri, guest, "needs manual action", to=dst.uri, message=why)
        return report("", False, f"migration failed: {why}; {guest} runs on neither host — {check}", fates,
                      **common)
    record("migrate-unknown", src.uri, guest, "needs manual action", to=dst.uri, message=verdict.why,
           source=src_copy.describe(), destination=dst_copy.describe())
    runs_on = dst.uri if verdict.owner is Owner.DESTINATION else ""
    return report(runs_on, verdict.owner is Owner.DESTINATION,
                  f"unknown: {why}; {verdict.why}; source {src_copy.describe()}, destination "
                  f"{dst_copy.describe()} — {check}", fates, **common)
