"""Which host a libvirt URI names, as far as ztui's own process is concerned: the one question behind every
"may I look at /sys, udev or the file system myself, or must I ask libvirt?".

Three answers (`HostPlace`):

* `THIS_MACHINE` — the daemon shares this process's kernel *and* mount namespace: its files are ours to
  stat, its devices are in our udev and /sys.
* `OTHER_NAMESPACE` — same kernel, but the daemon runs in a mount namespace of its own (a lab host, a
  containerised libvirtd): udev and /sys still describe its devices, but a path it names is not the path we
  would open. Its files are asked of libvirt, like a remote host's.
* `REMOTE` — another machine (ssh, tls, tcp): everything goes through libvirt's APIs.

The URI's form comes first (`ztui.facts.is_local_uri`: any network transport, even to localhost, is
remote). For a local socket the daemon is found by the socket's peer credentials (`SO_PEERCRED`) and its mount
namespace compared with ours (`/proc/PID/ns/mnt`). When that cannot be found out (no permission to read
another user's namespace link, the daemon not running yet) the URI's form decides, as before: local.
Answers are cached per URI once the daemon was found (a daemon does not change namespaces while it runs);
"not running" is not cached, so a host asked about while its daemon restarts is asked again.

Callers ask `ztui.host.facts_source.facts_source_for`, which carries this answer beside the host's facts
source: one function decides which host is which.
"""

from __future__ import annotations

import enum
import os
import socket
import struct
from urllib.parse import parse_qs, urlsplit

from ztui.facts import is_local_uri

__all__ = ["HostPlace", "daemon_root", "host_place"]

_DEFAULT_SOCKETS = ("/run/libvirt/virtqemud-sock", "/run/libvirt/libvirt-sock")


class HostPlace(enum.Enum):
    """Where a host is, seen from this process (see the module docstring)."""

    THIS_MACHINE = "this machine"
    OTHER_NAMESPACE = "this kernel, another mount namespace"
    REMOTE = "remote"

    @property
    def files_here(self) -> bool:
        """Whether a path the host names is a path this process can stat, read and create."""
        return self is HostPlace.THIS_MACHINE

    @property
    def kernel_here(self) -> bool:
        """Whether udev and /sys of this machine describe the host's devices."""
        return self is not HostPlace.REMOTE


_KNOWN: dict[str, HostPlace] = {}


def host_place(uri: str) -> HostPlace:
    """Where the host behind `uri` is (cached per URI once known; see the module docstring)."""
    known = _KNOWN.get(uri)
    if known is not None:
        return known
    if not is_local_uri(uri):  # the URI's form: a network transport is another machine
        place = HostPlace.REMOTE
    elif urlsplit(uri).scheme == "test":
        place = HostPlace.THIS_MACHINE
    else:
        pid = _daemon_pid(_socket_path(uri))
        if pid is None:
            return HostPlace.THIS_MACHINE  # not running (yet): asked again next time
        mine, theirs = _mount_namespace(os.getpid()), _mount_namespace(pid)
        same = mine is None or theirs is None or mine == theirs
        place = HostPlace.THIS_MACHINE if same else HostPlace.OTHER_NAMESPACE
    if len(_KNOWN) >= 256:
        _KNOWN.clear()
    _KNOWN[uri] = place
    return place


def daemon_root(uri: str) -> str | None:
    """The directory under which this process sees the files of a daemon on this kernel in a mount namespace
    of its own (`/proc/PID/root`), None when there is no such daemon running or its root cannot be read.
    Only for looking at a file the daemon's QEMU may hold (which processes have it open): everything else
    about such a host's files is asked of libvirt."""
    if not is_local_uri(uri):
        return None
    pid = _daemon_pid(_socket_path(uri))
    if pid is None:
        return None
    root = f"/proc/{pid}/root"
    return root if os.access(root, os.R_OK | os.X_OK) else None


def forget(uri: str | None = None) -> None:
    """Drop cached answers (a daemon was restarted elsewhere): that URI's, all of them without one."""
    if uri is None:
        _KNOWN.clear()
    else:
        _KNOWN.pop(uri, None)


def _socket_path(uri: str) -> list[str]:
    parts = urlsplit(uri)
    given = parse_qs(parts.query).get("socket")
    if given:
        return [given[0]]
    if parts.path.rstrip("/") == "/session":
        runtime = os.environ.get("XDG_RUNTIME_DIR", f"/run/user/{os.getuid()}")
        return [f"{runtime}/libvirt/virtqemud-sock", f"{runtime}/libvirt/libvirt-sock"]
    return list(_DEFAULT_SOCKETS)


def _daemon_pid(paths: list[str]) -> int | None:
    """The pid of the process listening on the first of these sockets that accepts (SO_PEERCRED)."""
    for path in paths:
        if not os.path.exists(path):
            continue
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            try:
                sock.connect(path)
                raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            except OSError:
                continue
        pid = int(struct.unpack("3i", raw)[0])
        if pid > 0:
            return pid
    return None


def _mount_namespace(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None
