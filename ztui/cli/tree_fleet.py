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

import json
import logging
import os
import signal
from collections.abc import Sequence

from ztui.cli.tree import EncodedHost, HostRead
from ztui.cli.tree_split import receive_frame, send_frame
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
    disconnected record), its error lines and which of the named guests it has."""
    count = processes_for(len(uris))
    shares = [list(range(i, len(uris), count)) for i in range(count)]
    children = [_start(uris, share, readonly, names) for share in shares[1:]]
    mine = _read(uris, shares[0], readonly, names)
    found: dict[int, HostRead] = dict(zip(shares[0], mine, strict=True))
    for share, child in zip(shares[1:], children, strict=True):
        texts = _collect(child)
        if texts is None or len(texts) != len(share):
            log.debug("a reading process failed; its hosts are read here")
            texts = _read(uris, share, readonly, names)
        found.update(zip(share, texts, strict=True))
    return [found[index] for index in range(len(uris))]


def _read(uris: Sequence[str], share: list[int], readonly: bool,
          names: list[str]) -> list[HostRead]:
    """The hosts of `share` read in this process, all at once, each host as its JSON text."""
    from concurrent.futures import ThreadPoolExecutor

    from ztui.cli.tree import HOSTS_AT_ONCE, read_one_host
    from ztui.host.scan import LocalUdev
    from ztui.libvirt.reader import read_at_once

    wanted = [uris[i] for i in share]
    read_at_once(wanted)
    udev = LocalUdev(wanted)
    with ThreadPoolExecutor(min(len(wanted), HOSTS_AT_ONCE), thread_name_prefix="ztui-host") as pool:
        read = list(pool.map(lambda uri: read_one_host(uri, readonly, names, True, udev, alone=len(wanted) == 1),
                             wanted))
    return [HostRead(EncodedHost(_text(r.host)) if r.host is not None else None, r.errors, r.asked, r.found)
            for r in read]


def _text(host: Host | EncodedHost) -> str:
    return host.text if isinstance(host, EncodedHost) else host_json_compact(host)


def _start(uris: Sequence[str], share: list[int], readonly: bool, names: list[str]) -> tuple[int, int] | None:
    """A child reading `share`: (its pid, the pipe its answer comes through), None when none could start.
    The child's answer is a frame with a JSON list of [whether a text follows, [error lines], whether it was
    asked for the named guests, [those it has]] per host of its
    share, then one frame with each host's JSON text (as it is: put in a JSON string it would be escaped and
    read back again)."""
    try:
        inbox, outbox = os.pipe()
    except OSError:
        return None
    # Ctrl-C goes to the parent, which then closes the pipe: the child's write fails and it ends
    interrupts = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError as exc:
        log.debug("no reading process: %s", exc)
        os.close(inbox)
        os.close(outbox)
        return None
    finally:
        if os.getpid() == parent:
            signal.pthread_sigmask(signal.SIG_SETMASK, interrupts)
    if pid == 0:  # the child never returns into the parent's code
        status = 1
        try:
            os.close(inbox)
            read = _read(uris, share, readonly, names)
            send_frame(outbox, json.dumps([[r.host is not None, r.errors, r.asked, r.found]
                                           for r in read]).encode())
            for r in read:
                if isinstance(r.host, EncodedHost):
                    send_frame(outbox, r.host.text.encode())
            status = 0
        finally:
            os._exit(status)
    os.close(outbox)
    return pid, inbox


def _collect(child: tuple[int, int] | None) -> list[HostRead] | None:
    """A child's answer, None when it had none (it failed, or never started)."""
    if child is None:
        return None
    pid, inbox = child
    try:
        answer = [HostRead(EncodedHost(receive_frame(inbox).decode()) if has_text else None, list(lines), asked,
                           tuple(found))
                  for has_text, lines, asked, found in json.loads(receive_frame(inbox))]
    except (EOFError, OSError, ValueError) as exc:
        log.debug("reading process %d: %s", pid, exc)
        answer = None
    finally:
        os.close(inbox)
        _, status = os.waitpid(pid, 0)
    if answer is None or os.waitstatus_to_exitcode(status) != 0:
        return None
    return answer
