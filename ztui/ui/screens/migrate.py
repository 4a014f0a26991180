"""The migrate dialog (`m` on a guest): destination → preflight report and plan → progress (abort, switch
to post-copy) → report.

The migration runs in an app worker, not in this screen: closing the dialog (escape) leaves it running and
its progress in the status line, so other guests stay browsable; `m` on the same guest reopens it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Footer, Input, ProgressBar, Select, Static

from ztui.ops.migration import (
    MigrationControl,
    MigrationOptions,
    MigrationReport,
    Preflight,
    percent,
    plan_steps,
    progress_text,
)

__all__ = ["MigrateScreen", "MigrationChanged", "MigrationJob", "progress_text"]


@dataclass
class MigrationJob:
    """One migration the app runs; the dialog and the status line both read it."""

    uri: str
    guest: str
    dest_uri: str = ""
    preflight: Preflight | None = None
    options: MigrationOptions = field(default_factory=MigrationOptions)
    progress: dict[str, Any] = field(default_factory=dict)
    report: MigrationReport | None = None
    abort: MigrationControl = field(default_factory=MigrationControl)  # an Event: set() aborts
    running: bool = False


class MigrationChanged(Message):
    """A job made progress or ended (posted from the worker thread)."""

    def __init__(self, job: MigrationJob) -> None:
        super().__init__()
        self.job = job


class MigrateScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("ctrl+s", "start", "Check / migrate", id="start"),
        Binding("ctrl+a", "abort", "Abort", id="abort"),
        Binding("ctrl+t", "postcopy", "Post-copy", id="postcopy"),
        Binding("escape", "close", "Close (keeps running)", id="close"),
    ]

    def __init__(self, job: MigrationJob, destinations: list[str]) -> None:
        super().__init__()
        self.job = job
        self.destinations = destinations

    def compose(self) -> ComposeResult:
        with Vertical(id="migrate-box") as box:
            box.border_title = f"migrate {self.job.guest}"
            options = [(d, d) for d in self.destinations]
            yield Select(options, prompt="destination host", value=options[0][1] if options else Select.NULL,
                         id="migrate-dest")
            yield Input(placeholder="…or a destination URI", id="migrate-uri")
            yield Checkbox("--unsafe: disks are on storage the destination shares", value=True, id="migrate-unsafe")
            with Horizontal(id="migrate-flags"):
                yield Checkbox("--persistent", value=False, id="migrate-persistent")
                yield Checkbox("--auto-converge", value=False, id="migrate-converge")
                yield Checkbox("--postcopy allowed", value=False, id="migrate-postcopy")
            yield Checkbox("--offline: a shut-off guest's definition moves, nothing starts", value=False,
                           id="migrate-offline")
            yield Input(placeholder="bandwidth MiB/s (optional)", id="migrate-bw")
            yield ProgressBar(total=100, show_eta=False, id="migrate-bar")
            with VerticalScroll(id="migrate-out"):
                yield Static(Text("ctrl+s runs the preflight; a second ctrl+s migrates.", style="dim"),
                             id="migrate-body")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_job()

    def _options(self) -> MigrationOptions:
        bw = self.query_one("#migrate-bw", Input).value.strip()
        return MigrationOptions(unsafe=self.query_one("#migrate-unsafe", Checkbox).value,
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
        if not self.job.running and self.job.report is None:
            self.job.preflight = None  # a changed choice needs a new check
            self.refresh_job()

    def action_start(self) -> None:
        job = self.job
        if job.running:
            return
        if job.report is not None:
            job.report = None
            job.preflight = None
        job.dest_uri, job.options = self._dest(), self._options()
        if not job.dest_uri:
            self.notify("choose a destination", severity="warning")
            return
        if job.preflight is None or not job.preflight.ok:
            self.query_one("#migrate-body", Static).update(Text("checking…", style="dim"))
            self.app.run_preflight(job)  # type: ignore[attr-defined]
        else:
            self.app.run_migration_job(job)  # type: ignore[attr-defined]

    def action_abort(self) -> None:
        if self.job.running:
            self.job.abort.set()
            self.notify("aborting: the guest stays where it runs and gets its devices back")

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

    def refresh_job(self) -> None:
        job = self.job
        parts: list[RenderableType] = []
        if job.preflight is not None:
            for f in job.preflight.findings:
                style = "red" if f.severity == "blocker" else ""
                parts.append(Text(f"{'⛔' if f.severity == 'blocker' else '•'} {f.text}", style=style))
            if job.preflight.ok and not job.running and job.report is None:
                parts.append(Text("plan:", style="bold"))
                for n, step in enumerate(plan_steps(job.guest, job.uri, job.dest_uri, job.options,
                                                    job.preflight.to_move), 1):
                    parts.append(Text(f" {n}. {step.text}"))
                    parts.append(Text(f"    {step.virsh}", style="dim"))
                parts.append(Text("preflight passed — ctrl+s migrates", style="green"))
        bar = self.query_one("#migrate-bar", ProgressBar)
        if job.progress:
            pct = percent(job.progress)
            bar.update(total=100, progress=100.0 if job.progress.get("completed") else (pct or 0.0))
            parts.append(Text(progress_text(job.progress)))
        if job.running:
            parts.append(Text("migrating… ctrl+a aborts, ctrl+t switches to post-copy (if allowed), escape keeps "
                              "it running in the background", style="dim"))
        if job.report is not None:
            parts.append(Text(job.report.message, style="bold green" if job.report.ok else "bold red"))
            for line in job.report.lines()[1:]:
                parts.append(Text(line, style="red" if "by hand" in line else ""))
        if parts:
            self.query_one("#migrate-body", Static).update(Group(*parts))

