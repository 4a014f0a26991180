"""One error base for every command, and the few ways a command can end, named once.

Each layer raises the subclass that says what the caller may conclude (bad input: nothing was changed;
refused: nothing was changed, the host or ztui said no; interrupted: a signal stopped it after a step), and
every command ends in one of the `Status` kinds, or `Stopped` by a signal. `ztui.cli.main` gives each its exit
status and turns any error into its one line, in one place, so a command cannot give the same fact two
different statuses.

Pure: no libvirt, no textual.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar


class Status(IntEnum):
    """How a command ended, as far as the caller can conclude from it; the value is its exit status (the
    manual page's EXIT STATUS, `ztui.cli.manpage`)."""

    DONE = 0  # what was asked is done, and proven (for a read: everything was read)
    FAILED = 1  # refused or failed: nothing changed (libvirt refused, a host could not be reached…)
    BAD_INPUT = 2  # the request itself is wrong: nothing changed
    UNKNOWN = 3  # asked, but the outcome could not be proven: the message says what to check


@dataclass(frozen=True)
class Stopped:
    """A signal (SIGINT, SIGTERM, SIGHUP) stopped the command after its current step."""

    signum: int


End = Status | Stopped
"""What a command returns: how it ended."""


class ZtuiError(Exception):
    """Base of every error ztui reports to a user; `str()` is the one line shown."""

    exit_status: ClassVar[Status] = Status.FAILED

    @property
    def end(self) -> End:
        """How a command that this error stopped ended."""
        return self.exit_status


class BadInput(ZtuiError):
    """The request itself is wrong (a value out of range, a name that does not exist): nothing was changed."""

    exit_status = Status.BAD_INPUT


class Refused(ZtuiError):
    """The request was refused before anything changed (libvirt said no, the connection is read-only…)."""


class StateUnwritable(Refused):
    """The state directory (journal, locks, audit log) cannot be written: actions are refused before any
    change, since an action whose intent is not on disk could not be recovered after a crash."""


class Busy(Refused):
    """Another ztui process holds the guest's action lock; the message names it."""


class Unknown(ZtuiError):
    """Something was asked and its outcome could not be proven (lost connection, timeout, crash):
    the message says what to check; files are kept and the journal entry stays open."""

    exit_status = Status.UNKNOWN


class Interrupted(ZtuiError):
    """A signal (SIGINT, SIGTERM, SIGHUP) stopped an action after its current step."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = signum

    @property
    def end(self) -> End:
        return Stopped(self.signum)

    @property
    def status(self) -> int:
        """The exit status it means (`exit_status`)."""
        return exit_status(self.end)


def exit_status(end: End) -> int:
    """The exit status of a command that ended so: the one mapping every command uses (a signal that stopped
    it: the shell's convention, 128 + its number)."""
    return 128 + end.signum if isinstance(end, Stopped) else int(end)
