"""Emptying a host for maintenance: every running guest moved to a host that can take it, one at a time.

The plan asks `ztui.ops.migrate.where` for each running guest (the preflight of every other host ztui knows, or of
the hosts named with `--to`) and picks among the hosts that are ready the one with the most memory still
free, counting what the plan puts there already — so the guests spread by free memory. A guest no host is
ready for stays, with the reasons each host gave. The guests that can go come first in the plan, in the
order of their names, then those that cannot.

Carrying it out is one guarded migration per guest (`ztui.ops.migrate.guarded`: lock, a fresh preflight,
journal, the migration's own rollback, audit), and it stops at the first guest that cannot go — one the plan
found no host for, one whose fresh preflight refuses, one whose migration did not end with the guest on its
destination and every device back —, so nothing is left half done behind it. The report says, per guest,
where it runs now (moved), or why it stayed (and which were not tried after the stop).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import libvirt

from ztui.errors import End, Status, Stopped, ZtuiError
from ztui.host.inventory import Inventory
from ztui.libvirt.connection import ConnectError, libvirt_reason, open_within
from ztui.libvirt.link import HostLink
from ztui.libvirt.pipeline import read_inventory
from ztui.ops.migrate.guarded import Guarded, migrate_guarded
from ztui.ops.migrate.plan import MigrationOptions, name_of
from ztui.ops.migrate.report import MigrationReport
from ztui.ops.migrate.where import Placement, Readiness, where
from ztui.ops.safety.known_hosts import host_named, known_hosts
from ztui.report.tree_text import format_memory

__all__ = ["EvacuationPlan", "GuestMove", "Outcome", "plan_evacuation", "run_evacuation"]


@dataclass(frozen=True)
class GuestMove:
    """One running guest in the plan: where it goes (None: nowhere) and what every host said."""

    guest: str
    memory_kib: int
    destination: Placement | None
    placements: tuple[Placement, ...] = ()

    @property
    def can_go(self) -> bool:
        return self.destination is not None

    @property
    def blockers(self) -> tuple[str, ...]:
        """Why it cannot go: each host's answer (empty when it can)."""
        if self.can_go:
            return ()
        return tuple(p.summary for p in self.placements) or ("no other host is known",)

    @property
    def moved_devices(self) -> tuple[str, ...]:
        """The devices detached before and attached on the destination after."""
        check = self.destination.check if self.destination is not None else None
        return tuple(name_of(d) for d in check.to_move) if check is not None else ()

    def to_json(self) -> dict[str, Any]:
        dest = self.destination
        return {"guest": self.guest, "memory_kib": self.memory_kib, "can_go": self.can_go,
                "destination": dest.host if dest is not None else None,
                "destination_uri": dest.uri if dest is not None else None,
                "detach_reattach": list(self.moved_devices),
                "rewrites": [r.to_json() for r in dest.check.rewrites] if dest is not None and dest.check else [],
                "blockers": list(self.blockers), "hosts": [p.to_json() for p in self.placements]}

    def lines(self) -> list[str]:
        if self.destination is None:
            return [f"  {self.guest}: stays — no host is ready", *(f"      {b}" for b in self.blockers)]
        out = [f"  {self.guest} ({format_memory(self.memory_kib)}) → {self.destination.host}"]
        if self.moved_devices:
            out.append("      detached before, attached there after: " + ", ".join(self.moved_devices))
        check = self.destination.check
        out.extend(f"      {r.text}" for r in (check.rewrites if check is not None else ()))
        return out


@dataclass(frozen=True)
class EvacuationPlan:
    """Every running guest of a host, each with its destination or why it has none."""

    host: str  # the host as people name it
    uri: str
    moves: tuple[GuestMove, ...]

    @property
    def complete(self) -> bool:
        """Every running guest has a destination."""
        return all(m.can_go for m in self.moves)

    def to_json(self) -> dict[str, Any]:
        return {"type": "plan", "host": self.host, "uri": self.uri, "complete": self.complete,
                "guests": [m.to_json() for m in self.moves]}

    def lines(self) -> list[str]:
        head = f"evacuate {self.host}: {len(self.moves)} running guest{'s' if len(self.moves) != 1 else ''}"
        if not self.moves:
            return [head + " — nothing to move"]
        return [head, *(line for m in self.moves for line in m.lines())]


def plan_evacuation(src: libvirt.virConnect, src_uri: str, session: Sequence[str] = (), *, to: Sequence[str] = (),
                    conns: Mapping[str, libvirt.virConnect] | None = None, src_inventory: Inventory | None = None,
                    host_name: str = "") -> EvacuationPlan:
    """The plan for every guest running on `src_uri` (see the module docstring); `to`: only these hosts."""

    domains = sorted((d for d in src.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)), key=lambda d: d.name())
    inventory = src_inventory if src_inventory is not None else read_inventory(HostLink(src_uri, src))
    answers: list[tuple[str, int, list[Placement]]] = []
    for dom in domains:
        try:
            memory = int(dom.info()[1])
            found = where(src, src_uri, dom, session, conns=conns, src_inventory=inventory, only=to)
        except libvirt.libvirtError:
            continue  # gone meanwhile: nothing to move
        answers.append((dom.name(), memory, found))
    moves = _choose(answers)
    name = host_name or host_named(known_hosts([src_uri, *session]), src_uri).label
    return EvacuationPlan(name, src_uri, tuple(sorted(moves, key=lambda m: (not m.can_go, m.guest))))


def _choose(answers: Sequence[tuple[str, int, list[Placement]]]) -> list[GuestMove]:
    """Each guest to the ready host with the most memory left once the guests before it are placed (the
    biggest guests are placed first: they have the fewest choices)."""
    left: dict[str, int | None] = {}
    chosen: dict[str, Placement | None] = {}
    for guest, memory, found in sorted(answers, key=lambda a: -a[1]):
        ready = [p for p in found if p.readiness is Readiness.READY]
        for p in ready:
            left.setdefault(p.uri, p.free_memory)
        fits = [p for p in ready if (free := left[p.uri]) is None or free >= memory * 1024]
        best = max(fits, key=lambda p: _known(left[p.uri]), default=None)
        if best is not None and left[best.uri] is not None:
            left[best.uri] = (left[best.uri] or 0) - memory * 1024
        chosen[guest] = best
    return [GuestMove(guest, memory, chosen[guest], tuple(found)) for guest, memory, found in answers]


def _known(free: int | None) -> int:
    return -1 if free is None else free


class Outcome(StrEnum):
    """What became of one guest of the plan."""

    MOVED = "moved"  # it runs on its destination, every device back
    STAYED = "stayed"  # it was not moved: no host ready, or its preflight refused (nothing changed)
    FAILED = "failed"  # its migration ran and did not end as planned (the report says where it runs)
    NOT_TRIED = "not tried"  # after the stop


@dataclass
class GuestResult:
    guest: str
    outcome: Outcome
    message: str
    destination: str = ""
    report: MigrationReport | None = None

    def to_json(self) -> dict[str, Any]:
        return {"guest": self.guest, "outcome": self.outcome.value, "message": self.message,
                "destination": self.destination or None,
                "report": self.report.to_json() if self.report is not None else None}


@dataclass
class EvacuationReport:
    plan: EvacuationPlan
    results: list[GuestResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.outcome is Outcome.MOVED for r in self.results)

    @property
    def certain(self) -> bool:
        """Where every guest runs is known (no migration ended unknown)."""
        return all(r.report is None or r.report.certain for r in self.results)

    def end(self, signum: int | None = None) -> End:
        """How the command that ran the evacuation ended: stopped by the signal that stopped it; unknown when
        where a guest runs could not be proven; done when every running guest moved, else failed (the
        report says which stayed and why)."""
        if signum:
            return Stopped(signum)
        if not self.certain:
            return Status.UNKNOWN
        return Status.DONE if self.ok else Status.FAILED

    def to_json(self) -> dict[str, Any]:
        return {"type": "evacuation", "host": self.plan.host, "uri": self.plan.uri, "ok": self.ok,
                "moved": [r.guest for r in self.results if r.outcome is Outcome.MOVED],
                "stayed": [r.guest for r in self.results if r.outcome is not Outcome.MOVED],
                "guests": [r.to_json() for r in self.results]}

    def lines(self) -> list[str]:
        moved = [r for r in self.results if r.outcome is Outcome.MOVED]
        rest = [r for r in self.results if r.outcome is not Outcome.MOVED]
        head = f"{self.plan.host}: {len(moved)} of {len(self.results)} running guests moved"
        return [head, *(f"  {r.guest} → {r.destination}: moved" for r in moved),
                *(f"  {r.guest}: {r.outcome.value} — {r.message}" for r in rest)]


def run_evacuation(plan: EvacuationPlan, src: libvirt.virConnect, session: Sequence[str] = (), *,
                   conns: Mapping[str, libvirt.virConnect] | None = None,
                   on_guest: Callable[[str, Guarded], None] = lambda _g, _d: None,
                   on_result: Callable[[GuestResult], None] = lambda _r: None,
                   stop: Callable[[], bool] = lambda: False, via: str = "cli",
                   **migration: Any) -> EvacuationReport:
    """Carry the plan out, guest by guest, each a guarded migration (`migration`: its callbacks and signal
    guard), stopping at the first guest that cannot go (see the module docstring) or when `stop()` says so."""
    report = EvacuationReport(plan)
    stopped = ""
    for move in plan.moves:
        if stopped:
            result = GuestResult(move.guest, Outcome.NOT_TRIED, f"not tried: the evacuation stopped at {stopped}")
        elif stop():
            stopped = "the user's request"
            result = GuestResult(move.guest, Outcome.NOT_TRIED, "not tried: stopped")
        elif move.destination is None:
            stopped = move.guest
            result = GuestResult(move.guest, Outcome.STAYED, "no host is ready: " + "; ".join(move.blockers))
        else:
            result = _move(move, move.destination, plan.uri, src, session, conns or {}, on_guest, via, migration)
            if result.outcome is not Outcome.MOVED:
                stopped = move.guest
        report.results.append(result)
        on_result(result)
    return report


def _move(move: GuestMove, dest: Placement, src_uri: str, src: libvirt.virConnect, session: Sequence[str],
          conns: Mapping[str, libvirt.virConnect], on_guest: Callable[[str, Guarded], None], via: str,
          migration: Mapping[str, Any]) -> GuestResult:
    """One guest: its guarded migration to its planned destination."""
    conn = conns.get(dest.uri)
    own = None
    error = ""
    if conn is None:
        try:
            conn = own = open_within(dest.uri)
        except ConnectError as exc:
            error = str(exc)
    try:
        dom = src.lookupByName(move.guest)
        done = migrate_guarded(src, src_uri, dom, conn, dest.uri, MigrationOptions(), dest_error=error,
                               session=session, shown=lambda g: on_guest(move.guest, g), via=via, **migration)
    except libvirt.libvirtError as exc:
        return GuestResult(move.guest, Outcome.STAYED, f"{move.guest}: {libvirt_reason(exc)}", dest.host)
    except ZtuiError as exc:  # busy with another ztui, or no journal: nothing was changed
        return GuestResult(move.guest, Outcome.STAYED, str(exc), dest.host)
    finally:
        if own is not None:
            with contextlib.suppress(libvirt.libvirtError):
                own.close()
    if done.report is None:
        return GuestResult(move.guest, Outcome.STAYED,
                           "its preflight refused: " + "; ".join(f.text for f in done.check.blockers), dest.host)
    if done.report.ok:
        return GuestResult(move.guest, Outcome.MOVED, done.report.message, dest.host, done.report)
    return GuestResult(move.guest, Outcome.FAILED, done.report.message, dest.host, done.report)
