"""The migration jobs of the app: one per guest, their preflight and migration workers, and the news those
post (`ztui.ui.jobs`) applied to each job on the app's thread.

The workers are the app's (`App.run_worker`), not the dialog's: closing the dialog leaves a migration
running and its progress in the status line, and the app's one handler for failed workers sees them
(`worker_failed` resets the job).
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Protocol

from textual.app import App
from textual.worker import Worker

from ztui.backend.interface import HostBackend
from ztui.ui.jobs import (
    JobKey,
    LeftoverRemoved,
    MigrationEnded,
    MigrationJob,
    MigrationProgress,
    PreflightDone,
    PreflightResult,
)
from ztui.ui.messages import Status
from ztui.ui.names import HostNames

if TYPE_CHECKING:
    from ztui.backend.migrate import MigrationControl, MigrationOptions, MigrationReport, MigrationStep, Preflight


class JobView(Protocol):
    """A screen that shows one job (the migrate dialog): told when it changed, while it is on top."""

    job: MigrationJob

    @property
    def is_current(self) -> bool: ...

    def refresh_job(self) -> None: ...


class Migrations:
    """Every guest's migration job, by (source URI, guest name)."""

    def __init__(self, app: App[int], backend: HostBackend, names: HostNames) -> None:
        self._app = app
        self._backend = backend
        self._names = names
        self.jobs: dict[JobKey, MigrationJob] = {}
        self.view: JobView | None = None
        """The dialog showing a job, while it is open."""
        self._workers: dict[Worker[None], JobKey] = {}

    def job(self, uri: str, guest: str) -> MigrationJob:
        """The guest's job: the one running or with news to show, else a new one."""
        key = (uri, guest)
        job = self.jobs.get(key)
        if job is None or (not job.running and (job.report is not None or job.error)):
            job = self.jobs[key] = MigrationJob(uri, guest)
        return job

    def start_preflight(self, job: MigrationJob) -> None:
        job.checking, job.preflight, job.error = True, None, ""
        worker = self._app.run_worker(partial(self._preflight, job.key, job.dest_uri, job.options), thread=True,
                                      group="migrate", exit_on_error=False, description="migration preflight")
        self._workers[worker] = job.key

    def start_migration(self, job: MigrationJob) -> None:
        if job.running or job.preflight is None or not job.preflight.ok:
            return
        job.begin()
        # the options the preflight settled (--unsafe where it proved the storage shared), its renames
        check = job.preflight
        worker = self._app.run_worker(partial(self._migrate, job.key, job.dest_uri, check.options or job.options, check,
                                              job.abort), thread=True,
                                      group="migrate", exit_on_error=False, description="migration")
        self._workers[worker] = job.key
        self.changed(job)

    def undefine_leftover(self, report: MigrationReport) -> None:
        """The definition a migration left on its source goes (`ops.leftover`), proven; the toast says so."""
        self._app.run_worker(partial(self._undefine, report), thread=True, group="migrate", exit_on_error=False,
                             description="undefining the source's definition")

    # --- in the workers ----------------------------------------------------------------------------------

    def _preflight(self, key: JobKey, dest_uri: str, options: MigrationOptions) -> None:
        check = self._backend.preflight(key[0], key[1], dest_uri, options, self._names.shown)
        self._app.post_message(PreflightDone(PreflightResult(key, dest_uri, options, check)))

    def _migrate(self, key: JobKey, dest_uri: str, options: MigrationOptions, check: Preflight,
                 control: MigrationControl) -> None:
        def progress(step: MigrationStep) -> None:
            self._app.post_message(MigrationProgress(key, step))

        done = self._backend.migrate(key[0], key[1], dest_uri, options, check.to_move, control, check.rewrites,
                                     progress)
        self._app.post_message(MigrationEnded(key, done.report, done.audit_error))

    def _undefine(self, report: MigrationReport) -> None:
        done = self._backend.undefine_leftover(report)
        self._app.post_message(LeftoverRemoved(report, done.ok, done.message))

    # --- their news, on the app's thread -------------------------------------------------------------------

    def preflight_done(self, message: PreflightDone) -> None:
        result = message.result
        job = self.jobs.get(result.key)
        if job is None or job.running:
            return
        job.checking = False
        if (job.dest_uri, job.options) == (result.dest_uri, result.options):  # else the choice changed since
            job.preflight = result.preflight
        self.changed(job)

    def progress(self, message: MigrationProgress) -> None:
        job = self.jobs.get(message.key)
        if job is not None and job.running:
            job.progress = message.step
            self.changed(job)

    def ended(self, message: MigrationEnded) -> None:
        job = self.jobs.get(message.key)
        if job is None:
            return
        job.running, job.report = False, message.report
        self.changed(job)
        report = message.report
        status = self.report_status(job)
        text = status if report.ok else f"{status}\n{self._names.named(report.message)}"
        self._app.notify(text, severity="information" if report.ok else "error", timeout=10)
        if message.audit_error:
            self._app.notify(message.audit_error, severity="error", timeout=10)
        self._app.post_message(Status(status))

    def leftover_removed(self, message: LeftoverRemoved) -> None:
        report = message.report
        self._app.notify(self._names.named(message.message), severity="information" if message.ok else "error",
                         timeout=10)
        job = self.jobs.get((report.source, report.guest))
        if message.ok and job is not None and job.report is report:
            job.report = replace(report, leftover=())
            self.changed(job)

    def worker_ended(self, worker: Worker[None]) -> JobKey | None:
        """Forget a worker that ended; the job it ran for, if any."""
        return self._workers.pop(worker, None)

    def worker_failed(self, key: JobKey, why: str) -> None:
        """A job's worker raised (the host went away, the state directory is read-only): the job is reset and
        says why."""
        job = self.jobs.get(key)
        if job is not None:
            job.running = job.checking = False
            job.error = why
            self.changed(job)

    def report_status(self, job: MigrationJob) -> str:
        """One line for the status bar once a migration ended."""
        report = job.report
        if report is None:
            return ""
        where = self._names.host_name(report.runs_on) if report.runs_on else "nowhere ztui can see"
        downtime = f", downtime {report.downtime_ms} ms" if report.downtime_ms is not None else ""
        verdict = "migrated" if report.ok else ("aborted" if report.aborted else "not migrated")
        return f"{job.guest} {verdict}: runs on {where} ({report.seconds:.1f} s{downtime})"

    def changed(self, job: MigrationJob) -> None:
        """The dialog shows the job anew when it is on top; else a running migration's progress is the status."""
        view = self.view
        if view is not None and view.job is job and view.is_current:
            view.refresh_job()
        elif job.running and job.progress is not None:
            self._app.post_message(Status(f"migrating {job.guest}: {job.progress.line()[1]}"))
