"""Where can this guest go? Every other host ztui knows, judged by the migration preflight itself.

The preflight checks one destination the user already chose; this asks it of each host ztui knows
(`ztui.ops.safety.known_hosts`: the session's, the running lab's, the saved ones), all at once, each within the
answer time, and sorts the answers:

- **ready**: no blocker — a live migration with the default options would go (with `--unsafe` where the
  preflight proved the storage shared);
- **ready after steps**: every blocker is cleared by a step the preflight names (an option such as
  `--copy-storage`, an mdev to define there);
- **no**: a blocker that needs a host changed first (a volume that host does not see, a bridge it lacks, an
  incompatible CPU, too little memory, the guest running there already …), each saying what to change.

No second preflight: each host gets `ztui.ops.migrate.preflight.preflight`, with the source's inventory and
the other hosts' answer about copies of the guest read once for all of them. A shut-off guest is judged as
if it ran (where could it run?): the preflight's "not running" is left out, and the answer says that
`--offline` moves its definition. Among hosts equally ready, more free memory comes first.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import libvirt

from ztui.host.inventory import Inventory
from ztui.libvirt.connection import ConnectError, libvirt_reason, open_within
from ztui.libvirt.link import HostLink
from ztui.libvirt.pipeline import read_inventory
from ztui.libvirtxml.domain import parse_domain
from ztui.ops.migrate.findings import BLOCKER, Code, Finding
from ztui.ops.migrate.plan import MigrationOptions
from ztui.ops.migrate.preflight import Preflight, preflight
from ztui.ops.safety.known_hosts import KnownHost, host_named, known_hosts
from ztui.ops.safety.other_copies import look_elsewhere

__all__ = ["Placement", "Readiness", "where"]


class Readiness(StrEnum):
    """How ready a host is to take the guest (the order is the sort order)."""

    READY = "ready"
    AFTER_STEPS = "ready after steps"
    NO = "no"


_ORDER = {Readiness.READY: 0, Readiness.AFTER_STEPS: 1, Readiness.NO: 2}


@dataclass(frozen=True)
class Placement:
    """One host's answer: how ready, the blockers (`reasons`) and the steps that clear them, every finding."""

    host: str  # the host as people name it
    uri: str
    readiness: Readiness
    reasons: tuple[Finding, ...] = ()
    steps: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    free_memory: int | None = None  # bytes, as the host said (None: unknown)
    check: Preflight | None = field(default=None, compare=False)

    @property
    def summary(self) -> str:
        """One line: `zlab-y: ready`, `zlab-a: no — vda: DASD … is not visible on the destination …`."""
        if self.readiness is Readiness.READY:
            return f"{self.host}: ready"
        if self.readiness is Readiness.AFTER_STEPS:
            return f"{self.host}: ready after steps — " + "; ".join(self.steps)
        return f"{self.host}: no — " + "; ".join(f.text for f in self.reasons)

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "uri": self.uri, "readiness": self.readiness.value,
                "reasons": [f.to_json() for f in self.reasons], "steps": list(self.steps),
                "free_memory": self.free_memory,
                "rewrites": [r.to_json() for r in self.check.rewrites] if self.check is not None else [],
                "findings": [f.to_json() for f in self.findings]}


def placement_of(host: KnownHost, check: Preflight, running: bool) -> Placement:
    """A host's readiness from its preflight (see the module docstring)."""
    findings = tuple(f for f in check.findings if running or f.code is not Code.NOT_RUNNING)
    blockers = tuple(f for f in findings if f.severity is BLOCKER)
    free = check.free_memory
    if not blockers:
        readiness = Readiness.READY
    elif all(f.step for f in blockers):
        readiness = Readiness.AFTER_STEPS
    else:
        readiness = Readiness.NO
    steps = tuple(dict.fromkeys(f.step for f in blockers if f.step))
    if not running:
        steps = (*steps, "--offline moves its definition (it is shut off)") if readiness is not Readiness.NO else steps
    return Placement(host.label, host.uri, readiness, blockers, steps, findings, free, check)


def where(src: libvirt.virConnect, src_uri: str, dom: libvirt.virDomain, session: Sequence[str] = (), *,
          conns: Mapping[str, libvirt.virConnect] | None = None, src_inventory: Inventory | None = None,
          inventories: Mapping[str, Inventory] | None = None,
          only: Sequence[str] = ()) -> list[Placement]:
    """Every other known host's answer for the guest `dom` of `src_uri`, best first. `conns`: open connections
    to reuse (the TUI's sessions), `inventories` their inventories; `only`: just these hosts (by URI)."""

    hosts = known_hosts([src_uri, *session, *only])
    here = host_named(hosts, src_uri)
    others = [h for h in hosts if not here.reaches(h.uri)]
    if only:
        others = [h for h in others if any(h.reaches(u) for u in only)]
    guest = parse_domain(dom.XMLDesc(0), what=f"XML of guest {dom.name()}")
    running = bool(dom.isActive())
    src_inv = src_inventory if src_inventory is not None else read_inventory(HostLink(src_uri, src))
    conns = dict(conns or {})
    asked = look_elsewhere(guest, here, hosts, here_name=here.label, conns={**conns, src_uri: src})
    answers: dict[str, Placement] = {}

    def judge(host: KnownHost) -> None:
        answers[host.uri] = _judge(src, src_uri, dom, host, conns.get(host.uri), session, src_inv,
                                   (inventories or {}).get(host.uri), asked, running)

    threads = [threading.Thread(target=judge, args=(h,), name=f"where {h.uri}", daemon=True) for h in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    found = [answers[h.uri] for h in others if h.uri in answers]
    return sorted(found, key=lambda p: (_ORDER[p.readiness], -(p.free_memory or 0), p.host))


def _judge(src: libvirt.virConnect, src_uri: str, dom: libvirt.virDomain, host: KnownHost,
           conn: libvirt.virConnect | None, session: Sequence[str], src_inv: Inventory | None,
           inventory: Inventory | None, asked: Any, running: bool) -> Placement:
    """One host: its preflight with the default options (None when it could not be opened: a blocker)."""
    own = None
    error = ""
    if conn is None:
        try:
            conn = own = open_within(host.uri)  # read-only where the host is held so (no capabilities then)
        except ConnectError as exc:
            error = str(exc)
    try:
        check = preflight(src, dom, conn, MigrationOptions(), src_uri=src_uri, dest_uri=host.uri, dest_error=error,
                          session=session, src_inventory=src_inv, dest_inventory=inventory, asked=asked)
    except libvirt.libvirtError as exc:
        check = Preflight((Finding(BLOCKER, f"the preflight failed: {libvirt_reason(exc)}", Code.UNREACHABLE),), ())
    finally:
        if own is not None:
            with contextlib.suppress(libvirt.libvirtError):
                own.close()
    return placement_of(host, check, running)

