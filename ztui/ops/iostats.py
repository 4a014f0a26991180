"""Live I/O of one guest: counters read from libvirt (blockStats, interfaceStats) and rates between reads.

Only the selected guest is ever read, and only while it is selected (the details pane asks once a
second); a host with a thousand guests costs nothing more at idle. The counters are cumulative since the
guest started, so a rate needs two reads; a counter that went down (the guest restarted) starts over.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from enum import StrEnum

import libvirt

from ztui.model import DeviceKind, Guest, GuestDevice


class IoKind(StrEnum):
    BLOCK = "block"
    NET = "net"


_BLOCK_KINDS = (DeviceKind.DISK, DeviceKind.CDROM, DeviceKind.LUN, DeviceKind.FLOPPY)


@dataclass(frozen=True)
class IoSource:
    """One device whose counters can be read: its name in the tree and the path libvirt asks for."""

    kind: IoKind
    name: str  # vda, or the interface's MAC (its target in the tree)
    path: str  # blockStats: the target; interfaceStats: the host-side device (vnet0), else the MAC


def io_sources(guest: Guest, device: GuestDevice | None = None) -> tuple[IoSource, ...]:
    """What to read for a guest (all its disks and interfaces) or for one of its devices."""
    found = []
    for d in (device,) if device is not None else guest.devices:
        if d.kind in _BLOCK_KINDS and d.target:
            found.append(IoSource(IoKind.BLOCK, d.target, d.target))
        elif d.kind.value.startswith("net-") and not d.passthrough and (d.detail("host_dev") or d.target):
            found.append(IoSource(IoKind.NET, d.target, d.detail("host_dev") or d.target))
    return tuple(found)


@dataclass(frozen=True)
class IoCounters:
    """Cumulative counters of one device: block (read bytes, read ops, write bytes, write ops) or
    net (rx bytes, rx packets, tx bytes, tx packets)."""

    source: IoSource
    values: tuple[int, int, int, int]


@dataclass(frozen=True)
class IoSample:
    when: float  # time.monotonic() of the read
    counters: tuple[IoCounters, ...]
    errors: tuple[tuple[IoSource, str], ...] = ()  # devices libvirt had no counters for, and why


def read_sample(dom: libvirt.virDomain, sources: tuple[IoSource, ...], when: float) -> IoSample:
    """One read of every source (one RPC each). A device without counters (user-mode networking has no
    host-side interface) is an error entry, not a failure of the rest."""
    counters, errors = [], []
    for source in sources:
        try:
            if source.kind is IoKind.BLOCK:
                rd_req, rd_bytes, wr_req, wr_bytes, _errs = dom.blockStats(source.path)
                counters.append(IoCounters(source, (rd_bytes, rd_req, wr_bytes, wr_req)))
            else:
                stats = dom.interfaceStats(source.path)
                counters.append(IoCounters(source, (stats[0], stats[1], stats[4], stats[5])))
        except libvirt.libvirtError as exc:
            message = ""
            with contextlib.suppress(Exception):
                message = (exc.get_error_message() or "").splitlines()[0]
            errors.append((source, message or "no counters"))
    return IoSample(when, tuple(counters), tuple(errors))


@dataclass(frozen=True)
class IoRate:
    """Per-second rates of one device between two samples (bytes and operations or packets)."""

    source: IoSource
    in_bytes: float  # read (block) or received (net)
    in_ops: float
    out_bytes: float  # written or sent
    out_ops: float


def rates(previous: IoSample, current: IoSample) -> tuple[IoRate, ...]:
    """Rates of each device read both times; a counter that went backwards (restart) counts from zero."""
    span = current.when - previous.when
    if span <= 0:
        return ()
    before = {c.source: c.values for c in previous.counters}
    out = []
    for c in current.counters:
        old = before.get(c.source)
        if old is None:
            continue
        deltas = [new - o if new >= o else new for new, o in zip(c.values, old, strict=True)]
        out.append(IoRate(c.source, *(d / span for d in deltas)))
    return tuple(out)


def human_rate(value: float) -> str:
    """Bytes per second in binary units, short (`1.5 MiB/s`)."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}/s" if unit == "B" else f"{value:.1f} {unit}/s"
        value /= 1024
    return f"{value:.1f} GiB/s"  # pragma: no cover - the loop returns
