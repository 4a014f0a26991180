"""Migration jobs as the UI sees them, and the messages that carry their news from worker threads.

A worker thread never writes to a job: it posts immutable messages (`PreflightDone`, `MigrationProgress`,
`MigrationEnded`, `LeftoverRemoved`) and the app applies them to the job on its own loop
(`ztui.ui.migrations`). The job is therefore UI-thread state, read by the dialog and the status line. The
one thing the UI hands *to* a running worker is the `MigrationControl` (a thread-safe event: abort, switch
to post-copy).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # the migration code is imported when a migration is first asked for, not at start-up
    from ztui.backend.migrate import MigrationControl, MigrationOptions, MigrationReport, MigrationStep, Preflight

JobKey = tuple[str, str]  # (source URI, guest name)


def _options() -> MigrationOptions:
    from ztui.backend.migrate import MigrationOptions  # noqa: PLC0415 - migration code on first use (~90 ms of start-up)

    return MigrationOptions()


def _control() -> MigrationControl:
    from ztui.backend.migrate import MigrationControl  # noqa: PLC0415 - migration code on first use (~90 ms of start-up)

    return MigrationControl()


@dataclass
class MigrationJob:
    """One guest's migration as shown on screen; changed only on the app's thread."""

    uri: str
    guest: str
    dest_uri: str = ""
    preflight: Preflight | None = None
    options: MigrationOptions = field(default_factory=_options)
    progress: MigrationStep | None = None
    report: MigrationReport | None = None
    abort: MigrationControl = field(default_factory=_control)  # an Event: set() aborts
    running: bool = False
    checking: bool = False
    started: float = 0.0  # time.monotonic() when the migration began
    error: str = ""  # the worker failed without a report (the host went away, the state dir is read-only)

    @property
    def key(self) -> JobKey:
        return (self.uri, self.guest)

    def begin(self) -> None:
        self.running, self.progress, self.report, self.error = True, None, None, ""
        self.started = time.monotonic()
        self.abort.clear()


@dataclass(frozen=True)
class PreflightResult:
    """The preflight of `key` for this destination and these options (a newer choice makes it stale)."""

    key: JobKey
    dest_uri: str
    options: MigrationOptions
    preflight: Preflight


class PreflightDone(Message):
    def __init__(self, result: PreflightResult) -> None:
        super().__init__()
        self.result = result


class MigrationProgress(Message):
    """One progress step."""

    def __init__(self, key: JobKey, step: MigrationStep) -> None:
        super().__init__()
        self.key = key
        self.step = step


class MigrationEnded(Message):
    """The migration ended with a report; `audit_error` says why the audit log was not written."""

    def __init__(self, key: JobKey, report: MigrationReport, audit_error: str = "") -> None:
        super().__init__()
        self.key = key
        self.report = report
        self.audit_error = audit_error


class LeftoverRemoved(Message):
    """The source's definition after a migration was removed (`ok`), or why not."""

    def __init__(self, report: MigrationReport, ok: bool, message: str) -> None:
        super().__init__()
        self.report = report
        self.ok = ok
        self.message = message
