"""The lab's own record (`lab.json`) and the lock that serializes `start` and `stop`.

The record holds what must stay the same across daemon restarts: each host's `host_uuid` (libvirt refuses
to migrate between daemons with equal UUIDs, and a restarted daemon must keep its identity) and which
hosts were already provisioned (a restarted host must not get its guests defined a second time: one of
them may have migrated away and run elsewhere on the same disk images).
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from ztui.lab.errors import LabError
from ztui.lab.paths import LabPaths, host_name

STATE_VERSION = 1


@dataclass
class HostRecord:
    name: str
    index: int
    host_uuid: str
    provisioned: bool = False
    tcp_port: int = 0  # libvirtd's qemu+tcp port on 127.0.0.1 (0: not chosen yet)

    @property
    def tcp_uri(self) -> str:
        """`qemu+tcp://127.0.0.1:PORT/system`, '' before its port was chosen."""
        return f"qemu+tcp://127.0.0.1:{self.tcp_port}/system" if self.tcp_port else ""


@dataclass
class LabState:
    version: int = STATE_VERSION
    linux: bool = False
    hosts: list[HostRecord] = field(default_factory=list)
    ssh_port: int = 0  # the lab's sshd on 127.0.0.1 (0: not chosen yet)

    def host(self, name: str) -> HostRecord | None:
        return next((h for h in self.hosts if h.name == name), None)

    def grow(self, count: int) -> None:
        """Make sure hosts 0..count-1 exist; existing hosts (and any beyond count) are kept."""
        for index in range(count):
            name = host_name(index)
            if self.host(name) is None:
                self.hosts.append(HostRecord(name=name, index=index, host_uuid=str(uuid.uuid4())))
        self.hosts.sort(key=lambda h: h.index)


def load_state(paths: LabPaths) -> LabState | None:
    """The saved record, or None when there is no lab (or its record is unreadable: start afresh)."""
    try:
        raw: dict[str, Any] = json.loads(paths.state_file.read_text())
        hosts = [HostRecord(**h) for h in raw.get("hosts", [])]
        return LabState(version=int(raw.get("version", STATE_VERSION)), linux=bool(raw.get("linux")),
                        hosts=hosts, ssh_port=int(raw.get("ssh_port", 0)))
    except (OSError, ValueError, TypeError):
        return None


def save_state(paths: LabPaths, state: LabState) -> None:
    paths.base.mkdir(parents=True, exist_ok=True)
    tmp = paths.state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2) + "\n")
    tmp.replace(paths.state_file)


@contextmanager
def lab_lock(paths: LabPaths) -> Iterator[None]:
    """Exclusive lock on the lab. `stop` deletes the directory, lock file included, while holding it:
    a waiter that then gets the lock on the unlinked file notices and retries on a fresh one."""
    while True:
        paths.base.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(paths.lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except FileNotFoundError:
            continue  # removed between mkdir and open
        except OSError as exc:
            raise LabError(f"cannot create {paths.lock_file}: {exc.strerror}") from exc
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            current = os.stat(paths.lock_file)
        except FileNotFoundError:
            current = None
        held = os.fstat(fd)
        if current is not None and (current.st_dev, current.st_ino) == (held.st_dev, held.st_ino):
            break
        os.close(fd)
    try:
        yield
    finally:
        os.close(fd)
