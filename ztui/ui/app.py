"""The Textual application: one live session per host, one fleet model, screens that render it.

Threads: each host's session reads libvirt in its own worker thread and posts `HostUpdate` messages
(thread-safe); the app applies them to the `Fleet` on its own loop and patches the screen. No widget is
touched from another thread.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import libvirt
from rich.text import Text
from textual import work
from textual.app import App
from textual.command import Provider
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from ztui.errors import StateUnwritable, ZtuiError
from ztui.fleet import Fleet
from ztui.host.volumes import VolumeTracker
from ztui.libvirt.connection import is_read_only
from ztui.libvirt.early import HeldSink, start_sessions
from ztui.libvirt.reader import read_at_once
from ztui.libvirt.session import (
    EventSeen,
    GuestGone,
    GuestUpdated,
    HostDown,
    HostSession,
    HostUp,
    InventoryChanged,
    Update,
)
from ztui.ops.proof import DEFAULT_DETACH_TIMEOUT
from ztui.ui.jobs import (
    JobKey,
    MigrationEnded,
    MigrationJob,
    MigrationProgress,
    PreflightDone,
    PreflightResult,
)
from ztui.ui.messages import HostUpdate
from ztui.ui.resources import stylesheets

if TYPE_CHECKING:  # the migration code is imported when a migration is first asked for, not at start-up
    from ztui.model import Guest, GuestDevice
    from ztui.ops.hotplug import AttachPlan, DetachPlan
    from ztui.ops.journal import Entry
    from ztui.ops.migrate_plan import Rewrite
    from ztui.ops.migration import MigrationControl, MigrationOptions, MigrationReport
    from ztui.ops.proof import DeviceChange
    from ztui.ui.screens.attach import AttachChoice
    from ztui.ui.screens.main import MainScreen
    from ztui.ui.widgets.guest_tree import NodeRef

log = logging.getLogger("ztui.ui")


def attach_message(plan: AttachPlan, change: DeviceChange) -> str:
    """The toast after an attach names the device: `vdc (/var/lib/…/data.qcow2) attached to lnxa03`."""
    device = change.device
    if device is None:
        return f"{plan.guest}: {plan.kind or 'device'}: {change.message}"
    source = f" ({device.source})" if device.source else ""
    return f"{device.display_name}{source} {change.message}"


def fleet_commands() -> type[Provider]:
    """The palette's provider, imported when the palette first opens (screens import this module)."""
    from ztui.ui.palette import FleetCommands

    return FleetCommands


SETTLE_AFTER = 0.3
"""Seconds without a new snapshot after which the heap is settled (`ZtuiApp._settle_soon`)."""


def settle_heap() -> None:
    """After a full snapshot: collect, then move every surviving object out of the collector's reach.

    The loaded model (about 190 objects a guest) is long-lived; left in the oldest generation, every
    full collection would walk all of it (~90 ms at 1000 guests), and one would fall on some event or
    key press. Frozen, later collections walk only what changed since. Unfreezing first hands the previous
    snapshot back to the collector, so a reconnect or resync leaves nothing behind."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class ZtuiApp(App[int]):
    """`ztui` on screen. `uris` empty means: no host is configured, offer the lab.

    The app owns every worker that talks to libvirt (preflight, migration, attach, detach), so that one
    `Worker.StateChanged` handler sees each failure: a worker that fails becomes a notification and its
    job is reset; the app itself never ends because a host went away or a file could not be written."""

    TITLE = "ztui"
    CSS_PATH = [*stylesheets()]
    COMMANDS = App.COMMANDS | {fleet_commands}
    ENABLE_COMMAND_PALETTE = True
    # below 100 columns the details pane goes under the tree (styles/ztui.tcss), which keeps the whole width
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    def __init__(self, uris: Sequence[str], readonly: bool = False,
                 reconnect_delays: Sequence[float] | None = None, offer_lab: bool = False,
                 no_host_reason: str = "", host_udev: bool = True, expand: str = "",
                 detach_timeout: float = DEFAULT_DETACH_TIMEOUT, names: Mapping[str, str] | None = None,
                 started: tuple[dict[str, HostSession], HeldSink] | None = None) -> None:
        """`names`: what to call hosts (their saved names) by URI. `started`: sessions of `uris` the command
        started before building the app, and the sink that holds their updates until the app is up
        (`ztui.libvirt.early`)."""
        super().__init__()
        self._expand = expand  # a guest to open with its chains once its host is up (`--expand`)
        self.host_udev = host_udev
        self.uris = list(uris)
        self.readonly = readonly
        self.detach_timeout = detach_timeout
        self.lifecycle_timeout: float | None = None  # None: ops.lifecycle's own wait for the proof
        self.fleet = Fleet(self.uris, names, readonly=[u for u in self.uris if is_read_only(u)])
        self.sessions: dict[str, HostSession] = {}
        self.jobs: dict[JobKey, MigrationJob] = {}
        self._job_workers: dict[Worker[Any], JobKey] = {}
        self._status_text: Text | None = None
        self._settle_timer: Timer | None = None
        self._status_pending = False
        self._delays = reconnect_delays
        self._started = started
        self._offer_lab = offer_lab or not self.uris
        self._no_host_reason = no_host_reason
        self.lock_advice_given: set[str] = set()  # hosts told once what would guard their shared disks
        self.volumes = VolumeTracker()  # one volume across the hosts shown: where else, who writes it there
        if readonly:
            self.sub_title = "read-only"

    @property
    def main(self) -> MainScreen | None:
        from ztui.ui.screens.main import MainScreen

        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    def on_mount(self) -> None:
        if self._offer_lab:
            from ztui.ui.screens.nohost import NoHostScreen

            self.push_screen(NoHostScreen(self._no_host_reason))
            return
        self.open_hosts(self.uris)
        self.show_unfinished()

    def show_unfinished(self) -> None:
        """Operations the journal still holds for these hosts (ztui or its host died mid-way): read in a
        worker (an entry whose host or guest is gone is settled by asking that host), listed at start."""
        self._read_unfinished(list(self.uris))

    @work(thread=True, group="journal", exit_on_error=False, description="reading the journal")
    def _read_unfinished(self, uris: list[str]) -> None:
        from ztui.ui.screens.journal import unfinished_entries

        entries, settled, problem = unfinished_entries(uris)
        self.call_from_thread(self._show_unfinished, entries, settled, problem)

    def _show_unfinished(self, entries: list[Entry], settled: list[str], problem: str) -> None:
        from ztui.ui.screens.journal import JournalScreen

        if problem:
            self.notify(problem, severity="warning", timeout=10)
        for line in settled:
            self.notify(self.named(line), timeout=10)
        if entries:
            self.push_screen(JournalScreen(entries, readonly=self.readonly))

    def open_hosts(self, uris: Sequence[str]) -> None:
        """Show the main screen for these hosts and start a live session for each."""
        from ztui.ui.screens.main import MainScreen

        for uri in uris:
            if uri not in self.fleet.hosts:
                self.fleet.hosts[uri] = Fleet([uri]).hosts[uri]
        self.push_screen(MainScreen(self.fleet))
        read_at_once(self.fleet.hosts)
        started, self._started = self._started, None
        if started is not None:  # already reading: what they read meanwhile is handed over first
            sessions, sink = started
            self.sessions.update(sessions)
            sink.attach(self._post_update)
            uris = [u for u in uris if u not in sessions]
        self.sessions.update(start_sessions([u for u in uris if u not in self.sessions], self._post_update,
                                            readonly=self.readonly, udev=self.host_udev,
                                            reconnect_delays=self._delays))

    def connection(self, uri: str) -> libvirt.virConnect:
        """The open connection of a configured host; `ConnectionError` while it is disconnected."""
        session = self.sessions.get(uri)
        conn = session.connection if session is not None else None
        if conn is None:
            raise ConnectionError(f"{uri} is not connected")
        return conn

    def _post_update(self, update: Update) -> None:
        self.post_message(HostUpdate(update))

    def on_host_update(self, message: HostUpdate) -> None:
        update = message.update
        # the guests of other hosts whose volumes' sightings this update changed (`ztui.host.volumes`)
        elsewhere: list[tuple[str, Guest]] = []
        if isinstance(update, HostUp):
            entry = self.fleet.hosts.get(update.uri)
            host, elsewhere = self.volumes.host_up(update.host, entry.name if entry is not None else "")
            change = self.fleet.host_up(update.uri, host)
        elif isinstance(update, HostDown):
            elsewhere = self.volumes.host_down(update.uri)
            change = self.fleet.host_down(update.uri, update.reason, update.retry_in)
        elif isinstance(update, GuestUpdated):
            guest, elsewhere = self.volumes.guest_updated(update.uri, update.guest)
            change = self.fleet.guest_updated(update.uri, guest)
        elif isinstance(update, GuestGone):
            elsewhere = self.volumes.guest_gone(update.uri, update.uuid)
            change = self.fleet.guest_gone(update.uri, update.uuid)
        elif isinstance(update, InventoryChanged):
            from ztui.ui.screens.hostdevs import HostDevicesScreen

            if update.inventory is not None:
                self._show_elsewhere(self.volumes.volumes_changed(update.uri, update.inventory.host_volumes))
            if isinstance(self.screen, HostDevicesScreen):
                self.screen.inventory_read(update.uri, update.inventory)
            return
        elif isinstance(update, EventSeen):
            # an event storm must not repaint the status line hundreds of times a second: keep the
            # newest line and show it at most ten times a second
            self._status_text = Text.assemble((update.guest, "bold"), f" {update.text}  ",
                                              (self.host_name(update.uri), "dim"))
            if not self._status_pending:
                self._status_pending = True
                self.set_timer(0.1, self._show_status)
            return
        else:  # pragma: no cover - new update kinds must be handled above
            return
        main = self.main
        if main is not None and main.is_mounted:
            main.apply(change)
            if self._expand and isinstance(update, HostUp) and main.guest_tree.expand_guest(update.uri,
                                                                                          self._expand):
                self._expand = ""
        self._show_elsewhere(elsewhere)
        if isinstance(update, HostUp):
            self._settle_soon()

    def _show_elsewhere(self, guests: list[tuple[str, Guest]]) -> None:
        """Guests (of any host) whose volumes are now seen otherwise on another host: shown anew."""
        main = self.main
        for uri, guest in guests:
            if uri in self.fleet.hosts and guest.uuid in self.fleet.hosts[uri].guests:
                change = self.fleet.guest_updated(uri, guest)
                if main is not None and main.is_mounted:
                    main.apply(change)

    def _settle_soon(self) -> None:
        """`settle_heap` once the snapshots stop coming: a fleet's hosts arrive one after another, and each
        settling walks the whole heap (sixteen hosts of a hundred guests: 16 full collections, most of a
        second), where one after the last does the same."""
        if self._settle_timer is not None:
            self._settle_timer.stop()
        self._settle_timer = self.set_timer(SETTLE_AFTER, lambda: self.call_after_refresh(settle_heap))

    def _show_status(self) -> None:
        self._status_pending = False
        main = self.main
        if main is not None and self._status_text is not None:
            main.status(self._status_text)

    def host_name(self, uri: str) -> str:
        """A host's name as people say it: its saved name, else its hostname once connected, else the URI."""
        entry = self.fleet.hosts.get(uri)
        return entry.display_name if entry is not None else uri

    def host_readonly(self, uri: str) -> bool:
        """Whether nothing may be changed on this host: ztui was started with --readonly, or the host is saved
        read-only (its connection is read-only too)."""
        entry = self.fleet.hosts.get(uri)
        return self.readonly or (entry is not None and entry.readonly)

    def named(self, text: str) -> str:
        """`text` with each known host's URI replaced by its name (messages from ops name URIs)."""
        for uri in sorted(self.fleet.hosts, key=len, reverse=True):
            name = self.host_name(uri)
            if name != uri:
                text = text.replace(uri, name)
        return text

    # --- one place for failed workers ---------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that raised: say so, reset what it was doing, keep the app running."""
        worker = event.worker
        if event.state not in (WorkerState.ERROR, WorkerState.CANCELLED, WorkerState.SUCCESS):
            return
        key = self._job_workers.pop(worker, None)
        if event.state is not WorkerState.ERROR:
            return
        what = worker.description or worker.name or worker.group
        log.warning("%s failed: %r", what, worker.error)
        self.notify(f"{what} failed: {worker.error}", severity="error", timeout=10)
        if key is not None and key in self.jobs:
            job = self.jobs[key]
            job.running = job.checking = False
            job.error = f"{what} failed: {worker.error}"
            self._job_changed(job)
        main = self.main
        if worker.group == "hotplug" and main is not None and main.is_mounted:
            main.hotplug_failed()

    # --- migration jobs (workers here, so closing the dialog does not stop them) -------------------------

    def migration_job(self, uri: str, guest: str) -> MigrationJob:
        key = (uri, guest)
        job = self.jobs.get(key)
        if job is None or (not job.running and (job.report is not None or job.error)):
            job = self.jobs[key] = MigrationJob(uri, guest)
        return job

    def start_preflight(self, job: MigrationJob) -> None:
        job.checking, job.preflight, job.error = True, None, ""
        worker = self._preflight(job.key, job.dest_uri, job.options)
        self._job_workers[worker] = job.key

    def start_migration(self, job: MigrationJob) -> None:
        if job.running or job.preflight is None or not job.preflight.ok:
            return
        job.begin()
        # the options the preflight settled (--unsafe where it proved the storage shared), its renames
        worker = self._migrate(job.key, job.dest_uri, job.preflight.options or job.options, job.preflight.to_move,
                               job.abort, job.preflight.rewrites)
        self._job_workers[worker] = job.key
        self._job_changed(job)

    def _dest_connection(self, dest_uri: str) -> tuple[libvirt.virConnect, bool]:
        """The destination's connection: a connected host's own, else a new one (closed after use)."""
        from ztui.libvirt.connection import open_connection

        session = self.sessions.get(dest_uri)
        if session is not None and session.connection is not None:
            return session.connection, False
        return open_connection(dest_uri), True

    @work(thread=True, group="migrate", exit_on_error=False, description="migration preflight")
    def _preflight(self, key: JobKey, dest_uri: str, options: MigrationOptions) -> None:
        from ztui.libvirt.connection import ConnectError
        from ztui.ops.migration import Finding, Preflight, Severity, preflight

        uri, guest = key
        try:
            dest, own = self._dest_connection(dest_uri)
        except ConnectError as exc:
            check = Preflight((Finding(Severity.BLOCKER, str(exc)),), ())
        else:
            try:
                src = self.connection(uri)
                check = preflight(src, src.lookupByName(guest), dest, options, src_uri=uri, dest_uri=dest_uri,
                                  session=list(self.fleet.hosts), src_inventory=self.sessions[uri].inventory)
            except (libvirt.libvirtError, ConnectionError) as exc:  # a host went away mid-check: a blocker
                check = Preflight((Finding(Severity.BLOCKER, f"preflight failed: {exc}"),), ())
            finally:
                if own:
                    dest.close()
        self.post_message(PreflightDone(PreflightResult(key, dest_uri, options, check)))

    @work(thread=True, group="migrate", exit_on_error=False, description="migration")
    def _migrate(self, key: JobKey, dest_uri: str, options: MigrationOptions, to_move: tuple[GuestDevice, ...],
                 abort: MigrationControl, rewrites: tuple[Rewrite, ...] = ()) -> None:
        from ztui.ops.audit import record
        from ztui.ops.guestlock import guest_lock
        from ztui.ops.journal import EntryState, JournalAction, Operation
        from ztui.ops.migration import run_migration, virsh_migrate

        uri, guest = key
        problem = self.state_problem()
        if problem:  # the failure handler resets the job and shows this; nothing was changed
            raise StateUnwritable(problem)
        src = self.connection(uri)
        dest, own = self._dest_connection(dest_uri)
        report: MigrationReport | None = None
        try:
            def progress(step: Mapping[str, Any]) -> None:
                self.post_message(MigrationProgress(key, step))

            dom = src.lookupByName(guest)
            uuid = dom.UUIDString()
            try:  # the CLI's rules: locked on both hosts, the intent in the journal, before any change
                with guest_lock(uri, uuid, guest=guest, action="migrate"), \
                        guest_lock(dest_uri, uuid, guest=guest, action="migrate"):
                    op = Operation.begin(JournalAction.MIGRATE, uri, guest, uuid, plan={"destination": dest_uri})
                    report = run_migration(src, uri, dom, dest, dest_uri, options, to_move, progress, abort, op=op,
                                           rewrites=rewrites)
                    if report.certain and not report.lost:
                        op.close()
                    else:
                        op.leave_open(EntryState.UNKNOWN, report.message)
            except ZtuiError as exc:  # busy, or the journal cannot be written: nothing was changed
                if report is None:
                    report = MigrationReport(guest, uri, False, f"not migrated: {exc}", 0.0, source=uri,
                                             destination=dest_uri)
        finally:
            if own:
                dest.close()
        audit_error = ""
        try:
            record("migrate", uri, guest, "done" if report.ok else "failed", to=dest_uri,
                   virsh=virsh_migrate(uri, guest, dest_uri, options), report=report.to_json(), via="tui")
        except (OSError, ZtuiError) as exc:  # the result stands; only its record is missing, and the user is told
            audit_error = f"audit log not written: {exc}"
        self.post_message(MigrationEnded(key, report, audit_error))

    def on_preflight_done(self, message: PreflightDone) -> None:
        result = message.result
        job = self.jobs.get(result.key)
        if job is None or job.running:
            return
        job.checking = False
        if (job.dest_uri, job.options) == (result.dest_uri, result.options):  # else the choice changed since
            job.preflight = result.preflight
        self._job_changed(job)

    def on_migration_progress(self, message: MigrationProgress) -> None:
        job = self.jobs.get(message.key)
        if job is not None and job.running:
            job.progress = message.progress
            self._job_changed(job)

    def on_migration_ended(self, message: MigrationEnded) -> None:
        job = self.jobs.get(message.key)
        if job is None:
            return
        job.running, job.report = False, message.report
        self._job_changed(job)
        report = message.report
        text = self.report_status(job) if report.ok else f"{self.report_status(job)}\n{self.named(report.message)}"
        self.notify(text, severity="information" if report.ok else "error", timeout=10)
        if message.audit_error:
            self.notify(message.audit_error, severity="error", timeout=10)
        main = self.main
        if main is not None:
            main.status(self.report_status(job))

    def report_status(self, job: MigrationJob) -> str:
        """One line for the status bar once a migration ended."""
        report = job.report
        if report is None:
            return ""
        where = self.host_name(report.runs_on) if report.runs_on else "nowhere ztui can see"
        downtime = f", downtime {report.downtime_ms} ms" if report.downtime_ms is not None else ""
        verdict = "migrated" if report.ok else ("aborted" if report.aborted else "not migrated")
        return f"{job.guest} {verdict}: runs on {where} ({report.seconds:.1f} s{downtime})"

    def _job_changed(self, job: MigrationJob) -> None:
        from ztui.ui.screens.migrate import MigrateScreen, progress_line

        if isinstance(self.screen, MigrateScreen) and self.screen.job is job:
            self.screen.refresh_job()
        elif job.running and job.progress and self.main is not None:
            self.main.status(f"migrating {job.guest}: {progress_line(job.progress)[1]}")

    @work(thread=True, group="migrate", exit_on_error=False, description="undefining the source's definition")
    def undefine_leftover(self, report: MigrationReport) -> None:
        """The definition a migration left on its source goes (`ops.leftover`), proven; the toast says so."""
        from ztui.ops.leftover import remove_leftover

        dest, own = self._dest_connection(report.destination)
        try:
            uuid = dest.lookupByName(report.guest).UUIDString()
            done = remove_leftover(self.connection(report.source), report.source, dest, report.destination, uuid,
                                   report.guest)
        finally:
            if own:
                dest.close()
        self.call_from_thread(self._leftover_done, report, done.ok, done.message)

    def _leftover_done(self, report: MigrationReport, ok: bool, message: str) -> None:
        self.notify(self.named(message), severity="information" if ok else "error", timeout=10)
        job = self.jobs.get((report.source, report.guest))
        if ok and job is not None and job.report is report:
            job.report = replace(report, leftover=())
            self._job_changed(job)

    # --- hotplug workers -------------------------------------------------------------------------------

    @work(thread=True, group="hotplug", exit_on_error=False, description="reading the guest for attach")
    def prepare_attach(self, uri: str, name: str) -> None:
        """Read the guest's facts (live and persistent XML, its neighbours) off the UI thread."""
        from ztui.ops.candidates import attach_candidates
        from ztui.ops.hotplug import HostProbe, read_facts

        try:
            conn = self.connection(uri)
            facts = read_facts(conn, conn.lookupByName(name))
            probe = HostProbe.for_connection(conn)
        except (libvirt.libvirtError, ConnectionError) as exc:  # the guest or the host went away
            self.call_from_thread(self.notify, f"cannot attach to {name}: {exc}", severity="error")
            return
        candidates = attach_candidates(self.sessions[uri].inventory, self.fleet.snapshot(uri))
        main = self.main
        if main is not None:
            self.call_from_thread(main.open_attach, uri, name, facts, candidates, probe)

    @work(thread=True, group="hotplug", exit_on_error=False, description="attach")
    def run_attach(self, uri: str, choice: AttachChoice) -> None:
        """The attach in its frame (guest lock, journal, audit: `ops.action`); refused before any change
        when the guest is busy or the state directory cannot be written."""
        from ztui.ops.action import attach_recorded

        plan = choice.plan
        try:
            conn = self.connection(uri)
            done = attach_recorded(uri, conn, conn.lookupByName(plan.guest), plan, request=choice.request,
                                   via="tui")
        except ZtuiError as exc:
            self.call_from_thread(self._hotplug_done, f"{plan.guest}: attach refused: {exc}", False)
            return
        except (libvirt.libvirtError, ConnectionError) as exc:  # the host went away mid-way: nothing is claimed
            self.call_from_thread(self._hotplug_done, f"{plan.guest}: attach not proven: {exc}", False)
            return
        self.call_from_thread(self._hotplug_done, attach_message(plan, done.change), done.change.ok)
        for problem in done.problems:  # the change stands; what could not be written is said beside it
            self.call_from_thread(self._hotplug_done, problem, False)

    @work(thread=True, group="hotplug", exit_on_error=False, description="detach")
    def run_detach(self, ref: NodeRef, plan: DetachPlan) -> None:
        """The detach in its frame (see `run_attach`)."""
        from ztui.ops.action import detach_recorded

        timeout = self.detach_timeout
        main = self.main
        assert main is not None
        from ztui.ops.proof import Outcome

        try:
            conn = self.connection(ref.uri)
            done = detach_recorded(ref.uri, conn, conn.lookupByName(plan.guest), plan, timeout=timeout, via="tui")
        except ZtuiError as exc:
            self.call_from_thread(main.detach_done, ref, f"{plan.guest}: detach of {plan.name} refused: {exc}",
                                  Outcome.REFUSED)
            return
        except (libvirt.libvirtError, ConnectionError) as exc:  # the host went away: nothing is claimed
            self.call_from_thread(main.detach_done, ref, f"{plan.guest}: detach of {plan.name} not proven: {exc}",
                                  Outcome.UNKNOWN)
            return
        change = done.change
        message = f"{plan.name}: {change.message}" + "".join(f"\n{n}" for n in (*change.notes, *done.problems))
        self.call_from_thread(main.detach_done, ref, message, change.outcome)

    @work(thread=True, group="read", exit_on_error=False, description="reading the domain XML")
    def show_domain_xml(self, uri: str, name: str) -> None:
        """`x` on a guest: its whole domain XML as libvirt has it now (live when running)."""
        from ztui.ui.screens.xml import XmlScreen

        try:
            xml = self.connection(uri).lookupByName(name).XMLDesc(0)
        except (libvirt.libvirtError, ConnectionError) as exc:
            self.call_from_thread(self.notify, f"cannot read the XML of {name}: {exc}", severity="error")
            return
        self.call_from_thread(self.push_screen, XmlScreen(f"{name}: domain XML", xml.strip()))

    @staticmethod
    def state_problem() -> str:
        """Why the state directory (audit log) cannot be written, or ''. A change whose record cannot be
        kept is refused before it is made, as on the command line."""
        from ztui.ops.statefiles import open_dir

        try:
            with open_dir():
                pass
        except (OSError, ZtuiError) as exc:
            return str(exc)
        return ""

    def _hotplug_done(self, message: str, ok: bool) -> None:
        self.notify(message, severity="information" if ok else "error", timeout=8)
        main = self.main
        if main is not None:
            main.status("")

    def action_cycle_details(self) -> None:
        """`z`: the details pane bigger, hidden, back (`ztui.ui.widgets.details.DETAILS_BINDING`)."""
        from ztui.ui.widgets.details import cycle_details

        cycle_details(self)

    def resync(self) -> None:
        for session in self.sessions.values():
            session.resync()

    def on_unmount(self) -> None:
        for session in self.sessions.values():
            session.stop(timeout=1.0)
