"""One error base for every command: what went wrong, in one line, and the exit status it means.

Each layer raises the subclass that says what the caller may conclude (bad input: nothing was changed;
refused: nothing was changed, the host or ztui said no; unknown: something may have changed and must be
checked). `ztui.cli.main` turns any of them into its one line and its exit status, in one place, so a
command cannot give the same fact two different statuses.

Pure: no libvirt, no textual.
"""

from __future__ import annotations

from typing import ClassVar


class ZtuiError(Exception):
    """Base of every error ztui reports to a user; `str()` is the one line shown."""

    exit_status: ClassVar[int] = 1


class BadInput(ZtuiError):
    """The request itself is wrong (a value out of range, a name that does not exist): nothing was changed."""

    exit_status = 2


class Refused(ZtuiError):
    """The request was refused before anything changed (libvirt said no, the connection is read-only…)."""

    exit_status = 1


class StateUnwritable(Refused):
    """The state directory (journal, locks, audit log) cannot be written: actions are refused before any
    change, since an action whose intent is not on disk could not be recovered after a crash."""


class Busy(Refused):
    """Another ztui process holds the guest's action lock; the message names it."""


class Unknown(ZtuiError):
    """Something was asked and its outcome could not be proven (lost connection, timeout, crash):
    the message says what to check; files are kept and the journal entry stays open."""

    exit_status = 3


class Interrupted(ZtuiError):
    """A signal (SIGINT, SIGTERM, SIGHUP) stopped an action after its current step; the exit status is the
    shell's convention, 128 + the signal number."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = signum

    @property
    def status(self) -> int:
        return 128 + self.signum


def exit_status(exc: ZtuiError) -> int:
    """The exit status of a command ended by `exc` (the one mapping every command uses)."""
    if isinstance(exc, Interrupted):
        return exc.status
    return exc.exit_status
