"""The journal for the UI: the unfinished operations of the shown hosts at start, and finishing or rolling
back one of them (`ztui.ops.attach.recover`), proven like any attach or detach.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ztui.errors import ZtuiError
from ztui.ops.attach.recover import Resolution, resolve
from ztui.ops.safety.journal import Entry
from ztui.ops.safety.journal_scope import session_entries

__all__ = ["Entry", "Resolution", "Resolved", "Unfinished"]


@dataclass(frozen=True)
class Unfinished:
    """The unfinished entries of these hosts whose process is gone, what was said of the entries settled
    because their host or guest no longer exists, and why the journal could not be read ('' when it could:
    an unreadable state directory must never end the TUI)."""

    entries: tuple[Entry, ...] = ()
    settled: tuple[str, ...] = ()
    problem: str = ""


@dataclass(frozen=True)
class Resolved:
    """An entry finished or rolled back: the line to show, whether it was proven, whether its entry is closed."""

    message: str
    ok: bool
    closed: bool


def unfinished(uris: Sequence[str]) -> Unfinished:
    try:
        scope = session_entries(uris)
    except (ZtuiError, OSError) as exc:
        return Unfinished(problem=str(exc))
    return Unfinished(tuple(e for e in scope.entries if not e.process_alive), tuple(scope.settled))


def settle(entry_id: str, how: Resolution) -> Resolved:
    """Finish or roll back one entry, deciding from the guest as it is now, under its lock."""
    try:
        _entry, change, op = resolve(entry_id, how)
    except ZtuiError as exc:
        return Resolved(str(exc), False, False)
    return Resolved(f"{how.value} {entry_id}: {change.outcome.value}: {change.message}", change.ok, op.closed)
