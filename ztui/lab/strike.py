"""Strike a lab host's daemon at a named migration phase, deterministically: for fault tests and `make faults`.

libvirt rewrites a guest's status XML (`run/qemu/<guest>.xml`, by write-and-rename) each time a migration
job enters a new phase, and the XML names the phase: `<job ... async='migration out' phase='perform3_done'>`.
The striker watches that directory with inotify. On every rewrite it stops the daemon (SIGSTOP), reads the
phase the daemon has just recorded, and then either kills it there (SIGKILL: the daemon dies exactly after
recording that phase, before acting on it) or lets it go on (SIGCONT). Timing-based kills hit "somewhere
during the migration"; this hits `perform3_done` — the source knows the data went across but has not
heard from the destination — every time.

Phases (libvirt's `qemuMigrationJobPhase`): the source goes begin3 → perform3 → perform3_done → confirm3
(or confirm3_cancelled); the destination prepare → finish3. Which comes first can be asked with
`first_of` so that a fast phase that was skipped over still strikes at the next one.

Linux only (inotify through ctypes); the lab needs Linux anyway.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import select
import signal
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ztui.lab.daemon import daemon_pid
from ztui.lab.paths import HostPaths

IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
_EVENT = struct.Struct("iIII")

SOURCE_PHASES = ("begin3", "perform3", "perform3_done", "confirm3_cancelled", "confirm3")
DESTINATION_PHASES = ("prepare", "finish3")
_JOB = re.compile(r"<job\b([^>]*)>")
_STATUS = re.compile(r"<domstatus\b([^>]*)>")
_ATTR = re.compile(r"""(\w+)=['"]([^'"]*)['"]""")

_libc = ctypes.CDLL(None, use_errno=True)


def job_phase(status_xml: str) -> str:
    """The migration phase recorded in a status XML, with the guest's state: `perform3_done@paused`
    ('' when no migration job is recorded). A strike names a phase (`finish3`: its first write) or a
    phase and state (`finish3@running`: once the destination has started the guest's CPUs)."""
    match = _JOB.search(status_xml)
    if match is None:
        return ""
    attrs = dict(_ATTR.findall(match.group(1)))
    if not attrs.get("async", "").startswith("migration"):
        return ""
    status = _STATUS.search(status_xml)
    state = dict(_ATTR.findall(status.group(1))).get("state", "") if status else ""
    return f"{attrs.get('phase', '')}@{state}"


def _matches(recorded: str, wanted: tuple[str, ...]) -> bool:
    phase = recorded.partition("@")[0]
    return recorded in wanted or phase in wanted


class PhaseStriker:
    """Watch one guest's status XML on one lab host; strike the daemon at the first phase in `phases`.

    `strike(pid)` is called with the daemon stopped (default: SIGKILL). `seen` lists every phase the
    daemon recorded while watched, in order; `struck` is the phase struck at ('' if none)."""

    def __init__(self, host: HostPaths, guest: str, phases: tuple[str, ...],
                 strike: Callable[[int], None] | None = None, timeout: float = 120.0) -> None:
        self.host = host
        self.guest = guest
        self.phases = phases
        self.timeout = timeout
        self.seen: list[str] = []
        self.struck = ""
        self.struck_pid: int | None = None
        self.error = ""
        self._strike = strike or (lambda pid: os.kill(pid, signal.SIGKILL))
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"strike {host.name}", daemon=True)

    @property
    def status_dir(self) -> Path:
        return self.host.run / "qemu"

    def start(self) -> PhaseStriker:
        self._thread.start()
        self._ready.wait(5)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def __enter__(self) -> PhaseStriker:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def wait(self, timeout: float) -> bool:
        """Wait until the strike happened (True) or `timeout` passed."""
        self._thread.join(timeout)
        return bool(self.struck)

    def _run(self) -> None:
        fd = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            self.error = f"inotify_init1: {os.strerror(ctypes.get_errno())}"
            self._ready.set()
            return
        try:
            self.status_dir.mkdir(parents=True, exist_ok=True)
            if _libc.inotify_add_watch(fd, str(self.status_dir).encode(), IN_CLOSE_WRITE | IN_MOVED_TO) < 0:
                self.error = f"inotify_add_watch: {os.strerror(ctypes.get_errno())}"
                return
            self._ready.set()
            self._watch(fd)
        finally:
            self._ready.set()
            os.close(fd)

    def _watch(self, fd: int) -> None:
        wanted = f"{self.guest}.xml"
        deadline = time.monotonic() + self.timeout
        while not self._stop.is_set() and time.monotonic() < deadline:
            readable, _, _ = select.select([fd], [], [], 0.1)
            if not readable:
                continue
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                continue
            names = []
            offset = 0
            while offset + _EVENT.size <= len(data):
                _wd, _mask, _cookie, length = _EVENT.unpack_from(data, offset)
                raw = data[offset + _EVENT.size: offset + _EVENT.size + length]
                names.append(raw.split(b"\0", 1)[0].decode(errors="replace"))
                offset += _EVENT.size + length
            if wanted in names and self._look():
                return

    def _look(self) -> bool:
        """Stop the daemon, read the phase it recorded, strike or let it go on; True once struck."""
        pid = daemon_pid(self.host)
        if pid is None:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)
        try:
            try:
                phase = job_phase((self.status_dir / f"{self.guest}.xml").read_text(errors="replace"))
            except OSError:
                phase = ""
            if phase and (not self.seen or self.seen[-1] != phase):
                self.seen.append(phase)
            if phase and _matches(phase, self.phases):
                self.struck, self.struck_pid = phase, pid
                self._strike(pid)
                return True
            return False
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
