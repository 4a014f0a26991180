"""The Textual application: one live session per host, one fleet model, screens that render it.

Threads: each host's session reads libvirt in its own worker thread and posts `HostUpdate` messages
(thread-safe); the app applies them to the `Fleet` on its own loop and patches the screen. No widget is
touched from another thread.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Sequence

from rich.text import Text
from textual import work
from textual.app import App

from ztui.fleet import Fleet
from ztui.libvirt.session import (
    RECONNECT_DELAYS,
    EventSeen,
    GuestGone,
    GuestUpdated,
    HostDown,
    HostSession,
    HostUp,
    InventoryChanged,
)
from ztui.ui.messages import HostUpdate
from ztui.ui.palette import FleetCommands
from ztui.ui.resources import stylesheets
from ztui.ui.screens.main import MainScreen
from ztui.ui.screens.migrate import MigrationChanged, MigrationJob

log = logging.getLogger("ztui.ui")


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
    """`ztui` on screen. `uris` empty means: no host is configured, offer the lab."""

    TITLE = "ztui"
    CSS_PATH = stylesheets()  # type: ignore[assignment]
    COMMANDS = App.COMMANDS | {FleetCommands}
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, uris: Sequence[str], readonly: bool = False,
                 reconnect_delays: Sequence[float] | None = None, offer_lab: bool = False,
                 no_host_reason: str = "", host_udev: bool = True, expand: str = "") -> None:
        super().__init__()
        self._expand = expand  # a guest to open with its chains once its host is up (`--expand`)
        self.host_udev = host_udev
        self.uris = list(uris)
        self.readonly = readonly
        self.fleet = Fleet(self.uris)
        self.sessions: dict[str, HostSession] = {}
        self.jobs: dict[tuple[str, str], MigrationJob] = {}
        self._status_text: Text | None = None
        self._status_pending = False
        self._delays = reconnect_delays
        self._offer_lab = offer_lab or not self.uris
        self._no_host_reason = no_host_reason

    @property
    def main(self) -> MainScreen | None:
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
        """Operations the journal still holds (ztui or its host died mid-way): listed at start."""
        from ztui.ui.screens.journal import JournalScreen, unfinished_entries

        entries, problem = unfinished_entries()
        if problem:
            self.notify(problem, severity="warning", timeout=10)
        if entries:
            self.push_screen(JournalScreen(entries, readonly=self.readonly))

    def open_hosts(self, uris: Sequence[str]) -> None:
        """Show the main screen for these hosts and start a live session for each."""
        for uri in uris:
            if uri not in self.fleet.hosts:
                self.fleet.hosts[uri] = Fleet([uri]).hosts[uri]
        self.push_screen(MainScreen(self.fleet))
        for uri in uris:
            session = HostSession(uri, self._post_update, readonly=self.readonly, udev=self.host_udev,
                                  reconnect_delays=self._delays or RECONNECT_DELAYS)
            self.sessions[uri] = session
            session.start()

    def _post_update(self, update: object) -> None:
        self.post_message(HostUpdate(update))  # type: ignore[arg-type]

    def on_host_update(self, message: HostUpdate) -> None:
        update = message.update
        if isinstance(update, HostUp):
            change = self.fleet.host_up(update.uri, update.host)
        elif isinstance(update, HostDown):
            change = self.fleet.host_down(update.uri, update.reason, update.retry_in)
        elif isinstance(update, GuestUpdated):
            change = self.fleet.guest_updated(update.uri, update.guest)
        elif isinstance(update, GuestGone):
            change = self.fleet.guest_gone(update.uri, update.uuid)
        elif isinstance(update, InventoryChanged):
            from ztui.ui.screens.hostdevs import HostDevicesScreen

            if isinstance(self.screen, HostDevicesScreen):
                self.screen.reload(update.uri)
            return
        elif isinstance(update, EventSeen):
            # an event storm must not repaint the status line hundreds of times a second: keep the
            # newest line and show it at most ten times a second
            self._status_text = Text.assemble((update.guest, "bold"), f" {update.text}  ",
                                              (self._short(update.uri), "dim"))
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
        if isinstance(update, HostUp):
            settle_heap()

    def _show_status(self) -> None:
        self._status_pending = False
        main = self.main
        if main is not None and self._status_text is not None:
            main.status(self._status_text)

    def _short(self, uri: str) -> str:
        entry = self.fleet.hosts.get(uri)
        return entry.host.hostname if entry is not None and entry.host.hostname else uri

    # --- migration jobs (workers here, so closing the dialog does not stop them) -------------------------

    def migration_job(self, uri: str, guest: str) -> object:
        from ztui.ui.screens.migrate import MigrationJob

        key = (uri, guest)
        if key not in self.jobs or (not self.jobs[key].running and self.jobs[key].report is not None):
            self.jobs[key] = MigrationJob(uri, guest)
        return self.jobs[key]

    def _dest_connection(self, dest_uri: str) -> tuple[object, bool]:
        """The destination's connection: a connected host's own, else a new one (closed after use)."""
        from ztui.libvirt.connection import open_connection

        session = self.sessions.get(dest_uri)
        if session is not None and session.connection is not None:
            return session.connection, False
        return open_connection(dest_uri), True

    @work(thread=True, group="migrate")
    def run_preflight(self, job: MigrationJob) -> None:
        from ztui.libvirt.connection import ConnectError
        from ztui.ops.migration import Finding, Preflight, Severity, preflight

        try:
            dest, own = self._dest_connection(job.dest_uri)
        except ConnectError as exc:
            job.preflight = Preflight((Finding(Severity.BLOCKER, str(exc)),), ())
        else:
            src = self.sessions[job.uri].connection
            try:
                job.preflight = preflight(src, src.lookupByName(job.guest), dest, job.options)  # type: ignore[union-attr]
            except Exception as exc:  # libvirt went away mid-check: a blocker, nothing changed
                job.preflight = Preflight((Finding(Severity.BLOCKER, f"preflight failed: {exc}"),), ())
            finally:
                if own:
                    dest.close()  # type: ignore[attr-defined]
        self.post_message(MigrationChanged(job))

    @work(thread=True, group="migrate")
    def run_migration_job(self, job: MigrationJob) -> None:
        from ztui.errors import ZtuiError
        from ztui.ops.audit import record
        from ztui.ops.guestlock import guest_lock
        from ztui.ops.journal import EntryState, JournalAction, Operation
        from ztui.ops.migration import MigrationReport, run_migration, virsh_migrate

        if job.preflight is None or not job.preflight.ok:
            return
        job.running, job.progress, job.report = True, {}, None
        job.abort.clear()
        self.post_message(MigrationChanged(job))
        dest, own = self._dest_connection(job.dest_uri)
        src = self.sessions[job.uri].connection
        try:
            def progress(step: dict[str, object]) -> None:
                job.progress = step
                self.post_message(MigrationChanged(job))

            dom = src.lookupByName(job.guest)  # type: ignore[union-attr]
            uuid = dom.UUIDString()
            try:  # the CLI's rules: locked on both hosts, the intent in the journal, before any change
                with guest_lock(job.uri, uuid, guest=job.guest, action="migrate"), \
                        guest_lock(job.dest_uri, uuid, guest=job.guest, action="migrate"):
                    op = Operation.begin(JournalAction.MIGRATE, job.uri, job.guest, uuid,
                                         plan={"destination": job.dest_uri})
                    job.report = run_migration(src, job.uri, dom, dest, job.dest_uri, job.options,
                                               job.preflight.to_move, progress, job.abort, op=op)
                    if job.report.certain and not job.report.lost:
                        op.close()
                    else:
                        op.leave_open(EntryState.UNKNOWN, job.report.message)
                record("migrate", job.uri, job.guest, "done" if job.report.ok else "failed", to=job.dest_uri,
                       virsh=virsh_migrate(job.uri, job.guest, job.dest_uri, job.options),
                       report=job.report.to_json(), via="tui")
            except ZtuiError as exc:  # busy, or the state directory cannot take the journal or the audit log
                if job.report is None:
                    job.report = MigrationReport(job.guest, job.uri, False, f"not migrated: {exc}", 0.0,
                                                 source=job.uri, destination=job.dest_uri)
                else:
                    self.notify(f"the migration is not in the audit log: {exc}", severity="error", timeout=10)
        finally:
            job.running = False
            if own:
                dest.close()  # type: ignore[attr-defined]
        self.post_message(MigrationChanged(job))

    def on_migration_changed(self, message: MigrationChanged) -> None:
        from ztui.ui.screens.migrate import MigrateScreen, progress_text

        job = message.job
        if isinstance(self.screen, MigrateScreen) and self.screen.job is job:
            self.screen.refresh_job()
        elif job.running and job.progress and self.main is not None:
            self.main.status(f"migrating {job.guest}: {progress_text(job.progress)}")
        if job.report is not None and not job.running:
            self.notify(job.report.message, severity="information" if job.report.ok else "error", timeout=10)

    def resync(self) -> None:
        for session in self.sessions.values():
            session.resync()

    def on_unmount(self) -> None:
        for session in self.sessions.values():
            session.stop(timeout=1.0)
