"""The migrate dialog (`m` on a guest): destination → preflight report and plan → progress (abort, switch
to post-copy) → report.

The migration runs in an app worker, not in this screen: closing the dialog (escape) leaves it running and
its progress in the status line, so other guests stay browsable; `m` on the same guest reopens it.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual import getters, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Footer, Input, ProgressBar, Select, Static

from ztui.backend.interface import HostError
from ztui.backend.migrate import MigrationOptions, plan_steps
from ztui.backend.placement import Placement
from ztui.ui.jobs import MigrationJob
from ztui.ui.names import HostNames
from ztui.ui.screens.confirm import ConfirmScreen
from ztui.ui.shell import ZtuiShell
from ztui.ui.widgets.ordered_input import OrderedInput

__all__ = ["MigrateScreen", "ranked_options"]


def ranked_options(names: HostNames, placements: list[Placement], destinations: list[str]) -> list[tuple[str, str]]:
    """The destination list sorted by `where`: ready first, its readiness beside each name."""
    judged = {p.uri: p for p in placements}
    order = [p.uri for p in placements if p.uri in destinations] + [d for d in destinations if d not in judged]
    return [(f"{names.host_name(d)} — {judged[d].readiness.value}" if d in judged else names.host_name(d), d)
            for d in order]


class MigrateScreen(ModalScreen[None]):
    """Destination, options, preflight and plan, progress, report. The ctrl keys are priority bindings:
    a text field (bandwidth, URI) must not swallow `ctrl+a` (start of line) while a migration runs."""

    app = getters.app(ZtuiShell)

    BINDINGS = [
        Binding("ctrl+s", "start", "Check / migrate", id="start", priority=True),
        Binding("ctrl+a", "abort", "Abort", id="abort", priority=True),
        Binding("ctrl+t", "postcopy", "Post-copy", id="postcopy", priority=True),
        Binding("pagedown", "scroll_plan(1)", "Scroll", id="scroll_down", priority=True),
        Binding("pageup", "scroll_plan(-1)", "Scroll up", show=False, id="scroll_up", priority=True),
        Binding("u", "undefine_leftover", "Undefine on source", id="undefine_leftover"),
        Binding("escape", "close", "Close", id="close"),
    ]

    def __init__(self, job: MigrationJob, destinations: list[str]) -> None:
        super().__init__()
        self.job = job
        self.destinations = destinations

    def compose(self) -> ComposeResult:
        with Vertical(id="migrate-box") as box:
            box.border_title = f"migrate {self.job.guest} from {self.app.host_name(self.job.uri)}"
            # host names to choose from (the URIs are long); the URI of the choice is shown below it
            options = [(self.app.host_name(d), d) for d in self.destinations]
            yield Select(options, prompt="destination host", value=options[0][1] if options else Select.NULL,
                         id="migrate-dest", compact=True)
            yield OrderedInput(placeholder="…or a destination URI", id="migrate-uri", compact=True)
            # off: the shared-storage check runs, as on the command line; ticking it is a decision
            yield Checkbox("--unsafe: skip the shared-storage check", value=False, id="migrate-unsafe")
            yield Checkbox("--copy-storage: copy local disks to the destination", value=False,
                           id="migrate-copy")
            with Horizontal(id="migrate-flags"):
                yield Checkbox("--persistent", value=False, id="migrate-persistent")
                yield Checkbox("--auto-converge", value=False, id="migrate-converge")
                yield Checkbox("--postcopy allowed", value=False, id="migrate-postcopy")
            yield Checkbox("--offline: a shut-off guest's definition moves, nothing starts", value=False,
                           id="migrate-offline")
            yield OrderedInput(placeholder="bandwidth MiB/s (optional)", id="migrate-bw")
            yield ProgressBar(total=100, show_eta=False, id="migrate-bar")
            with VerticalScroll(id="migrate-out"):
                yield Static(Text("ctrl+s runs the preflight; a second ctrl+s migrates.", style="dim"),
                             id="migrate-body")
        yield Footer()

    def on_mount(self) -> None:
        self.app.migrations.view = self
        self.refresh_job()
        if self.destinations:
            self._rank()

    @work(thread=True, group="where", exit_on_error=False, description="ranking the destinations")
    def _rank(self) -> None:
        """The destinations sorted by `ztui where` (ready first), each with its readiness beside its name."""
        try:
            found = self.app.backend.where(self.job.uri, self.job.guest, self.app.shown, self.destinations)
        except HostError:
            return  # the list stays as it was; the preflight says what is wrong with the one chosen
        self.app.call_from_thread(self._ranked, found)

    def _ranked(self, found: list[Placement]) -> None:
        select = self.query_one("#migrate-dest", Select)
        chosen = select.value
        untouched = self.job.preflight is None and not self.job.running and chosen == self.destinations[0]
        options = ranked_options(self.app.names, found, self.destinations)
        with self.prevent(Select.Changed):
            select.set_options(options)
            select.value = options[0][1] if untouched or chosen is Select.NULL else chosen
        self.job.dest_uri = self._dest()

    def _options(self) -> MigrationOptions:
        bw = self.query_one("#migrate-bw", Input).value.strip()
        return MigrationOptions(unsafe=self.query_one("#migrate-unsafe", Checkbox).value,
                                copy_storage=self.query_one("#migrate-copy", Checkbox).value,
                                persistent=self.query_one("#migrate-persistent", Checkbox).value,
                                auto_converge=self.query_one("#migrate-converge", Checkbox).value,
                                postcopy=self.query_one("#migrate-postcopy", Checkbox).value,
                                bandwidth_mib=int(bw) if bw.isdigit() else 0,
                                offline=self.query_one("#migrate-offline", Checkbox).value)

    def _dest(self) -> str:
        typed = self.query_one("#migrate-uri", Input).value.strip()
        chosen = self.query_one("#migrate-dest", Select).value
        return typed or (str(chosen) if chosen is not Select.NULL else "")

    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        if not self.job.running and self.job.report is None and self.is_mounted:
            self.job.preflight = None  # a changed choice needs a new check
            self.job.dest_uri, self.job.options = self._dest(), self._options()
            self.refresh_job()

    def action_start(self) -> None:
        job = self.job
        if job.running or job.checking:
            return
        if job.report is not None or job.error:
            job.report, job.preflight, job.error = None, None, ""
        dest, options = self._dest(), self._options()
        if (dest, options) != (job.dest_uri, job.options):
            job.preflight = None
        job.dest_uri, job.options = dest, options
        if not job.dest_uri:
            self.notify("choose a destination", severity="warning")
            return
        if job.preflight is None or not job.preflight.ok:
            self.query_one("#migrate-body", Static).update(Text("checking…", style="dim"))
            self.app.migrations.start_preflight(job)
        else:
            self.app.migrations.start_migration(job)

    def action_scroll_plan(self, pages: int) -> None:
        out = self.query_one("#migrate-out", VerticalScroll)
        if pages > 0:
            out.scroll_page_down(animate=False)
        else:
            out.scroll_page_up(animate=False)

    def action_abort(self) -> None:
        if self.job.running:
            self.job.abort.set()
            self.notify("aborting: the guest stays where it runs and gets its devices back")
        else:
            self.notify("no migration is running", severity="warning")

    def action_postcopy(self) -> None:
        if not self.job.running:
            return
        if not self.job.options.postcopy:
            self.notify("post-copy was not allowed when this migration started", severity="warning")
            return
        self.job.abort.switch_to_postcopy()  # the job's polling thread asks libvirt
        self.notify("switching to post-copy: the guest now runs on the destination")

    def action_close(self) -> None:
        self.dismiss(None)

    def on_unmount(self) -> None:
        if self.app.migrations.view is self:
            self.app.migrations.view = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`u` only once a report says the source kept the guest's definition."""
        if action == "undefine_leftover":
            return self.job.report is not None and bool(self.job.report.leftover) and not self.job.running
        return True

    def action_undefine_leftover(self) -> None:
        """Offer what the report advises: the source's definition removed (the destination defining the guest
        first when its copy is transient), after a confirmation that names both hosts."""
        report = self.job.report
        if report is None or not report.leftover or self.app.readonly:
            return
        src, dest = self.app.host_name(report.source), self.app.host_name(report.destination)
        question = (f"Undefine {report.guest} on {src}? It runs on {dest}; the definition {src} kept would "
                    f"start a second copy there." + ("" if len(report.leftover) == 1 else
                                                     f" {dest} gets that definition first (its copy is transient)."))

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.migrations.undefine_leftover(report)

        self.app.push_screen(ConfirmScreen(question, "\n".join(report.leftover), host=src), answered)

    def refresh_job(self) -> None:
        job = self.job
        parts: list[RenderableType] = []
        if job.error:
            parts.append(Text(job.error, style="bold red"))
        if job.preflight is not None:
            for f in job.preflight.findings:
                style = "red" if f.severity == "blocker" else ""
                parts.append(Text(f"{'⛔' if f.severity == 'blocker' else '•'} {f.text}", style=style))
            if job.preflight.ok and not job.running and job.report is None:
                parts.append(Text("plan:", style="bold"))
                options = job.preflight.options or job.options
                for n, step in enumerate(plan_steps(job.guest, job.uri, job.dest_uri, options, job.preflight.to_move,
                                                    job.preflight.rewrites), 1):
                    parts.append(Text(f" {n}. {step.text}"))
                    parts.append(Text(f"    {step.virsh}", style="dim"))
                parts.append(Text("preflight passed — ctrl+s migrates (pgdn/pgup scroll)", style="green"))
        bar = self.query_one("#migrate-bar", ProgressBar)
        if job.progress is not None:
            value, text = job.progress.line(job.report.downtime_ms if job.report is not None else None)
            bar.update(total=100, progress=value)
            parts.append(Text(text))
        if job.running:
            parts.append(Text("migrating… ctrl+a aborts, ctrl+t switches to post-copy (if allowed), escape keeps "
                              "it running in the background", style="dim"))
        if job.report is not None:
            status = self.app.migrations.report_status(job)
            parts.append(Text(status, style="bold green" if job.report.ok else "bold red"))
            for line in job.report.lines():
                # host names for the hosts ztui shows; a by-hand command keeps its URI (it is pasted into a shell)
                parts.append(Text(line, style="red") if "by hand" in line else Text(self.app.named(line)))
        if parts:
            self.query_one("#migrate-body", Static).update(Group(*parts))
        self.refresh_bindings()
