"""Unfinished operations at start: what the journal holds, and finishing or rolling back each one.

Shown once when ztui starts and the journal (`ops/journal.py`) is not empty: an attach, detach or
migration whose outcome was never proven (a crash, a lost host, a signal). `f` finishes the selected one,
`r` rolls it back — each proven like any attach or detach, in a worker thread — and escape leaves them for
later (`ztui journal` lists them too).
"""

from __future__ import annotations

from textual import getters, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ztui.backend.journal import Entry, Resolution
from ztui.ui.shell import ZtuiShell


class JournalScreen(ModalScreen[None]):
    """The unfinished operations, one line each (hosts by their names)."""

    app = getters.app(ZtuiShell)

    BINDINGS = [
        Binding("f", "resolve('finish')", "Finish it", id="journal-finish"),
        Binding("r", "resolve('rollback')", "Roll it back", id="journal-rollback"),
        Binding("escape", "dismiss_screen", "Later", id="journal-later"),
    ]

    def __init__(self, entries: list[Entry], readonly: bool = False) -> None:
        super().__init__()
        self.entries = {e.id: e for e in entries}
        self.readonly = readonly

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box") as box:
            box.border_title = "unfinished operations"
            yield Static("These changes were not proven to their end. Finish or roll back each one "
                         "(or later: `ztui journal`).")
            yield OptionList(*(Option(self.app.named(e.summary()), id=e.id) for e in self.entries.values()),
                             id="journal-list")
        yield Footer()

    def action_dismiss_screen(self) -> None:
        self.dismiss(None)

    def action_resolve(self, how: str) -> None:
        if self.readonly:
            self.notify("read-only: ztui changes nothing", severity="warning")
            return
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return
        entry_id = options.get_option_at_index(options.highlighted).id
        if entry_id is not None:
            self.notify(f"{how} {entry_id} …")
            self._resolve(entry_id, how)

    @work(thread=True, group="journal", exit_on_error=False)
    def _resolve(self, entry_id: str, how: str) -> None:
        done = self.app.backend.settle_entry(entry_id, Resolution(how))
        self.app.call_from_thread(self.notify, done.message, severity="information" if done.ok else "error",
                                  timeout=10)
        if done.closed:
            self.app.call_from_thread(self._remove, entry_id)

    def _remove(self, entry_id: str) -> None:
        self.entries.pop(entry_id, None)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(self.app.named(e.summary()), id=e.id) for e in self.entries.values()])
        if not self.entries:
            self.dismiss(None)
