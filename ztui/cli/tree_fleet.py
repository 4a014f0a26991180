"""`ztui tree --json` over a fleet: the hosts shared out among as many processes as there are CPUs.

Reading a host is mostly waiting for it, and many hosts wait at once in one process; but what each then
costs here — parsing its guests' XML, resolving their chains, encoding them — is Python work that takes
turns on one CPU (the GIL). So before anything is opened (no thread yet whose locks a fork would copy),
this process forks one child per further CPU; each takes every n-th host, reads its hosts at once
(`ztui.cli.tree.read_hosts_here`) and hands their JSON texts and error lines back through a pipe. The
output is what one process prints, in the order given (a test holds them equal). A child that fails has its
hosts read here after all; so does everything on a single CPU.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from ztui.cli.tree_read import HOSTS_AT_ONCE, EncodedHost, HostRead, read_one_host
from ztui.cli.tree_split import receive_frame, send_frame
from ztui.host.scan import LocalUdev
from ztui.host.volumes import HostSummary, VolumeJoin, decorate_host, summarize
from ztui.libvirt.reader import read_at_once
from ztui.model import Host
from ztui.report.tree_json import host_json_compact

log = logging.getLogger("ztui")


def processes_for(hosts: int) -> int:
    """How many processes read `hosts` hosts: one per CPU this process may run on, at most one per host."""
    if not hasattr(os, "fork"):
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cpus, hosts))


def fleet_json(uris: Sequence[str], readonly: bool, names: list[str]) -> list[HostRead]:
    """Every host read, in the order of `uris`: its compact JSON text (a host that could not be read as its
    disconnected record), its error lines and which of the named guests it has.

    The hosts' volumes are joined before any is encoded (`ztui.host.volumes`: the same DASD under two
    LPARs' device numbers is one volume): each process reads and resolves its hosts, hands what they
    contribute to the join (`HostSummary`) to this one, gets back the summaries of every host, and only then
    encodes its own."""
    count = processes_for(len(uris))
    shares = [list(range(i, len(uris), count)) for i in range(count)]
    children = [_start(uris, share, readonly, names) for share in shares[1:]]
    read: dict[int, HostRead] = dict(zip(shares[0], _read(uris, shares[0], readonly, names), strict=True))
    summaries = {i: summarize(r.host) for i, r in read.items() if isinstance(r.host, Host)}
    answered: list[tuple[list[int], _Child, list[bool]]] = []
    for share, child in zip(shares[1:], children, strict=True):
        got = _summaries(child) if child is not None else None
        if child is None or got is None or len(got[0]) != len(share):
            log.debug("a reading process failed; its hosts are read here")
            _end(child)
            again = dict(zip(share, _read(uris, share, readonly, names), strict=True))
            read.update(again)
            summaries.update((i, summarize(r.host)) for i, r in again.items() if isinstance(r.host, Host))
            continue
        flags, theirs = got
        read.update(zip(share, flags, strict=True))
        has = [isinstance(r.host, EncodedHost) for r in flags]
        summaries.update(zip([i for i, h in zip(share, has, strict=True) if h], theirs, strict=True))
        answered.append((share, child, has))
    every = [summaries[i] for i in sorted(summaries)]
    join = VolumeJoin(every)
    texts = {i: _text(r.host, join) for i, r in read.items() if isinstance(r.host, Host)}
    wanted = _shared([s.to_json() for s in every], join)
    for share, child, has in answered:
        got_texts = _texts(child, wanted, has)
        if got_texts is None:
            log.debug("a reading process failed; its hosts are read here")
            again = dict(zip(share, _read(uris, share, readonly, names), strict=True))
            read.update(again)
            texts.update((i, _text(r.host, join)) for i, r in again.items() if isinstance(r.host, Host))
        else:
            texts.update((i, t) for i, t in zip(share, got_texts, strict=True) if t is not None)
    return [replace(read[i], host=EncodedHost(texts[i]) if i in texts else None) for i in range(len(uris))]


def _shared(summaries: list[dict[str, Any]], join: VolumeJoin) -> bytes:
    """The summaries a process needs to join its hosts with the others: only volumes seen on several hosts."""
    shared = {(i.kind.value, i.value) for i in join.identities()}
    trimmed = [{**s, "volumes": [v for v in s["volumes"] if (v[0], v[1]) in shared],
                "uses": [u for u in s["uses"] if (u[0], u[1]) in shared]} for s in summaries]
    return json.dumps(trimmed).encode()


def _read(uris: Sequence[str], share: list[int], readonly: bool,
          names: list[str]) -> list[HostRead]:
    """The hosts of `share` read and resolved in this process, all at once, as models (None for a host with
    nothing to show)."""
    wanted = [uris[i] for i in share]
    read_at_once(wanted)
    udev = LocalUdev(wanted)
    with ThreadPoolExecutor(min(len(wanted), HOSTS_AT_ONCE), thread_name_prefix="ztui-host") as pool:
        read = list(pool.map(lambda uri: read_one_host(uri, readonly, names, True, udev), wanted))
    return [r if isinstance(r.host, Host) else replace(r, host=None) for r in read]


def _text(host: Host, join: VolumeJoin) -> str:
    return host_json_compact(decorate_host(host, join))


_Child = tuple[int, int, int]
"""A reading process: its pid, the pipe its answers come through, the pipe the join goes to it through."""


def _start(uris: Sequence[str], share: list[int], readonly: bool, names: list[str]) -> _Child | None:
    """A child reading `share`, None when none could start. It answers twice: first a frame with a JSON list
    of [whether a host was read, [error lines], whether it was asked for the named guests, [those it has]] per
    host of its share and a frame with the summaries of the hosts read; then, once it got every host's
    summaries, one frame per host read with its JSON text (as it
    is: put in a JSON string it would be escaped and read back again)."""
    try:
        inbox, outbox = os.pipe()
        child_in, to_child = os.pipe()
    except OSError:
        return None
    # Ctrl-C goes to the parent, which then closes the pipes: the child's next read or write fails and it ends
    interrupts = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError as exc:
        log.debug("no reading process: %s", exc)
        for fd in (inbox, outbox, child_in, to_child):
            os.close(fd)
        return None
    finally:
        if os.getpid() == parent:
            signal.pthread_sigmask(signal.SIG_SETMASK, interrupts)
    if pid == 0:  # the child never returns into the parent's code
        status = 1
        try:
            os.close(inbox)
            os.close(to_child)
            read = _read(uris, share, readonly, names)
            send_frame(outbox, json.dumps([[r.host is not None, r.errors, r.asked, r.found] for r in read]).encode())
            send_frame(outbox, json.dumps([summarize(r.host).to_json() for r in read
                                           if isinstance(r.host, Host)]).encode())
            join = VolumeJoin(HostSummary.from_json(s) for s in json.loads(receive_frame(child_in)))
            for r in read:
                if isinstance(r.host, Host):
                    send_frame(outbox, _text(r.host, join).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(outbox)
    os.close(child_in)
    return pid, inbox, to_child


def _summaries(child: _Child | None) -> tuple[list[HostRead], list[HostSummary]] | None:
    """A child's first answer: per host what was read (a host read stands as an empty text until it comes) and
    the hosts' summaries; None when it had none (it failed, or never started)."""
    if child is None:
        return None
    pid, inbox, _ = child
    try:
        lines = [HostRead(EncodedHost("") if has else None, list(ls), bool(asked), tuple(found))
                 for has, ls, asked, found in json.loads(receive_frame(inbox))]
        summaries = [HostSummary.from_json(s) for s in json.loads(receive_frame(inbox))]
    except (EOFError, OSError, ValueError, KeyError, TypeError) as exc:
        log.debug("reading process %d: %s", pid, exc)
        return None
    return lines, summaries


def _texts(child: _Child, join: bytes, has: list[bool]) -> list[str | None] | None:
    """The child's hosts as text, once it has the join: one per host it read (None for one it did not); None
    when it failed."""
    pid, inbox, to_child = child
    answer: list[str | None] | None
    try:
        send_frame(to_child, join)
        answer = [receive_frame(inbox).decode() if read else None for read in has]
    except (EOFError, OSError, ValueError) as exc:
        log.debug("reading process %d: %s", pid, exc)
        answer = None
    if _end(child) != 0:
        answer = None
    return answer


def _end(child: _Child | None) -> int:
    """Close a child's pipes and reap it; its exit status (1 when there was none to reap)."""
    if child is None:
        return 1
    pid, inbox, to_child = child
    for fd in (inbox, to_child):
        with contextlib.suppress(OSError):
            os.close(fd)
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return 1
    return os.waitstatus_to_exitcode(status)
