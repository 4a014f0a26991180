"""The Textual application: one fleet model, the screens that render it, the workers that act through the
backend.

Threads: each host's session reads its host in its own thread (`ztui.backend`) and posts `HostUpdate`
messages (thread-safe); the app applies them to the `Fleet` on its own loop and patches the screen. No
widget is touched from another thread. Workers that talk to hosts are the app's (`ztui.ui.hotplug`,
`ztui.ui.migrations`, the screens' own) and post what they found as messages.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import App
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from ztui.backend.devices import DEFAULT_DETACH_TIMEOUT
from ztui.backend.interface import HostBackend
from ztui.backend.live import EarlyStart, LibvirtBackend, Started
from ztui.backend.updates import EventSeen, HostUp, InventoryChanged, Update
from ztui.fleet import Change, Fleet
from ztui.ui.hotplug import AttachEnded, AttachReady, DetachEnded, XmlRead
from ztui.ui.jobs import LeftoverRemoved, MigrationEnded, MigrationProgress, PreflightDone
from ztui.ui.messages import HostUpdate, InventoryRead, OpenHosts, Status
from ztui.ui.palette import FleetCommands
from ztui.ui.resources import stylesheets
from ztui.ui.screens.main import MainScreen
from ztui.ui.screens.nohost import NoHostScreen
from ztui.ui.screens.xml import XmlScreen
from ztui.ui.shell import ZtuiShell
from ztui.ui.updates import FleetUpdates
from ztui.ui.widgets.details import cycle_details

if TYPE_CHECKING:
    from ztui.backend.journal import Unfinished

log = logging.getLogger("ztui.ui")

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


class ZtuiApp(ZtuiShell):
    """`ztui` on screen. `uris` empty means: no host is configured, offer the lab.

    The app owns every worker that talks to a host (preflight, migration, attach, detach, the screens'
    reads), so that one `Worker.StateChanged` handler sees each failure: a worker that fails becomes a
    notification and its job is reset; the app itself never ends because a host went away or a file could not
    be written."""

    TITLE = "ztui"
    CSS_PATH = [*stylesheets()]
    COMMANDS = App.COMMANDS | {FleetCommands}
    ENABLE_COMMAND_PALETTE = True
    # below 100 columns the details pane goes under the tree (styles/ztui.tcss), which keeps the whole width
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    def __init__(self, uris: Sequence[str], readonly: bool = False,
                 reconnect_delays: Sequence[float] | None = None, offer_lab: bool = False,
                 no_host_reason: str = "", host_udev: bool = True, expand: str = "",
                 detach_timeout: float = DEFAULT_DETACH_TIMEOUT, names: Mapping[str, str] | None = None,
                 started: Started | None = None, backend: HostBackend | None = None) -> None:
        """`names`: what to call hosts (their saved names) by URI. `backend`: the hosts' door; by default
        libvirt's (`readonly`, `host_udev`, `reconnect_delays` are its settings), adopting the sessions of
        `uris` the command `started` before building the app (`ztui.libvirt.early`)."""
        if backend is None:
            backend = LibvirtBackend(readonly=readonly, udev=host_udev, reconnect_delays=reconnect_delays,
                                     early=EarlyStart(*started) if started is not None else None)
        super().__init__(uris, backend, readonly=readonly, names=names, detach_timeout=detach_timeout)
        self._expand = expand  # a guest to open with its chains once its host is up (`--expand`)
        self._offer_lab = offer_lab or not self.uris
        self._no_host_reason = no_host_reason
        self._updates = FleetUpdates(self.fleet, self.volumes)
        self._status_text: Text | None = None
        self._status_pending = False
        self._settle_timer: Timer | None = None
        if readonly:
            self.sub_title = "read-only"

    @property
    def main(self) -> MainScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    def on_mount(self) -> None:
        if self._offer_lab:
            self.push_screen(NoHostScreen(self._no_host_reason))
            return
        self.open_hosts(self.uris)
        self._read_unfinished(list(self.uris))

    def open_hosts(self, uris: Sequence[str]) -> None:
        """Show the main screen for these hosts and start a live session for each."""
        for uri in uris:
            if uri not in self.fleet.hosts:
                self.fleet.hosts[uri] = Fleet([uri]).hosts[uri]
        self.push_screen(MainScreen(self.fleet))
        self.backend.open(list(uris), self._post_update, self.shown)

    def on_open_hosts(self, message: OpenHosts) -> None:
        """The lab started (`NoHostScreen`): its hosts instead."""
        self.pop_screen()
        self.open_hosts(message.uris)

    @work(thread=True, group="journal", exit_on_error=False, description="reading the journal")
    def _read_unfinished(self, uris: list[str]) -> None:
        """Operations the journal still holds for these hosts (ztui or its host died mid-way), listed at start
        (an entry whose host or guest is gone is settled by asking that host)."""
        self.call_from_thread(self._show_unfinished, self.backend.unfinished(uris))

    def _show_unfinished(self, unfinished: Unfinished) -> None:
        if unfinished.problem:
            self.notify(unfinished.problem, severity="warning", timeout=10)
        for line in unfinished.settled:
            self.notify(self.named(line), timeout=10)
        if unfinished.entries:
            from ztui.ui.screens.journal import JournalScreen  # noqa: PLC0415 - journal screen only when it has entries

            self.push_screen(JournalScreen(list(unfinished.entries), readonly=self.readonly))

    # --- host updates -----------------------------------------------------------------------------------

    def _post_update(self, update: Update) -> None:
        self.post_message(HostUpdate(update))

    def on_host_update(self, message: HostUpdate) -> None:
        update = message.update
        if isinstance(update, InventoryChanged):
            self._apply(self._updates.inventory_changed(update))
            self.screen.post_message(InventoryRead(update.uri, update.inventory))
            return
        if isinstance(update, EventSeen):
            # an event storm must not repaint the status line hundreds of times a second: keep the
            # newest line and show it at most ten times a second
            self._status_text = Text.assemble((update.guest, "bold"), f" {update.text}  ",
                                              (self.host_name(update.uri), "dim"))
            if not self._status_pending:
                self._status_pending = True
                self.set_timer(0.1, self._show_status)
            return
        changes = self._updates.apply(update)
        self._apply(changes[:1])
        main = self.main
        if self._expand and isinstance(update, HostUp) and main is not None and main.is_mounted \
                and main.guest_tree.expand_guest(update.uri, self._expand):
            self._expand = ""
        self._apply(changes[1:])
        if isinstance(update, HostUp):
            self._settle_soon()

    def _apply(self, changes: list[Change]) -> None:
        main = self.main
        if main is not None and main.is_mounted:
            for change in changes:
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

    def on_status(self, message: Status) -> None:
        main = self.main
        if main is not None:
            main.status(message.text)

    # --- one place for failed workers ---------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that raised: say so, reset what it was doing, keep the app running."""
        worker = event.worker
        if event.state not in (WorkerState.ERROR, WorkerState.CANCELLED, WorkerState.SUCCESS):
            return
        key = self.migrations.worker_ended(worker)
        if event.state is not WorkerState.ERROR:
            return
        what = worker.description or worker.name or worker.group
        log.warning("%s failed: %r", what, worker.error)
        self.notify(f"{what} failed: {worker.error}", severity="error", timeout=10)
        if key is not None:
            self.migrations.worker_failed(key, f"{what} failed: {worker.error}")
        main = self.main
        if worker.group == "hotplug" and main is not None and main.is_mounted:
            main.hotplug_failed()

    # --- what the workers found -----------------------------------------------------------------------------

    def on_preflight_done(self, message: PreflightDone) -> None:
        self.migrations.preflight_done(message)

    def on_migration_progress(self, message: MigrationProgress) -> None:
        self.migrations.progress(message)

    def on_migration_ended(self, message: MigrationEnded) -> None:
        self.migrations.ended(message)

    def on_leftover_removed(self, message: LeftoverRemoved) -> None:
        self.migrations.leftover_removed(message)

    def on_attach_ready(self, message: AttachReady) -> None:
        main = self.main
        if main is not None:
            main.open_attach(message.context)

    def on_attach_ended(self, message: AttachEnded) -> None:
        self.notify(message.text, severity="information" if message.ok else "error", timeout=8)
        main = self.main
        if main is not None:
            main.status("")

    def on_detach_ended(self, message: DetachEnded) -> None:
        main = self.main
        if main is not None:
            main.detach_done(message.ref, message.done.message, message.done.outcome)

    def on_xml_read(self, message: XmlRead) -> None:
        self.push_screen(XmlScreen(message.title, message.xml))

    # --- keys and the end ---------------------------------------------------------------------------------

    def action_cycle_details(self) -> None:
        """`z`: the details pane bigger, hidden, back (`ztui.ui.widgets.details.DETAILS_BINDING`)."""
        cycle_details(self)

    def on_unmount(self) -> None:
        self.backend.close()
