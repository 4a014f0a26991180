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

import json
import logging
import os
import signal
import struct
from collections.abc import Sequence
from dataclasses import replace

from ztui.host.resolve import resolve_guest
from ztui.host.scan import HostRecords, inventory_for
from ztui.host.usage import guest_uses, with_sharing_warnings
from ztui.libvirt.link import HostLink
from ztui.libvirt.pipeline import read_unparsed, resolve
from ztui.libvirt.reader import FetchedGuest, guest_from_fetched, guests_from_fetched
from ztui.model import DeviceKind, DeviceUse, Host, HostDevice
from ztui.report.tree_json import guests_json_compact, host_json_compact

log = logging.getLogger("ztui")

SPLIT_FROM = 200
"""Guests from which a second process pays for itself (forking and the pipe cost a few milliseconds)."""


def can_split(guests: int) -> bool:
    """Enough guests, and a second CPU this process may run on."""
    if guests < SPLIT_FROM or not hasattr(os, "fork"):
        return False
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return len(cpus) >= 2


def host_json(link: HostLink, names: Sequence[str], udev: tuple[HostDevice, ...] | None,
              split: bool = True) -> str:
    """One connected host as compact JSON (`ztui.report.tree_json.host_json_compact` of what `read_host` and
    the backing chains give). `udev` as for `ztui.host.scan.scan_host`. `split`: the work may go to a
    second process (not while other threads of this one are inside libvirt: a fork copies their locks)."""
    host, records, fetched = read_unparsed(link, names, udev)
    if split and records is not None and can_split(len(fetched)):
        middle = len(fetched) // 2
        text = _in_two_processes(records, fetched[:middle], fetched[middle:])
        if text is not None:
            return host_json_compact(host, text)
    return host_json_compact(host, _encode(host, records, fetched, names))


def _encode(host: Host, records: HostRecords | None, fetched: list[FetchedGuest], names: Sequence[str]) -> str:
    """The guests with their chains and sharing warnings, encoded, all in this process."""
    return guests_json_compact(_resolved(host, records, fetched, names).guests)


def resolved_host(link: HostLink, names: Sequence[str], udev: tuple[HostDevice, ...] | None) -> Host:
    """One connected host read as `host_json` reads it, resolved but not encoded: one of several hosts whose
    volumes are joined before they are encoded (`ztui.host.volumes`)."""
    host, records, fetched = read_unparsed(link, names, udev)
    return _resolved(host, records, fetched, names)


def _resolved(host: Host, records: HostRecords | None, fetched: list[FetchedGuest], names: Sequence[str]) -> Host:
    """The host with its guests, their chains (none without records), sharing warnings and volumes."""
    guests = replace(host, guests=guests_from_fetched(fetched, by_name=not names))
    return guests if records is None else resolve(guests, records).host


def _resolve_part(records: HostRecords, part: Sequence[FetchedGuest]) -> Host | None:
    """One part's guests with their chains but no sharing warnings yet (those need the other part's), or
    None when a parsed name differs from libvirt's (the parts were cut by those)."""
    guests = [guest_from_fetched(f) for f in part]
    if any(g.name != f.name for g, f in zip(guests, part, strict=True)):
        return None
    inv = inventory_for(records, guests)
    return Host(uri=records.uri, guests=tuple(resolve_guest(g, inv) for g in guests))


def _held(part: Host) -> bytes:
    """What the part's running guests hold exclusively, for the other part's sharing warnings."""
    uses = [[u.device_key, u.guest, u.guest_uuid, u.target, u.device_kind.value]
            for g in part.guests for u in guest_uses(g, part.uri) if u.exclusive and u.running]
    return json.dumps(uses).encode()


def _others(held: bytes) -> dict[str, list[DeviceUse]]:
    """The other part's exclusive uses (`_held`), by host-device key."""
    found: dict[str, list[DeviceUse]] = {}
    for key, guest, uuid, target, kind in json.loads(held):
        found.setdefault(key, []).append(DeviceUse(device_key=key, guest=guest, guest_uuid=uuid, target=target,
                                                   device_kind=DeviceKind(kind), running=True, exclusive=True))
    return found


def _finish(part: Host, held_by_others: bytes) -> str:
    """The part with its sharing warnings, counting what the other part holds, encoded."""
    return guests_json_compact(with_sharing_warnings(part, _others(held_by_others)).guests)


def send_frame(fd: int, data: bytes) -> None:
    """One frame: the length of `data`, then `data` (`_FRAME`)."""
    view = memoryview(_FRAME.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def receive_frame(fd: int) -> bytes:
    """One frame; EOFError when the other process ended before sending it whole."""
    head = _read_exactly(fd, _FRAME.size)
    return _read_exactly(fd, _FRAME.unpack(head)[0])


def _read_exactly(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


_FRAME = struct.Struct("<Q")
"""Each message between the two processes is its length, then its bytes."""


def _child(records: HostRecords, part: Sequence[FetchedGuest], inbox: int, outbox: int) -> int:
    """The child's whole life: resolve its part, send what it holds and take what the parent's part holds,
    then send its text, and tell how it went (it then ends without any clean-up, so nothing of the
    parent's runs twice). It sends first and the parent receives first, so neither waits on the other
    with a full pipe."""
    try:
        resolved = _resolve_part(records, part)
        if resolved is None:
            return 1
        send_frame(outbox, _held(resolved))
        send_frame(outbox, _finish(resolved, receive_frame(inbox)).encode())
        return 0
    except BaseException:  # whatever happens here, the parent does this part itself
        return 1


def _in_two_processes(records: HostRecords, first: Sequence[FetchedGuest],
                      second: Sequence[FetchedGuest]) -> str | None:
    """Both halves encoded and joined, the second by a forked child; None when either half failed.

    Guests of both halves may hold the same host device (a DASD two running guests write to): each
    process resolves its half, they trade what their running guests hold exclusively, and each then
    warns of a conflict with a guest of either half, as one process would."""
    parent = os.getpid()
    to_child, child_in = os.pipe()
    child_out, from_child = os.pipe()
    # the child must never get to this process's own code: Ctrl-C stays blocked there (the parent, which
    # gets it, closes the pipes, and the child's next read or write then fails and ends it)
    interrupts = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pid = os.fork()
    except OSError as exc:  # no memory or processes to spare: one process does it all
        log.debug("no second process: %s", exc)
        for fd in (to_child, child_in, child_out, from_child):
            os.close(fd)
        return None
    finally:
        if os.getpid() == parent:
            signal.pthread_sigmask(signal.SIG_SETMASK, interrupts)
    if pid == 0:
        os.close(child_in)
        os.close(child_out)
        os._exit(_child(records, second, to_child, from_child))
    os.close(to_child)
    os.close(from_child)
    try:
        mine = _resolve_part(records, first)
        theirs_held = receive_frame(child_out)
        if mine is None:
            return None
        send_frame(child_in, _held(mine))
        text = _finish(mine, theirs_held)
        theirs = receive_frame(child_out).decode()
    except (EOFError, OSError) as exc:
        log.debug("the second process failed (%s); one process does it all", exc)
        return None
    finally:
        os.close(child_in)  # a child still reading or writing gets EOF or EPIPE instead of waiting
        os.close(child_out)
        _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        log.debug("the second process failed (status %s); one process does it all", status)
        return None
    return ",".join(part for part in (text, theirs) if part)
