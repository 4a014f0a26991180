"""The lab's hosts whose daemon runs now, without starting anything and without libvirt.

Commands that act on one host still ask every host ztui knows whether a guest runs there too
(`ztui.ops.known_hosts`); a running lab is one of those places. This reads only the lab's record and
probes each daemon's pid, so asking it costs a few milliseconds and never starts a lab. A host whose
daemon does not run is left out: there is nothing to ask.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ztui.lab.daemon import daemon_pid
from ztui.lab.errors import LabError
from ztui.lab.paths import LabPaths
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
    """The hosts of the lab (`$ZTUI_LAB_DIR` or the default) whose libvirtd runs; () when there is none."""
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
        if daemon_pid(host) is None:
            continue
        through_ssh = ssh_uri(state.ssh_port, host.socket, SshPaths(paths.ssh_dir)) if state.ssh_port else ""
        found.append(RunningLabHost(record.name, host.uri, record.tcp_uri, through_ssh))
    return tuple(found)
