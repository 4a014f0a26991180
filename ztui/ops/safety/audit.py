"""The audit log: every attempted change, as one JSON line in the XDG state directory.

Written before the result is known is not enough (a crash would hide the outcome), so each attempt is
one record written when it ends, carrying the request, the device XML and the result (the journal,
`ops/journal.py`, holds what is under way). The file is 0600 in a 0700 directory and never written through a
symlink (`ops/statefiles.py`); one that cannot be written is `StateUnwritable`. A device that could
not be put back after a migration is recorded here with the exact command to restore it by hand.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ztui.errors import StateUnwritable
from ztui.statefiles import append_line, state_dir


def audit_path() -> Path:
    return state_dir() / "audit.jsonl"


def record(action: str, uri: str, guest: str, result: str, **fields: Any) -> dict[str, Any]:
    """Append one record (time, action, URI, guest, result and any further fields) and return it."""
    entry: dict[str, Any] = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "action": action, "uri": uri,
                             "guest": guest, "result": result, **fields}
    append_line(audit_path().name, json.dumps(entry, sort_keys=False) + "\n")
    return entry


def record_outcome(write: Callable[[], object]) -> str:
    """Write the audit record of a change that has happened: '' or why it could not be written.

    Raising here would hide a proven outcome (and a detached device's XML) behind an error about the log,
    so the caller prints the outcome and this line beside it."""
    try:
        write()
    except StateUnwritable as exc:
        return f"the audit log could not be written: {exc}"
    return ""
