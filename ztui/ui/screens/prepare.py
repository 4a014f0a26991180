"""`p` in the host devices view: the preparation plan of one device, then its run with proof.

The plan is read in a worker (sysfs reads, no libvirt call) and shown whole, every step as the command an
administrator would type; nothing changes until `enter`. The run goes through the same frame as
`ztui prepare` (lock, journal, proof, rollback, audit), in a worker, and the dialog shows each step's
outcome. Only this machine's own host is prepared (its sysfs is written directly).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual import getters, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from ztui.backend.prepare import PrepPlan, PrepRefused, PrepRequest
from ztui.model import DeviceUse
from ztui.ui.shell import ZtuiShell


class PrepareScreen(ModalScreen[bool]):
    """Dismisses with True when a preparation ran and was proven, else False."""

    app = getters.app(ZtuiShell)

    BINDINGS = [
        Binding("enter,y", "run", "Prepare (do the plan)", id="run"),
        Binding("escape,n,q", "close", "Close", id="close"),
        Binding("pagedown", "scroll(1)", "Scroll", show=False, id="page-down"),
        Binding("pageup", "scroll(-1)", "Scroll", show=False, id="page-up"),
    ]

    def __init__(self, uri: str, request: PrepRequest, uses: Mapping[str, Sequence[DeviceUse]] | None) -> None:
        super().__init__()
        self.uri = uri
        self.request = request
        self.uses = uses  # which guests use which host device (`users_of`); None: not known
        self.plan: PrepPlan | None = None
        self.busy = False
        self.proven = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="prepare-box") as box:
            box.border_title = (f"{'unprepare' if self.request.undo else 'prepare'} {self.request.kind.value} on "
                                f"{self.app.host_name(self.uri)}")
            yield Static("reading the host…", id="prepare-body")
        yield Footer()

    def on_mount(self) -> None:
        if not self.app.backend.preparable(self.uri):
            self._show(Text(f"{self.uri} is not this machine's own host: run ztui prepare on that host "
                            "(its sysfs is written directly)", style="yellow"))
            return
        self._plan()

    def _show(self, text: Text) -> None:
        self.query_one("#prepare-body", Static).update(text)

    @work(thread=True, exit_on_error=False, group="prepare")
    def _plan(self) -> None:
        try:
            plan = self.app.backend.prepare_plan(self.request, self.uses)
        except PrepRefused as exc:
            self.app.call_from_thread(self._show, Text(f"refused: {exc}\nnothing was changed", style="red"))
            return
        self.app.call_from_thread(self._planned, plan)

    def _planned(self, plan: PrepPlan) -> None:
        self.plan = plan
        text = Text(plan.text())
        text.append("\n\nenter runs it, step by step, each proven; a failed step undoes the ones before it",
                    style="dim")
        self._show(text)

    def action_run(self) -> None:
        readonly = self.app.host_readonly(self.uri)
        if self.plan is None or self.busy or self.proven or readonly:
            if readonly:
                self.notify("read-only: ztui does not prepare devices", severity="warning")
            return
        self.busy = True
        self._show(Text(self.plan.text() + "\n\nrunning…"))
        self._run(self.plan)

    @work(thread=True, exit_on_error=False, group="prepare")
    def _run(self, plan: PrepPlan) -> None:
        done = self.app.backend.prepare(self.uri, plan, undo=self.request.undo)
        self.app.call_from_thread(self._ran, done.ok, done.text)

    def _ran(self, ok: bool, text: str) -> None:
        self.busy = False
        self.proven = ok
        self._show(Text(text, style="green" if ok else "red"))
        self.notify(f"{'prepared' if ok else 'not prepared'}: {self.request.target or self.request.kind.value}",
                    severity="information" if ok else "error")

    def action_scroll(self, direction: int) -> None:
        box = self.query_one("#prepare-box", VerticalScroll)
        (box.scroll_page_down if direction > 0 else box.scroll_page_up)()

    def action_close(self) -> None:
        if not self.busy:  # a run in progress finishes (and is journaled) before the dialog goes
            self.dismiss(self.proven)
