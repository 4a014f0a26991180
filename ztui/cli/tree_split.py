"""`ztui tree --json` for a big host, with the work that is all Python split between two processes.

Reading 1000 guests is some hundred milliseconds of fetching, during which the daemon works, and then
several hundred of XML parsing, chain resolving and JSON encoding in one thread (the GIL), while a
second CPU idles. So once the guests' XML and the host's records are in, this process forks one child:
each takes half of the guests, in name order, through parsing, an inventory of their own, their chains
and the encoding, and the child hands its text back through a pipe. The output is byte for byte what the
one-process path prints (a test holds them equal). With one CPU, fewer guests, a child that fails, or
parsed names that would sort otherwise, everything is done here, the plain way.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ztui.host.resolve import resolve_host
from ztui.host.scan import HostRecords, inventory_for, read_host_records
from ztui.host.usage import held_keys
from ztui.libvirt.reader import FetchedGuest, fetch_guests, guest_from_fetched, guests_from_fetched, read_hostname
from ztui.model import Guest, Host, HostDevice
from ztui.report.tree_json import guests_json_compact, host_json_compact

log = logging.getLogger("ztui")

_HELD = b"\0"
"""Separates the child's JSON from the keys its guests hold (JSON text never holds a NUL byte)."""

SPLIT_FROM = 200
"""Guests from which a second process pays for itself (forking and the pipe cost a few milliseconds)."""


def can_split(guests: int) -> bool:
    """Enough guests, and a second CPU this process may run on."""
    if guests < SPLIT_FROM or not hasattr(os, "fork"):
        return False
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return len(cpus) >= 2


def host_json(conn: Any, uri: str, names: Sequence[str], udev: tuple[HostDevice, ...] | None) -> str:
    """One connected host as compact JSON (`ztui.report.tree_json.host_json_compact` of what `read_host` and
    the backing chains give). `udev` as for `ztui.host.scan.scan_host`."""
    import libvirt

    from ztui.host.hostfacts import facts_source_for

    host = Host(uri=uri, hostname=read_hostname(conn), connected=True, facts=facts_source_for(uri).label)
    # the host's records are read while the guests are fetched: both are mostly waiting for the daemon
    with ThreadPoolExecutor(1, thread_name_prefix="ztui-records") as beside:
        reading = beside.submit(read_host_records, conn, uri, udev=udev)
        fetched = fetch_guests(conn, names or None)
        try:
            records: HostRecords | None = reading.result()
        except libvirt.libvirtError as exc:  # as with one process: the chains are lost, never the tree
            log.warning("backing chains of %s not resolved: %s", uri, exc)
            records = None
    if not names:
        fetched.sort(key=lambda f: f.name)
    if records is not None and can_split(len(fetched)):
        middle = len(fetched) // 2
        text = _in_two_processes(records, fetched[:middle], fetched[middle:])
        if text is not None:
            return host_json_compact(host, text)
    return host_json_compact(host, _encode(records, guests_from_fetched(fetched, by_name=not names)))


def _encode(records: HostRecords | None, guests: Sequence[Guest]) -> str:
    """Guests with their chains (none without records), encoded."""
    return _resolve_encode(records, guests)[0]


def _resolve_encode(records: HostRecords | None, guests: Sequence[Guest]) -> tuple[str, set[str]]:
    """Guests with their chains, encoded, and the host devices their running devices hold exclusively."""
    if records is not None:
        guests = resolve_host(Host(uri=records.uri, guests=tuple(guests)), inventory_for(records, guests)).guests
    return guests_json_compact(guests), held_keys(guests)


def _encode_part(records: HostRecords, part: Sequence[FetchedGuest]) -> tuple[str, set[str]] | None:
    """One half and what it holds, or None when a parsed name differs from libvirt's (the halves were cut
    by those)."""
    guests = [guest_from_fetched(f) for f in part]
    if any(g.name != f.name for g, f in zip(guests, part, strict=True)):
        return None
    return _resolve_encode(records, guests)


def _child(records: HostRecords, part: Sequence[FetchedGuest], read_end: int, write_end: int) -> int:
    """The child's whole life: encode its half, write it, and tell how it went (it then ends without
    any clean-up, so nothing of the parent's runs twice)."""
    try:
        os.close(read_end)
        encoded = _encode_part(records, part)
        if encoded is None:
            return 1
        text, held = encoded
        with os.fdopen(write_end, "wb") as out:
            out.write(text.encode() + _HELD + "\n".join(sorted(held)).encode())
        return 0
    except BaseException:  # whatever happens here, the parent does this half itself
        return 1


def _in_two_processes(records: HostRecords, first: Sequence[FetchedGuest],
                      second: Sequence[FetchedGuest]) -> str | None:
    """Both halves encoded and joined, the second by a forked child; None when either half failed."""
    parent = os.getpid()
    read_end, write_end = os.pipe()
    # the child must never get to this process's own code: Ctrl-C stays blocked there (the parent, which
    # gets it, closes the pipe, and the child's write then fails and ends it)
    interrupts = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pid = os.fork()
    except OSError as exc:  # no memory or processes to spare: one process does it all
        log.debug("no second process: %s", exc)
        os.close(read_end)
        os.close(write_end)
        return None
    finally:
        if os.getpid() == parent:
            signal.pthread_sigmask(signal.SIG_SETMASK, interrupts)
    if pid == 0:
        os._exit(_child(records, second, read_end, write_end))
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        try:
            mine = _encode_part(records, first)
            theirs = pipe.read()
        finally:
            pipe.close()  # a child still writing gets EPIPE instead of waiting for a reader
            _, status = os.waitpid(pid, 0)
    if mine is None or os.waitstatus_to_exitcode(status) != 0:
        log.debug("the second process failed (status %s); one process does it all", status)
        return None
    text, _, held = theirs.partition(_HELD)
    if mine[1] & set(held.decode().split("\n")):
        # a host device held by guests of both halves: the sharing warnings need the whole host at once
        log.debug("a sharing conflict spans both halves; one process does it all")
        return None
    return ",".join(part for part in (mine[0], text.decode()) if part)
