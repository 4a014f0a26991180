"""Where the TUI imports these names from; they live in `ztui.ops.attach`."""

from __future__ import annotations

from ztui.ops.attach.candidates import PREPARE_PREFIX, Candidate, attach_candidates

__all__ = [
    "PREPARE_PREFIX",
    "Candidate",
    "attach_candidates",
]
