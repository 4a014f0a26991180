"""Whether ztui can keep the record of a change: a change whose record cannot be kept is refused before it
is made, as on the command line."""

from __future__ import annotations

from ztui.errors import ZtuiError
from ztui.statefiles import open_dir


def state_problem() -> str:
    """Why the state directory (audit log, journal) cannot be written, or ''."""
    try:
        with open_dir():
            pass
    except (OSError, ZtuiError) as exc:
        return str(exc)
    return ""
