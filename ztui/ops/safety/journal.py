"""The operation journal: what an action is about to do, on disk before it does it, step by step.

The audit log records outcomes; it cannot say what was under way when ztui, its connection or the host's
daemon died. So every attach, detach and migration first writes an entry — host URI, guest UUID and name,
the device XML, the plan — to `$XDG_STATE_HOME/ztui/journal/ID.json`, then rewrites it at every step it
reaches (atomically and fsync'd: `statefiles.write_json`), and removes it only when the outcome is proven
and recorded in the audit log. An entry that stays behind is an unfinished operation: `ztui journal` lists
it, the TUI shows it at start, and `ztui journal finish|rollback ID` resolves it (`ops/recover.py`).

If the first write fails the action is refused before any change (`StateUnwritable`). A later write that
fails does not stop an action half-way (stopping there would be worse); it is kept in `write_error` and
reported with the outcome.

    op = Operation.begin(JournalAction.ATTACH, uri, guest, uuid, device_xml=xml, plan={...})
    op.step("image-created", image="/var/lib/…")   # journal rewritten, then the fault hook (faults.py)
    ...
    op.close()                                    # proven and audited: the entry goes
    op.leave_open("unknown: the connection was lost after device-asked")
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ztui import faults
from ztui.errors import BadInput, StateUnwritable
from ztui.statefiles import open_dir, read_json, remove, state_dir, write_json

JOURNAL_DIR = "journal"
SUFFIX = ".json"


class JournalAction(StrEnum):
    """What an entry is about: its `recover` functions differ."""

    ATTACH = "attach"
    DETACH = "detach"
    MIGRATE = "migrate"
    PREPARE = "prepare"  # a host device made ready for pass-through (ops/prepare)
    UNPREPARE = "unprepare"


#: the entries about a host device rather than a guest (resolved by ztui.ops.prepare.recover)
PREPARATIONS = frozenset({JournalAction.PREPARE, JournalAction.UNPREPARE})


class EntryState(StrEnum):
    """Why an entry is still there."""

    RUNNING = "running"  # its process wrote it and has not finished (or died without a word)
    UNKNOWN = "unknown"  # its process ended and said the outcome could not be proven
    INTERRUPTED = "interrupted"  # its process was stopped by a signal and could not put things back


@dataclass(frozen=True)
class Entry:
    """One journal entry as it is on disk."""

    id: str
    action: JournalAction
    uri: str
    guest: str
    uuid: str
    pid: int
    command: str
    started: str
    state: EntryState
    step: str
    steps: tuple[tuple[str, str], ...]
    device_xml: str
    plan: dict[str, Any]
    facts: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "action": self.action.value, "uri": self.uri, "guest": self.guest,
                "uuid": self.uuid, "pid": self.pid, "command": self.command, "started": self.started,
                "state": self.state.value, "step": self.step, "steps": [list(s) for s in self.steps],
                "device_xml": self.device_xml, "plan": self.plan, "facts": self.facts, "note": self.note}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Entry:
        return cls(str(doc["id"]), JournalAction(doc["action"]), str(doc["uri"]), str(doc["guest"]),
                   str(doc["uuid"]), int(doc["pid"]), str(doc.get("command", "")), str(doc["started"]),
                   EntryState(doc.get("state", "running")), str(doc.get("step", "")),
                   tuple((str(a), str(b)) for a, b in doc.get("steps", [])), str(doc.get("device_xml", "")),
                   dict(doc.get("plan") or {}), dict(doc.get("facts") or {}), str(doc.get("note", "")))

    @property
    def process_alive(self) -> bool:
        """Whether the process that wrote it still runs (it may still be working on it: the guest's lock,
        `ops/guestlock.py`, says for sure)."""
        return os.path.exists(f"/proc/{self.pid}")

    def summary(self) -> str:
        """One line for a list: id, action, guest, host, step reached, state."""
        return (f"{self.id}  {self.action.value} {self.guest} on {self.uri}: step {self.step or '-'}, "
                f"{self.state.value}" + (f" ({self.note})" if self.note else ""))


def _new_id(action: JournalAction) -> str:
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{action.value}-{secrets.token_hex(3)}"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


class Operation:
    """The journal entry of an action under way (see the module)."""

    def __init__(self, entry: Entry) -> None:
        self.entry = entry
        self.write_error = ""
        self.closed = False

    @classmethod
    def begin(cls, action: JournalAction, uri: str, guest: str, uuid: str, *, device_xml: str = "",
              plan: dict[str, Any] | None = None) -> Operation:
        """Write the intent; `StateUnwritable` (nothing changed yet) when it cannot be written."""
        entry = Entry(_new_id(action), action, uri, guest, uuid, os.getpid(),
                      " ".join(sys.argv)[:300], _now(), EntryState.RUNNING, "intent", (("intent", _now()),),
                      device_xml, dict(plan or {}))
        op = cls(entry)
        op._write(strict=True)
        faults.reached(action.value, "intent")
        return op

    @property
    def id(self) -> str:
        return self.entry.id

    def _write(self, *, strict: bool = False) -> None:
        try:
            with open_dir(JOURNAL_DIR) as dfd:
                write_json(dfd, self.entry.id + SUFFIX, self.entry.to_json())
        except (OSError, StateUnwritable) as exc:
            reason = str(exc) if isinstance(exc, StateUnwritable) else (exc.strerror or str(exc))
            if strict:
                raise StateUnwritable(reason if isinstance(exc, StateUnwritable) else
                                      f"the journal in {state_dir() / JOURNAL_DIR} cannot be written: {reason}; "
                                      "nothing was changed") from None
            self.write_error = f"the journal entry {self.entry.id} could not be updated: {reason}"

    def _replace(self, **changes: Any) -> None:
        doc = self.entry.to_json()
        doc.update(changes)
        self.entry = Entry.from_json(doc)

    def step(self, name: str, **facts: Any) -> None:
        """The action reached `name` (with what it learnt there): rewrite the entry, then run the hooks."""
        self._replace(step=name, steps=[*self.entry.to_json()["steps"], [name, _now()]],
                      facts={**self.entry.facts, **facts})
        self._write()
        faults.reached(self.entry.action.value, name)

    def note(self, **facts: Any) -> None:
        """Record facts without a new step (e.g. what a plan resolved to)."""
        self._replace(facts={**self.entry.facts, **facts})
        self._write()

    def close(self) -> None:
        """The outcome is proven and in the audit log: the entry goes."""
        try:
            with open_dir(JOURNAL_DIR) as dfd:
                remove(dfd, self.entry.id + SUFFIX)
        except (OSError, StateUnwritable) as exc:
            self.write_error = f"the journal entry {self.entry.id} could not be removed: {exc}"
        self.closed = True
        faults.reached(self.entry.action.value, "closed")

    def leave_open(self, state: EntryState, note: str) -> None:
        """The outcome is not proven (or not put back): the entry stays for `ztui journal`."""
        self._replace(state=state.value, note=note)
        self._write()


def unfinished() -> list[Entry]:
    """Every entry still in the journal, oldest first; unreadable ones are skipped (and logged)."""
    entries: list[Entry] = []
    with open_dir(JOURNAL_DIR) as dfd:
        for name in sorted(os.listdir(dfd)):
            if not name.endswith(SUFFIX) or name.startswith("."):
                continue
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                entries.append(Entry.from_json(read_json(dfd, name)))
    return sorted(entries, key=lambda e: (e.started, e.id))


def load(entry_id: str) -> Entry:
    """One entry by its id; BadInput when there is none."""
    if not entry_id or "/" in entry_id or entry_id.startswith(".") or not entry_id.isprintable():
        raise BadInput(f"'{entry_id}' is not a journal id (see `ztui journal`)")
    with open_dir(JOURNAL_DIR) as dfd:
        try:
            return Entry.from_json(read_json(dfd, entry_id + SUFFIX))
        except FileNotFoundError:
            raise BadInput(f"there is no unfinished operation {entry_id} (see `ztui journal`)") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BadInput(f"the journal entry {entry_id} cannot be read: {exc}") from None


def resume(entry: Entry) -> Operation:
    """Take over an entry (to finish or roll it back): later steps are written to the same entry."""
    op = Operation(entry)
    op._replace(pid=os.getpid(), command=" ".join(sys.argv)[:300], state=EntryState.RUNNING.value)
    op._write(strict=True)
    return op
