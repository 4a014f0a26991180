"""Shown when no libvirt host is configured or reachable: say so, and offer the private lab."""

from __future__ import annotations

from rich.text import Text
from textual import getters, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from ztui.ui.messages import OpenHosts
from ztui.ui.shell import ZtuiShell


class NoHostScreen(Screen[None]):
    app = getters.app(ZtuiShell)

    BINDINGS = [
        Binding("l", "start_lab", "Start the lab", id="start_lab"),
        Binding("q", "app.quit", "Quit", id="quit"),
    ]

    def __init__(self, reason: str = "") -> None:
        super().__init__()
        self.reason = reason

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("No libvirt host to show.\n\n", style="bold")
        if self.reason:
            text.append(f"{self.reason}\n\n", style="red")
        text.append("Give one with -c URI (repeatable), set LIBVIRT_DEFAULT_URI, or press ")
        text.append("l", style="bold")
        text.append(" to start ztui's private lab: libvirt hosts with s390x guests under emulation,\n"
                    "isolated from this machine's own libvirt.")
        with Center(), Vertical(id="nohost-box"):
            yield Static(text)
            yield Static("", id="lab-progress")
        yield Footer()

    def action_start_lab(self) -> None:
        self.query_one("#lab-progress", Static).update("starting the lab…")
        self._start_lab()

    @work(thread=True, exclusive=True, exit_on_error=False)  # every failure is caught and shown below
    def _start_lab(self) -> None:
        try:
            uris = self.app.backend.start_lab()
        except Exception as exc:  # any failure is shown on this screen, the app stays usable
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self._started, uris)

    def _failed(self, reason: str) -> None:
        self.query_one("#lab-progress", Static).update(Text(f"the lab did not start: {reason}", style="red"))

    def _started(self, uris: list[str]) -> None:
        self.post_message(OpenHosts(uris))
