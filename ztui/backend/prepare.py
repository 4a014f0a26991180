"""Host devices made ready for pass-through, for the UI: the plan of a request (sysfs reads only), and its
run in the same frame as `ztui prepare` (lock, journal, proof, rollback, audit). Only this machine's own
host is prepared: its sysfs is written directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ztui.errors import ZtuiError
from ztui.libvirt.connection import ConnectError, open_connection
from ztui.libvirt.link import HostLink
from ztui.model import DeviceUse
from ztui.ops.prepare.guarded import run_recorded
from ztui.ops.prepare.read import local_host_view
from ztui.ops.prepare.request import PrepRequest, plan_for, preparable_here, request_for
from ztui.ops.prepare.steps import PrepKind, PrepPlan, PrepRefused

__all__ = ["PrepKind", "PrepPlan", "PrepRefused", "PrepRequest", "Prepared", "preparable_here", "request_for"]


@dataclass(frozen=True)
class Prepared:
    """A preparation's run: proven or not, and what it says step by step."""

    ok: bool
    text: str


def plan(request: PrepRequest, uses: Mapping[str, Sequence[DeviceUse]] | None) -> PrepPlan:
    """The plan, every step as the command an administrator would type; raises `PrepRefused`. `uses`: which
    guests use which host device (None: not known, so nothing in use is taken)."""
    return plan_for(local_host_view(uses), request)


def run(uri: str, prepared: PrepPlan, *, undo: bool) -> Prepared:
    """The plan carried out, each step proven, a failed step undoing the ones before it."""
    try:
        conn = open_connection(uri)
    except ConnectError as exc:
        return Prepared(False, f"{exc}; nothing was changed")
    try:
        result, _op = run_recorded(HostLink(uri, conn), prepared, undo=undo)
    except ZtuiError as exc:
        return Prepared(False, f"{exc}")
    finally:
        conn.close()
    return Prepared(result.ok, result.text())
