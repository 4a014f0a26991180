"""The Textual application: one live session per host, one fleet model, screens that render it.

Threads: each host's session reads libvirt in its own worker thread and posts `HostUpdate` messages
(thread-safe); the app applies them to the `Fleet` on its own loop and patches the screen. No widget is
touched from another thread.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from rich.text import Text
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
from ztui.resources import stylesheets
from ztui.ui.messages import HostUpdate
from ztui.ui.palette import FleetCommands
from ztui.ui.screens.main import MainScreen

log = logging.getLogger("ztui.ui")


class ZtuiApp(App[int]):
    """`ztui` on screen. `uris` empty means: no host is configured, offer the lab."""

    TITLE = "ztui"
    CSS_PATH = stylesheets()  # type: ignore[assignment]
    COMMANDS = App.COMMANDS | {FleetCommands}
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, uris: Sequence[str], readonly: bool = False,
                 reconnect_delays: Sequence[float] | None = None, offer_lab: bool = False,
                 no_host_reason: str = "", host_udev: bool = True) -> None:
        super().__init__()
        self.host_udev = host_udev
        self.uris = list(uris)
        self.readonly = readonly
        self.fleet = Fleet(self.uris)
        self.sessions: dict[str, HostSession] = {}
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
            main = self.main
            if main is not None:
                main.status(Text.assemble((update.guest, "bold"), f" {update.text}  ",
                                          (self._short(update.uri), "dim")))
            return
        else:  # pragma: no cover - new update kinds must be handled above
            return
        main = self.main
        if main is not None and main.is_mounted:
            main.apply(change)

    def _short(self, uri: str) -> str:
        entry = self.fleet.hosts.get(uri)
        return entry.host.hostname if entry is not None and entry.host.hostname else uri

    def resync(self) -> None:
        for session in self.sessions.values():
            session.resync()

    def on_unmount(self) -> None:
        for session in self.sessions.values():
            session.stop(timeout=1.0)
