"""The audit log: every attempted change, as one JSON line in the XDG state directory.

Written before the result is known is not enough (a crash would hide the outcome), so each attempt is
one record written when it ends, carrying the request, the device XML and the result. A device that could
not be put back after a migration is recorded here with the exact command to restore it by hand.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


def state_dir() -> Path:
    """`$XDG_STATE_HOME/ztui`, else `~/.local/state/ztui`."""
    base = os.environ.get("XDG_STATE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".local" / "state") / "ztui"


def audit_path() -> Path:
    return state_dir() / "audit.jsonl"


def record(action: str, uri: str, guest: str, result: str, **fields: Any) -> dict[str, Any]:
    """Append one record (time, action, URI, guest, result and any further fields) and return it."""
    entry: dict[str, Any] = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "action": action, "uri": uri,
                             "guest": guest, "result": result, **fields}
    path = audit_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log:
        log.write(json.dumps(entry, sort_keys=False) + "\n")
    return entry
