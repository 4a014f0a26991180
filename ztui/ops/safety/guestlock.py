"""One action per guest at a time, across processes: an flock on a 0600 file per host and guest UUID.

Two migrations of one guest, or a detach racing an attach, each read the guest, each decide, and each
report its own truth. The lock makes the second one wait for nothing: it is refused at once with who holds
the guest (pid, command, action, since when). flock is released by the kernel when the holder dies, so a
crashed ztui never leaves a guest locked; the file stays (removing lock files races with their users).

    with guest_lock(uri, uuid, guest="lnxa03", action="attach"):
        ...                                         # Busy (exit 1) if another process holds it

The key is the URI as the caller opened it plus the guest's UUID: a migration locks the guest on both of
its hosts with two calls.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

from ztui.errors import Busy, StateUnwritable
from ztui.statefiles import open_dir, open_file, state_dir

LOCK_DIR = "locks"


@dataclass(frozen=True)
class Holder:
    """Who holds a guest's lock: enough to find the process and tell the user what it does."""

    pid: int
    command: str
    action: str
    guest: str
    uri: str
    since: str

    def describe(self) -> str:
        return f"{self.action} by pid {self.pid} ({self.command}) since {self.since}"


def lock_name(uri: str, uuid: str) -> str:
    """The lock file's name for a guest on a host (a hash: URIs hold characters a file name must not)."""
    digest = hashlib.sha256(f"{uri.rstrip('/')}\0{uuid.lower()}".encode()).hexdigest()[:32]
    return f"{digest}.lock"


def _read_holder(fd: int) -> Holder | None:
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
        doc = json.loads(os.pread(fd, 4096, 0).decode("utf-8", "replace") or "null")
        return Holder(int(doc["pid"]), str(doc["command"]), str(doc["action"]), str(doc["guest"]),
                      str(doc["uri"]), str(doc["since"]))
    return None


def holder(uri: str, uuid: str) -> Holder | None:
    """Who holds the guest's lock now, or None when nobody does."""
    with open_dir(LOCK_DIR) as dfd:
        try:
            fd = open_file(dfd, lock_name(uri, uuid), os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return _read_holder(fd)
            return None
        finally:
            os.close(fd)


def _command() -> str:
    return " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:200] or "ztui"


@contextlib.contextmanager
def guest_lock(uri: str, uuid: str, *, guest: str, action: str) -> Iterator[Holder]:
    """Hold the guest's action lock for the block; `Busy` when another process holds it."""
    name = lock_name(uri, uuid)
    with open_dir(LOCK_DIR) as dfd:
        try:
            fd = open_file(dfd, name, os.O_RDWR | os.O_CREAT, str(state_dir() / LOCK_DIR / name))
        except OSError as exc:
            raise StateUnwritable(f"the lock for {guest} cannot be made in {state_dir() / LOCK_DIR}: "
                                  f"{exc.strerror or exc}; nothing was changed") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = _read_holder(fd)
            who = other.describe() if other is not None else "another ztui process"
            raise Busy(f"{guest} is busy: {who}; nothing was changed") from None
        me = Holder(os.getpid(), _command(), action, guest, uri, time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        data = json.dumps(me.__dict__).encode("utf-8")
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        try:
            yield me
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the flock
