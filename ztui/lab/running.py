"""The lab's hosts where a guest may run now, without starting anything and without libvirt.

Commands that act on one host still ask every host ztui knows whether a guest runs there too
(`ztui.ops.safety.known_hosts`); a running lab is one of those places. This reads only the lab's record and
probes each host's pids, so asking it costs a few milliseconds and never starts a lab.

A host counts while its daemon runs, and also while only its supervisor does: the supervisor outlives a
libvirtd that died for as long as a QEMU it adopted runs, so guests may still run there although nobody
answers for them. Asked, such a host does not answer, and the check says so instead of "runs nowhere
else". A host with neither process has no QEMU left: there is nothing to ask.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ztui.lab.daemon import daemon_pid, process_alive, read_pid
from ztui.lab.errors import LabError
from ztui.lab.paths import HostPaths, LabPaths
from ztui.lab.sshd import SshPaths, ssh_uri
from ztui.lab.state import load_state


@dataclass(frozen=True)
class RunningLabHost:
    """A lab host with its daemon up: its name and the URIs that reach it (unix socket, tcp, ssh)."""

    name: str
    uri: str
    tcp_uri: str = ""
    ssh_uri: str = ""


def running_lab_hosts(base_dir: Path | None = None) -> tuple[RunningLabHost, ...]:
    """The hosts of the lab (`$ZTUI_LAB_DIR` or the default) whose libvirtd or supervisor runs; () when there
    is none."""
    try:
        paths = LabPaths.for_dir(base_dir)
    except LabError:
        return ()
    state = load_state(paths)
    if state is None:
        return ()
    found = []
    for record in state.hosts:
        host = paths.host(record.name)
        if daemon_pid(host) is None and not _supervisor_alive(host):
            continue
        through_ssh = ssh_uri(state.ssh_port, host.socket, SshPaths(paths.ssh_dir)) if state.ssh_port else ""
        found.append(RunningLabHost(record.name, host.uri, record.tcp_uri, through_ssh))
    return tuple(found)


def _supervisor_alive(host: HostPaths) -> bool:
    """Whether the host's supervisor still runs (a reused pid counts too: the host is then asked and does not
    answer, which refuses rather than allows)."""
    pid = read_pid(host.supervisor_pidfile)
    return pid is not None and process_alive(pid)
