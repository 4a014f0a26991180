"""A modal showing XML (a device's, or all of a guest's devices)."""

from __future__ import annotations

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static


class XmlScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,x", "dismiss", "Close", id="close"),
    ]

    def __init__(self, title: str, xml: str) -> None:
        super().__init__()
        self.title_text = title
        self.xml = xml

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="xml-box") as box:
            box.border_title = self.title_text
            yield Static(Syntax(self.xml, "xml", theme="ansi_dark", word_wrap=True))
        yield Footer()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
