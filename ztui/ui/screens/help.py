"""The `?` screen: every key (from the bindings, `ztui.ui.keys`), and what the marks in the tree mean."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from ztui.ui.keys import main_screen_keys

MARKS = [
    ("● / … / ✗", "host connected / connecting / not connected, with why (ztui reconnects by itself)"),
    ("⛔", "blocks live migration (the reason is in the details pane)"),
    ("⇄", "pass-through device that does not block migration"),
    ("⚠", "something is missing or odd (details pane)"),
    ("⏳", "removal pending: libvirt has not yet proven the device gone (or not proven: `r` reads it again)"),
    ("⇉", "runs on another host: this host keeps the guest's definition; `s` asks before a second copy"),
    ("≡", "also on another host shown: the same volume (its uid, its WWID) under that host's name, and who uses it"),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="close")]

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold", no_wrap=True)
        keys.add_column()
        for row in main_screen_keys():
            keys.add_row(" ".join(row.keys), row.text.replace("`", ""))
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
