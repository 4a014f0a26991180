"""The `?` screen: every key, and what the marks in the tree mean."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

KEYS = [
    ("↑ ↓  j k", "move"),
    ("→ ←  l h", "expand / collapse (h on a collapsed node goes to its parent)"),
    ("enter  space", "expand or collapse"),
    ("/", "filter by guest, device target, bus-ID (0.0.5c3f), host device id or path; esc clears"),
    ("x", "the selected device's (or guest's) XML"),
    ("a", "attach a device to the selected guest (XML and virsh preview first; ctrl+s applies)"),
    ("d", "detach the selected device (asks first; removal pending until libvirt proves it gone)"),
    ("m", "migrate the selected guest: destination, preflight, progress, abort (ctrl+a), report"),
    ("H", "host devices and who uses them (u: free for pass-through only)"),
    ("r", "re-read every host now"),
    ("ctrl+p", "jump to any host, guest or device"),
    ("?", "this help"),
    ("q", "quit"),
]

MARKS = [
    ("● / ✗", "host connected / disconnected (ztui reconnects by itself)"),
    ("⛔", "blocks live migration (the reason is in the details pane)"),
    ("⇄", "pass-through device that does not block migration"),
    ("⚠", "something is missing or odd (details pane)"),
    ("⏳", "removal pending: libvirt has not yet proven the device gone"),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="close")]

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold", no_wrap=True)
        keys.add_column()
        for key, what in KEYS:
            keys.add_row(key, what)
        marks = Table.grid(padding=(0, 2))
        marks.add_column(style="bold", no_wrap=True)
        marks.add_column()
        for mark, what in MARKS:
            marks.add_row(mark, what)
        with VerticalScroll(id="help-box") as box:
            box.border_title = "ztui help"
            yield Static(Text("Keys", style="bold underline"))
            yield Static(keys)
            yield Static(Text("\nMarks", style="bold underline"))
            yield Static(marks)
        yield Footer()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
