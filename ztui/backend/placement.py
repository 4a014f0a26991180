"""Where a guest can go and emptying a host, for the UI: every other host judged by the migration preflight
(`ztui.ops.migrate.where`), and the evacuation's plan and run (`ztui.ops.migrate.evacuate`), on the sessions'
connections and inventories so that no host is asked twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ztui.backend.hosts import LiveHosts
from ztui.ops.migrate.evacuate import EvacuationPlan, EvacuationReport, GuestResult, plan_evacuation, run_evacuation
from ztui.ops.migrate.where import Placement, Readiness, where

__all__ = ["EvacuationPlan", "EvacuationReport", "GuestResult", "Placement", "Readiness"]


def judge(hosts: LiveHosts, uri: str, guest: str, shown: Sequence[str], only: Sequence[str] = ()) -> list[Placement]:
    """Every other host's answer for a guest of a connected host (`only`: just these)."""
    src = hosts.connection(uri)
    return where(src, uri, src.lookupByName(guest), list(shown), conns=hosts.connections(),
                 src_inventory=hosts.inventory(uri), only=only)


def plan(hosts: LiveHosts, uri: str, shown: Sequence[str], host_name: str) -> EvacuationPlan:
    """A destination for every running guest of the host, or why it stays."""
    return plan_evacuation(hosts.connection(uri), uri, list(shown), conns=hosts.connections(),
                           src_inventory=hosts.inventory(uri), host_name=host_name)


def evacuate(hosts: LiveHosts, evacuation: EvacuationPlan, shown: Sequence[str],
             on_result: Callable[[GuestResult], None]) -> EvacuationReport:
    """The plan carried out guest by guest, each a guarded migration; `on_result` hears of each guest."""
    return run_evacuation(evacuation, hosts.connection(evacuation.uri), list(shown), conns=hosts.connections(),
                          on_result=on_result, via="tui")
