"""Starting, finding and stopping a lab host's `libvirtd` and everything else the lab runs.

Each host runs as `supervisor.py` (mount namespace + subreaper) with libvirtd as its child, in a new
session with its output in a log file, so it survives the `ztui lab start` that launched it.

Lab processes are found by their mounts, not by their names: any process whose mount namespace has one of
this lab's host directories mounted belongs to the lab (supervisors, libvirtd, QEMU; also those left over
from a crash). Processes of the system's libvirtd or of another lab never match.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ztui.lab.errors import LabError
from ztui.lab.paths import HostPaths

SUPERVISOR = Path(__file__).with_name("supervisor.py")
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0


def find_binary(name: str, *fallbacks: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    return next((path for path in fallbacks if os.access(path, os.X_OK)), None)


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def process_name(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


def process_alive(pid: int) -> bool:
    """True for a live process, False for none or a zombie (dead, not yet reaped by its parent)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def daemon_pid(host: HostPaths) -> int | None:
    """The host's libvirtd pid, if that process still runs (a pid file survives a crash)."""
    pid = read_pid(host.pidfile)
    if pid is None or not process_alive(pid) or process_name(pid) != "libvirtd":
        return None
    return pid


def socket_accepts(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True


def daemon_running(host: HostPaths) -> bool:
    return daemon_pid(host) is not None and socket_accepts(host.socket)


def log_excerpt(host: HostPaths, lines: int = 15) -> str:
    """The last lines of the daemon's log and of the supervisor's output, for an error message."""
    parts = []
    for path in (host.daemon_log, host.supervisor_log):
        try:
            text = path.read_text(errors="replace").rstrip().splitlines()
        except OSError:
            continue
        if text:
            parts.append(f"--- {path} ---\n" + "\n".join(text[-lines:]))
    return "\n".join(parts)


def start_daemon(host: HostPaths, libvirtd: str, timeout: float = START_TIMEOUT) -> int:
    """Launch the host's supervisor and wait until libvirtd accepts connections; return libvirtd's pid.

    Stale files from a crashed daemon (pid file, sockets) are removed first: libvirtd would refuse to
    bind a socket path that still exists.
    """
    for stale in (host.pidfile, host.socket, host.run / "libvirt-sock-ro", host.run / "libvirt-admin-sock"):
        stale.unlink(missing_ok=True)
    host.supervisor_pidfile.unlink(missing_ok=True)
    with open(host.supervisor_log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-I", str(SUPERVISOR), str(host.root), libvirtd],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd="/", start_new_session=True,
            close_fds=True)
    try:
        status = proc.wait(timeout)  # returns once the namespace is set up and the supervisor forked
    except subprocess.TimeoutExpired:
        terminate_pids([proc.pid], STOP_TIMEOUT)
        proc.wait()
        status = -1
    supervisor = read_pid(host.supervisor_pidfile)
    if status != 0 or supervisor is None:
        raise LabError(f"{host.name}: cannot set up the daemon's namespace", details=log_excerpt(host))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = daemon_pid(host)
        if pid is not None and socket_accepts(host.socket):
            return pid
        if not process_alive(supervisor):
            break
        time.sleep(0.02)
    terminate_pids([supervisor, *filter(None, [daemon_pid(host)])], STOP_TIMEOUT)
    raise LabError(f"{host.name}: libvirtd did not start", details=log_excerpt(host))


@dataclass(frozen=True)
class LabProcess:
    pid: int
    name: str


def _mount_identity(path: Path) -> tuple[str, str] | None:
    """(device major:minor, path relative to its filesystem root) as they appear in mountinfo."""
    best: tuple[int, str, str, str] | None = None
    target = str(path)
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        root, mountpoint, device = fields[3], fields[4], fields[2]
        inside = target == mountpoint or target.startswith(mountpoint.rstrip("/") + "/")
        if inside and (best is None or len(mountpoint) > best[0]):
            best = (len(mountpoint), mountpoint, root, device)
    if best is None:
        return None
    _, mountpoint, root, device = best
    rest = os.path.relpath(target, mountpoint)
    return device, os.path.normpath(os.path.join(root, rest))


def lab_processes(hosts_dir: Path) -> list[LabProcess]:
    """Every process with one of the lab's host directories mounted (see the module docstring)."""
    identity = _mount_identity(hosts_dir)
    if identity is None:
        return []
    device, prefix = identity
    prefix += "/"
    me = os.getpid()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            mountinfo = Path(entry.path, "mountinfo").read_text()
        except OSError:
            continue
        for line in mountinfo.splitlines():
            fields = line.split(maxsplit=5)
            if len(fields) > 4 and fields[2] == device and fields[3].startswith(prefix):
                pid = int(entry.name)
                if process_alive(pid):
                    found.append(LabProcess(pid, process_name(pid) or "?"))
                break
    return found


def terminate_pids(pids: list[int], timeout: float) -> list[int]:
    """SIGTERM, wait up to `timeout`, then SIGKILL; return the pids that survived even that."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + (timeout if sig == signal.SIGTERM else 2.0)
        while time.monotonic() < deadline:
            pids = [pid for pid in pids if process_alive(pid)]
            if not pids:
                return []
            time.sleep(0.02)
    return [pid for pid in pids if process_alive(pid)]
