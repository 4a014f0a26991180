"""Where a lab keeps its files, and the names derived from its location.

Everything a lab creates lives under one base directory (default `/var/tmp/ztui-lab`, or `$ZTUI_LAB_DIR`),
so `stop` can remove it all and two labs (a user's demo and the test suite's) never share a file. Caches
that outlive a lab (QEMU capabilities, downloaded Debian packages) live in the user's cache directory.

Host-wide names (bridges) and port ranges are derived from the base directory, so two labs running at the
same time never collide on them either.
"""

from __future__ import annotations

import hashlib
import os
import string
from dataclasses import dataclass
from pathlib import Path

from ztui.lab.errors import LabError

DEFAULT_LAB_DIR = Path("/var/tmp/ztui-lab")
ENV_LAB_DIR = "ZTUI_LAB_DIR"
ENV_CACHE_DIR = "ZTUI_LAB_CACHE"

HOST_PREFIX = "zlab-"
MAX_HOSTS = len(string.ascii_lowercase)

#: AF_UNIX socket paths are limited to 108 bytes including the terminating NUL
_SUN_PATH_MAX = 107
#: the first migration port of the default lab; other labs get their own block above it
_PORT_BASE = 49400
_PORTS_PER_HOST = 10
_PORTS_PER_LAB = _PORTS_PER_HOST * MAX_HOSTS
_LAB_SLOTS = 50


def lab_dir(base_dir: Path | None = None) -> Path:
    """The lab's base directory: the argument, else `$ZTUI_LAB_DIR`, else the default."""
    if base_dir is None:
        env = os.environ.get(ENV_LAB_DIR, "").strip()
        base_dir = Path(env) if env else DEFAULT_LAB_DIR
    base = Path(os.path.abspath(base_dir))
    if base == Path("/run") or Path("/run") in base.parents:
        # Each host's namespace gets a fresh /run (see supervisor.py), which would hide a lab kept there.
        raise LabError(f"the lab directory {base} must not be under /run")
    return base


def cache_dir() -> Path:
    """Files worth keeping between labs: `$ZTUI_LAB_CACHE`, else `$XDG_CACHE_HOME/ztui/lab`."""
    env = os.environ.get(ENV_CACHE_DIR, "").strip()
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "ztui" / "lab"


def host_name(index: int) -> str:
    """`zlab-a`, `zlab-b`, ... for index 0, 1, ..."""
    if not 0 <= index < MAX_HOSTS:
        raise LabError(f"a lab has 1 to {MAX_HOSTS} hosts")
    return HOST_PREFIX + string.ascii_lowercase[index]


def host_letter(name: str) -> str:
    return name.removeprefix(HOST_PREFIX)


@dataclass(frozen=True)
class HostPaths:
    """One host's private tree; its five subdirectories replace libvirt's system directories."""

    root: Path

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def lib(self) -> Path:
        return self.root / "lib"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def log(self) -> Path:
        return self.root / "log"

    @property
    def socket(self) -> Path:
        return self.run / "libvirt-sock"

    @property
    def pidfile(self) -> Path:
        """Written by libvirtd itself (`-p /run/libvirt/libvirtd.pid` inside the namespace)."""
        return self.run / "libvirtd.pid"

    @property
    def daemon_log(self) -> Path:
        return self.log / "libvirtd.log"

    @property
    def supervisor_log(self) -> Path:
        return self.root / "supervisor.log"

    @property
    def supervisor_pidfile(self) -> Path:
        return self.root / "supervisor.pid"

    @property
    def capabilities(self) -> Path:
        return self.cache / "qemu" / "capabilities"

    @property
    def uri(self) -> str:
        return f"qemu+unix:///system?socket={self.socket}"

    def subdirs(self) -> tuple[Path, ...]:
        return (self.etc, self.run, self.lib, self.cache, self.log)


@dataclass(frozen=True)
class LabPaths:
    """The layout of one lab's base directory."""

    base: Path

    @classmethod
    def for_dir(cls, base_dir: Path | None = None) -> LabPaths:
        paths = cls(lab_dir(base_dir))
        probe = paths.host(host_name(0)).socket
        if len(str(probe).encode()) > _SUN_PATH_MAX:
            raise LabError(f"the lab directory {paths.base} is too long for a unix socket path; "
                           f"choose a shorter one")
        return paths

    @property
    def state_file(self) -> Path:
        return self.base / "lab.json"

    @property
    def lock_file(self) -> Path:
        return self.base / "lab.lock"

    @property
    def kernel(self) -> Path:
        return self.base / "kernel" / "idle.img"

    @property
    def images(self) -> Path:
        return self.base / "images"

    @property
    def hosts_dir(self) -> Path:
        return self.base / "hosts"

    @property
    def ssh_dir(self) -> Path:
        """The lab's sshd: its keys, configuration and namespace (`ztui.lab.sshd`)."""
        return self.base / "ssh"

    def host(self, name: str) -> HostPaths:
        return HostPaths(self.hosts_dir / name)

    @property
    def is_default(self) -> bool:
        return self.base == DEFAULT_LAB_DIR

    @property
    def slot(self) -> int:
        """0 for the default lab, a stable 1..50 for any other directory."""
        if self.is_default:
            return 0
        digest = hashlib.sha256(str(self.base).encode()).digest()
        return 1 + int.from_bytes(digest[:4], "big") % _LAB_SLOTS

    def bridge_name(self, host: str) -> str:
        """A Linux bridge name (at most 15 characters) unique to this lab and host."""
        letter = host_letter(host)
        if self.is_default:
            return f"{host}-br0"  # zlab-a-br0: readable in the default demo
        tag = hashlib.sha256(str(self.base).encode()).hexdigest()[:5]
        return f"zl{tag}{letter}-br0"

    def migration_ports(self, index: int) -> tuple[int, int]:
        """A port range per host: libvirt needs distinct ranges for daemons on one machine."""
        first = _PORT_BASE + self.slot * _PORTS_PER_LAB + index * _PORTS_PER_HOST
        return first, first + _PORTS_PER_HOST - 1
