"""What a migration reports: progress figures while it runs, and the end report that loses nothing.

The end report always says where the guest runs and what became of every device that was detached: back
on the guest on the destination, back on the source after a rollback, or *lost* — then with its XML and
the exact `virsh attach-device` command, so an administrator can finish by hand.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ztui.errors import End, Status, Stopped
from ztui.ops.iostats import human_rate
from ztui.report.tree_text import format_memory

DEFINED_SHUT_OFF = "defined, shut off"
"""A host's copy that does not run but whose definition the host keeps (`virsh start` would start it)."""

PROGRESS_KEYS = {"time_elapsed": "elapsed_ms", "data_total": "data_total", "data_processed": "data_processed",
                 "data_remaining": "data_remaining", "memory_processed": "memory_processed",
                 "memory_remaining": "memory_remaining", "memory_total": "memory_total",
                 "memory_bps": "memory_bps", "memory_dirty_rate": "dirty_rate", "memory_iteration": "iteration",
                 "downtime": "downtime_ms", "setup_time": "setup_ms", "memory_page_size": "page_size"}
"""libvirt's jobStats() keys → ztui's progress keys (keys are only ever added)."""


def progress_of(stats: dict[str, Any], *, completed: bool = False, postcopy: bool = False) -> dict[str, Any]:
    """One progress object from `jobStats()`; `completed` marks the totals of the finished job."""
    step: dict[str, Any] = {"type": "progress"}
    step.update({ours: stats[theirs] for theirs, ours in PROGRESS_KEYS.items() if theirs in stats})
    step["completed"] = completed
    if postcopy:
        step["postcopy"] = True
    return step


def percent(step: dict[str, Any]) -> float | None:
    """How far the migration is, 0-100, or None before libvirt knows the total: the part no longer to be
    sent. (Not what was sent: zero pages count as done without being sent, so on an idle guest the data
    sent stays far below what is done.)"""
    total = step.get("data_total") or 0
    if not total:
        return None
    if "data_remaining" in step:
        return min(100.0, max(0.0, 100.0 * (total - (step.get("data_remaining") or 0)) / total))
    return min(100.0, 100.0 * (step.get("data_processed") or 0) / total)


def size_text(size: int) -> str:
    """An amount of data as people read it: `300 KiB`, `135 MiB`, `1.5 GiB` (bytes below 1 KiB)."""
    return format_memory(size >> 10) if size >= 1024 else f"{max(size, 0)} B"


def progress_text(step: dict[str, Any]) -> str:
    """The live figures in one line (CLI without --json, TUI progress screen and status line): how much is
    done of the total and how much is left (they add up), what was sent, the rate, the dirtying rate (in
    bytes when libvirt gives the page size), the pass over memory and the time."""
    total = step.get("data_total") or 0
    left = step.get("data_remaining") or 0
    pct = percent(step)
    head = f"{pct:5.1f}% " if pct is not None else ""
    dirty = step.get("dirty_rate", 0) or 0
    page = step.get("page_size") or 0
    dirtying = human_rate(dirty * page) if page else f"{dirty} pages/s"
    return (f"{head}{size_text(max(total - left, 0))} of {size_text(total)} done, {size_text(left)} left, "
            f"{size_text(step.get('data_processed') or 0)} sent, {human_rate(step.get('memory_bps') or 0)}, "
            f"dirty {dirtying}, pass {step.get('iteration', '?')}, {(step.get('elapsed_ms') or 0) / 1000:.1f} s"
            + (", post-copy" if step.get("postcopy") else ""))


def completed_text(step: dict[str, Any], downtime_ms: int | None = None) -> str:
    """The finished job in one line: the memory migrated (all of it), what was sent for it, how long it took
    and the guest's downtime."""
    elapsed = (step.get("elapsed_ms") or 0) / 1000
    downtime = step.get("downtime_ms", downtime_ms)
    text = (f"100.0% completed: {size_text(step.get('data_total') or 0)} migrated "
            f"({size_text(step.get('data_processed') or 0)} sent) in {elapsed:.1f} s")
    return text + (f", downtime {downtime} ms" if downtime is not None else "")


class Fate(StrEnum):
    """Where a detached device ended up."""

    DESTINATION = "destination"  # attached to the guest on the destination, proven
    SOURCE = "source"  # put back onto the guest on the source (rollback), proven
    LOST = "lost"  # could not be put back: manual action, see `virsh`
    STAYED = "stayed"  # never left: its detach was refused or not proven and it is still attached


@dataclass(frozen=True)
class DeviceFate:
    """What became of one device that the migration moved (or tried to)."""

    name: str
    xml: str
    state: Fate
    message: str = ""
    virsh: str = ""  # the command that puts it back by hand (only when lost)
    host: str = ""  # where it is attached now, or where it belongs (lost)
    kind: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "state": self.state, "host": self.host,
                "message": self.message, "virsh": self.virsh, "xml": self.xml}


@dataclass(frozen=True)
class StepResult:
    """One step as it happened (detach, migrate, attach, rollback), for the report and `--json`."""

    action: str
    host: str
    ok: bool
    message: str
    device: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"type": "step", "action": self.action, "host": self.host, "ok": self.ok, "device": self.device,
                "message": self.message, "seconds": round(self.seconds, 3)}


@dataclass(frozen=True)
class MigrationReport:
    """The end of a migration: where the guest runs and the fate of every moved device."""

    guest: str
    runs_on: str  # the URI where the guest runs now; "" when it runs nowhere ztui can see
    migrated: bool
    message: str
    seconds: float
    devices: tuple[DeviceFate, ...] = field(default=())
    source: str = ""
    destination: str = ""
    state: str = ""  # the guest's state where it is now (running, paused, …)
    aborted: bool = False
    migration_seconds: float = 0.0  # the migrateToURI3 call alone
    downtime_ms: int | None = None
    steps: tuple[StepResult, ...] = field(default=())
    offline: bool = False  # only the definition moved: `runs_on` is where it is defined, shut off
    certain: bool = True  # False: a host did not answer, or both held a copy — a person must check (exit 3)
    source_copy: str = ""  # what the source holds at the end: "absent", "paused (migrating)", "unreachable: …"
    destination_copy: str = ""
    verdict: str = ""  # the rule that decided where the guest runs (after a fault)
    interrupted: str = ""  # the signal that stopped the migration (SIGTERM, …), if one did
    leftover: tuple[str, ...] = ()  # the commands that remove the source's definition (`leftover_commands`)

    @property
    def ok(self) -> bool:
        """Success is the guest running on the destination with every device back, the source holding no
        copy of it, and both hosts having answered (offline: defined there, shut off)."""
        if self.offline:
            return self.migrated and self.runs_on == self.destination and self.state == "shut off"
        return (self.migrated and self.certain and not self.interrupted and self.runs_on == self.destination
                and self.state == "running" and all(d.state == Fate.DESTINATION for d in self.devices)
                and self.source_copy in ("", "absent", DEFINED_SHUT_OFF))

    def end(self, signum: int | None = None) -> End:
        """How the command that ran the migration ended: done; stopped by the signal that stopped it; unknown
        when where the guest runs could not be proven (a host did not answer, both held a copy); failed when
        the end state is known (the report says it)."""
        if self.ok:
            return Status.DONE
        if signum:
            return Stopped(signum)
        return Status.FAILED if self.certain else Status.UNKNOWN

    @property
    def lost(self) -> tuple[DeviceFate, ...]:
        return tuple(d for d in self.devices if d.state == Fate.LOST)

    def to_json(self) -> dict[str, Any]:
        return {"type": "report", "guest": self.guest, "source": self.source, "destination": self.destination,
                "runs_on": self.runs_on, "state": self.state, "migrated": self.migrated, "ok": self.ok,
                "aborted": self.aborted, "offline": self.offline, "message": self.message,
                "seconds": round(self.seconds, 3),
                "migration_seconds": round(self.migration_seconds, 3), "downtime_ms": self.downtime_ms,
                "certain": self.certain, "source_copy": self.source_copy,
                "destination_copy": self.destination_copy, "verdict": self.verdict,
                "interrupted": self.interrupted, "leftover": list(self.leftover),
                "devices": [d.to_json() for d in self.devices],
                "steps": [s.to_json() for s in self.steps]}

    def lines(self) -> list[str]:
        """The report as text: the outcome, then one line per device (with the by-hand command if lost)."""
        out = [self.message]
        if self.source_copy or self.destination_copy:
            out.append(f"  source {self.source}: {self.source_copy or '-'}; destination {self.destination}: "
                       f"{self.destination_copy or '-'}")
        for d in self.devices:
            line = f"  {d.name}: {d.state}" + (f" ({d.host})" if d.host else "")
            if d.state == Fate.LOST:
                line += f" — {d.message}; put it back by hand: {d.virsh}\n    with device.xml = {d.xml}"
            out.append(line)
        if self.leftover:
            out.append(f"  {self.source} keeps {self.guest}'s definition (shut off): started there, it would run a "
                       "second copy of the guest. To remove it:")
            out.extend(f"    {command}" for command in self.leftover)
        return out


def leftover_commands(guest: str, src_uri: str, dest_uri: str, dest_persistent: bool) -> tuple[str, ...]:
    """How to remove the definition a migration left on the source. When the destination's copy is transient
    the source's definition is the only one, so the guest is defined on the destination first (what
    `--persistent --undefine-source` would have done): otherwise it would vanish when it next shuts down. It
    is defined there as it runs there — its disks under that host's names (another LPAR numbers the same
    DASD otherwise) —, not as the source defines it."""
    xml = f"{guest}.xml"
    undefine = shlex.join(["virsh", "-c", src_uri, "undefine", guest])
    if dest_persistent:
        return (undefine,)
    return (shlex.join(["virsh", "-c", dest_uri, "dumpxml", "--inactive", guest]) + f" > {shlex.quote(xml)}",
            shlex.join(["virsh", "-c", dest_uri, "define", xml]), undefine)
