"""Where a guest can go (`w`) and emptying a host (`E`), from the tree.

`w` on a guest (or one of its devices) asks every other host ztui knows, by the migration preflight
(`ztui.backend.placement`): ready, ready after steps, or no, each no with what to change; `m` there opens the
migrate dialog with the highlighted host chosen. `E` on a host shows the plan for all of its running guests
( each guest's destination, the devices moved around its migration, the disks renamed
there, or why it stays) and `ctrl+s` carries it out, guest by guest, each a guarded migration, stopping at
the first guest that cannot go. The hosts are read in workers; the screens only show what they post.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual import getters, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ztui.backend.interface import HostError
from ztui.backend.placement import EvacuationPlan, EvacuationReport, GuestResult, Placement, Readiness
from ztui.ui.screens.migrate import MigrateScreen
from ztui.ui.shell import ZtuiShell

_STYLE = {Readiness.READY: "green", Readiness.AFTER_STEPS: "yellow", Readiness.NO: "red"}


def placement_line(placement: Placement, name: str) -> Text:
    """`zlab-y  ready`, `zlab-a  no — vda: DASD … is not visible …` for the list."""
    text = Text(name, style="bold")
    text.append(f"  {placement.readiness.value}", style=_STYLE[placement.readiness])
    if placement.readiness is Readiness.AFTER_STEPS:
        text.append("  " + "; ".join(placement.steps), style="dim")
    elif placement.readiness is Readiness.NO and placement.reasons:
        more = len(placement.reasons) - 1
        text.append(f"  {placement.reasons[0].text}" + (f" (+{more} more)" if more else ""), style="dim")
    return text


class WhereScreen(ModalScreen[None]):
    """Every other host's answer for one guest; `m` migrates it to the highlighted host."""

    app = getters.app(ZtuiShell)

    BINDINGS = [
        Binding("m", "migrate", "Migrate there", id="migrate_there"),
        Binding("escape", "close", "Close", id="close"),
    ]

    def __init__(self, uri: str, guest: str) -> None:
        super().__init__()
        self.uri, self.guest = uri, guest
        self.placements: list[Placement] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="where-box") as box:
            box.border_title = f"where can {self.guest} go from {self.app.host_name(self.uri)}?"
            yield OptionList(id="where-hosts", compact=True)
            with VerticalScroll(id="where-out"):
                yield Static(Text("asking every other host…", style="dim"), id="where-body")
        yield Footer()

    def on_mount(self) -> None:
        self._judge()

    @work(thread=True, group="where", exit_on_error=False, description="where can the guest go")
    def _judge(self) -> None:
        try:
            found = self.app.backend.where(self.uri, self.guest, self.app.shown)
        except HostError as exc:
            self.app.call_from_thread(self._show_error, str(exc))
            return
        self.app.call_from_thread(self._listed, found)

    def _show_error(self, message: str) -> None:
        self.query_one("#where-body", Static).update(Text(message, style="bold red"))

    def _listed(self, found: list[Placement]) -> None:
        self.placements = found
        hosts = self.query_one(OptionList)
        hosts.clear_options()
        hosts.add_options([Option(placement_line(p, self._host_of(p)), id=p.uri) for p in found])
        if not found:
            self.query_one("#where-body", Static).update(
                Text("no other host is known: add hosts (-c, ztui hosts add) or use the lab", style="dim"))
        else:
            hosts.highlighted = 0
            hosts.focus()

    def _host_of(self, placement: Placement) -> str:
        return self.app.host_name(placement.uri) if placement.uri in self.app.fleet.hosts else placement.host

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        found = next((p for p in self.placements if p.uri == event.option.id), None)
        if found is not None:
            self.query_one("#where-body", Static).update(placement_details(found, self._host_of(found)))

    def action_migrate(self) -> None:
        hosts = self.query_one(OptionList)
        if hosts.highlighted is None or not self.placements:
            return
        chosen = self.placements[hosts.highlighted].uri
        if self.app.host_readonly(self.uri):
            self.notify("read-only: nothing is migrated", severity="warning")
            return
        others = [chosen, *(u for u in self.app.fleet.hosts if u not in (self.uri, chosen))]
        job = self.app.migrations.job(self.uri, self.guest)
        self.dismiss(None)
        self.app.push_screen(MigrateScreen(job, others))

    def action_close(self) -> None:
        self.dismiss(None)


def placement_details(placement: Placement, name: str) -> RenderableType:
    """Everything one host said: its readiness, each blocker and its step, the renames, the notes."""
    parts: list[RenderableType] = [Text(f"{name}: {placement.readiness.value}", style=f"bold "
                                                                                     f"{_STYLE[placement.readiness]}")]
    for finding in placement.reasons:
        parts.append(Text(f"⛔ {finding.text}", style="red"))
        if finding.step:
            parts.append(Text(f"   step: {finding.step}", style="yellow"))
    if placement.check is not None:
        parts += [Text(f"≡ {r.text}", style="cyan") for r in placement.check.rewrites]
    parts += [Text(f"• {f.text}", style="dim") for f in placement.findings if f.severity == "note"]
    return Group(*parts)


class EvacuateScreen(ModalScreen[None]):
    """The plan for every running guest of a host, then (`ctrl+s`) its run, guest by guest."""

    app = getters.app(ZtuiShell)

    BINDINGS = [
        Binding("ctrl+s", "start", "Evacuate", id="start_evacuation", priority=True),
        Binding("pagedown", "scroll(1)", "Scroll", id="scroll_down", priority=True),
        Binding("pageup", "scroll(-1)", "Scroll up", show=False, id="scroll_up", priority=True),
        Binding("escape", "close", "Close", id="close"),
    ]

    def __init__(self, uri: str) -> None:
        super().__init__()
        self.uri = uri
        self.plan: EvacuationPlan | None = None
        self.lines: list[Text] = []
        self.running = False
        self.report: EvacuationReport | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="evacuate-box") as box:
            box.border_title = f"evacuate {self.app.host_name(self.uri)}"
            with VerticalScroll(id="evacuate-out"):
                yield Static(Text("planning: asking every other host about each running guest…", style="dim"),
                             id="evacuate-body")
        yield Footer()

    def on_mount(self) -> None:
        self._plan()

    @work(thread=True, group="evacuate", exit_on_error=False, description="planning the evacuation")
    def _plan(self) -> None:
        try:
            plan = self.app.backend.plan_evacuation(self.uri, self.app.shown, self.app.host_name(self.uri))
        except HostError as exc:
            self.app.call_from_thread(self._say, Text(str(exc), style="bold red"))
            return
        self.app.call_from_thread(self._planned, plan)

    def _planned(self, plan: EvacuationPlan) -> None:
        self.plan = plan
        self.lines = [Text(self.app.named(line)) for line in plan.lines()]
        if plan.moves and not self.app.host_readonly(self.uri):
            self.lines.append(Text("ctrl+s migrates them one by one, stopping at the first that cannot go",
                                   style="green" if plan.complete else "yellow"))
        self._show_lines()

    def _say(self, line: Text) -> None:
        self.lines.append(line)
        self._show_lines()

    def _show_lines(self) -> None:
        self.query_one("#evacuate-body", Static).update(Group(*self.lines))

    def action_start(self) -> None:
        if self.plan is None or self.running or self.report is not None or not self.plan.moves:
            return
        if self.app.host_readonly(self.uri):
            self.notify("read-only: nothing is migrated", severity="warning")
            return
        problem = self.app.backend.state_problem()
        if problem:
            self.notify(problem, severity="error")
            return
        self.running = True
        self._say(Text("carrying it out:", style="bold"))
        self._run(self.plan)

    @work(thread=True, group="evacuate", exit_on_error=False, description="the evacuation")
    def _run(self, plan: EvacuationPlan) -> None:
        try:
            report = self.app.backend.evacuate(plan, self.app.shown,
                                               lambda r: self.app.call_from_thread(self._result, r))
        finally:
            self.app.call_from_thread(self._stopped)
        self.app.call_from_thread(self._done, report)

    def _result(self, result: GuestResult) -> None:
        moved = result.outcome.value == "moved"
        where = f" → {self.app.host_name(result.destination)}" if result.destination else ""
        self._say(Text(self.app.named(f"{result.guest}{where}: {result.outcome.value} — {result.message}"),
                       style="green" if moved else "red"))

    def _stopped(self) -> None:
        self.running = False

    def _done(self, report: EvacuationReport) -> None:
        self.report = report
        head = report.lines()[0]
        self._say(Text(self.app.named(head), style="bold green" if report.ok else "bold red"))
        self.notify(self.app.named(head), severity="information" if report.ok else "error", timeout=10)

    def action_scroll(self, pages: int) -> None:
        out = self.query_one("#evacuate-out", VerticalScroll)
        if pages > 0:
            out.scroll_page_down(animate=False)
        else:
            out.scroll_page_up(animate=False)

    def action_close(self) -> None:
        if self.running:
            self.notify("the evacuation is running: it stops only between guests; wait for its report",
                        severity="warning")
            return
        self.dismiss(None)
