"""Private libvirt hosts with real QEMU s390x guests: ztui's demo, test and benchmark environment.

The API lives in `ztui.lab.hosts` and is re-exported here (`from ztui.lab import ensure_lab`); the
command line is `ztui.cli.lab`. The re-exports are resolved on first use, so importing a submodule that
needs no libvirt (the test-driver generator, the kernel image) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ztui.lab.errors import LabError
    from ztui.lab.hosts import LabHost, LabStatus, ensure_lab, lab_status, start_lab, stop_lab

__all__ = ["LabError", "LabHost", "LabStatus", "ensure_lab", "lab_status", "start_lab", "stop_lab"]

_HOME = {"LabError": "ztui.lab.errors"}


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module(_HOME.get(name, "ztui.lab.hosts")), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
