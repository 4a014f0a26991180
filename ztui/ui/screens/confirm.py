"""A yes/no question before a change, showing exactly what will be done (virsh command and XML) and on which
host: the host is a required argument, so no confirmation can leave it out."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True on `y`, False on `n` or escape."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes, do it", id="yes"),
        Binding("n,escape", "answer(False)", "No", id="no"),
    ]

    def __init__(self, question: str, command: str, xml: str = "", *, host: str) -> None:
        super().__init__()
        self.question = question
        self.command = command
        self.xml = xml
        self.host = host

    def compose(self) -> ComposeResult:
        parts: list[RenderableType] = [Text(self.question, style="bold"), Text(""),
                                       Text("equivalent virsh command:", style="dim"), Text(self.command)]
        if self.xml:
            parts += [Text(""), Syntax(self.xml, "xml", theme="ansi_dark", word_wrap=True)]
        body = Group(*parts)
        with VerticalScroll(id="confirm-box") as box:
            box.border_title = f"confirm on {self.host}"
            yield Static(body)
        yield Footer()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
