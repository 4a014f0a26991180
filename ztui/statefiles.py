"""The XDG state directory (audit log, journal, locks): 0700 directories, 0600 files, never a symlink.

A journal or lock written through a symlink planted by another user would let them truncate or redirect
any file ztui's user can write (ztui often runs as root). So every directory below the state base is
opened with O_NOFOLLOW and every file with O_NOFOLLOW relative to its directory's descriptor; the base
and its parents must be owned by root or by us and not writable by others (unless sticky), the rule
OpenSSH applies to ~/.ssh. Any failure is `StateUnwritable`, one line, before an action changes anything.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ztui.atomic import replace_file
from ztui.errors import StateUnwritable

DIR_MODE = 0o700
FILE_MODE = 0o600


def state_dir() -> Path:
    """`$XDG_STATE_HOME/ztui`, else `~/.local/state/ztui`."""
    base = os.environ.get("XDG_STATE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".local" / "state") / "ztui"


def _fail(path: Path | str, reason: object) -> StateUnwritable:
    if isinstance(reason, OSError):
        reason = reason.strerror or str(reason)
    return StateUnwritable(f"the state directory {path} cannot be used: {reason}; nothing was changed")


def _check_parents(real: str) -> None:
    """Each directory from / down to `real` is owned by root or us, and others cannot replace its entries."""
    me = os.geteuid()
    current = "/"
    for part in [p for p in real.split("/") if p] + [None]:
        st = os.lstat(current)
        if st.st_uid not in (0, me):
            raise _fail(real, f"{current} belongs to uid {st.st_uid}")
        if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
            raise _fail(real, f"{current} is writable by others")
        if part is None:
            break
        current = os.path.join(current, part)


def _open_subdir(parent_fd: int, name: str, shown: Path) -> int:
    """`name` below `parent_fd`, created 0700 if missing; refused if it is a symlink or not ours."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, DIR_MODE, dir_fd=parent_fd)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent_fd)
    except OSError as exc:
        raise _fail(shown, "it is a symlink" if exc.errno in (40, 20) else exc) from None  # ELOOP, ENOTDIR
    st = os.fstat(fd)
    if st.st_uid != os.geteuid():
        os.close(fd)
        raise _fail(shown, f"it belongs to uid {st.st_uid}")
    if stat.S_IMODE(st.st_mode) != DIR_MODE:
        os.fchmod(fd, DIR_MODE)
    return fd


@contextlib.contextmanager
def open_dir(*sub: str) -> Iterator[int]:
    """A descriptor of the state directory (or a subdirectory of it), made safe as the module says."""
    top = state_dir()
    shown = top.joinpath(*sub)
    fds: list[int] = []
    try:
        try:
            top.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
            real = os.path.realpath(top.parent)
            _check_parents(real)
            fds.append(os.open(real, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
            for name in (top.name, *sub):
                fds.append(_open_subdir(fds[-1], name, shown))
        except OSError as exc:
            raise _fail(shown, exc) from None
        yield fds[-1]
    finally:
        for fd in fds:
            os.close(fd)


def _check_file(fd: int, shown: str) -> None:
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
        raise _fail(shown, "it is not a regular file of ours")
    if stat.S_IMODE(st.st_mode) != FILE_MODE:
        os.fchmod(fd, FILE_MODE)


def open_file(dir_fd: int, name: str, flags: int, shown: str = "") -> int:
    """A file in an opened state directory, 0600, never through a symlink; OSError as the OS says."""
    fd = os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE, dir_fd=dir_fd)
    try:
        _check_file(fd, shown or name)
    except BaseException:
        os.close(fd)
        raise
    return fd


def append_line(name: str, line: str, *sub: str) -> None:
    """Append one line to a state file (the audit log), fsync'd; StateUnwritable when it cannot be."""
    with open_dir(*sub) as dfd:
        try:
            fd = open_file(dfd, name, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            try:
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise _fail(state_dir().joinpath(*sub, name), exc) from None


def write_json(dir_fd: int, name: str, doc: dict[str, Any], shown: str = "") -> None:
    """Replace `name` with `doc` atomically: a 0600 temporary file, fsync, rename, fsync the directory.

    A crash at any point leaves either the old or the new document, never half of one."""
    tmp = f".{name}.{os.getpid()}.tmp"
    data = (json.dumps(doc, indent=1) + "\n").encode("utf-8")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp, dir_fd=dir_fd)
    replace_file(dir_fd, name, data, tmp,
                 opened=lambda path: open_file(dir_fd, path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, shown))


def read_json(dir_fd: int, name: str) -> dict[str, Any]:
    """A JSON document written by `write_json` (OSError, ValueError as they come)."""
    fd = open_file(dir_fd, name, os.O_RDONLY)
    with os.fdopen(fd, "rb") as handle:
        doc = json.loads(handle.read(1 << 20))
    if not isinstance(doc, dict):
        raise ValueError(f"{name} is not a JSON object")
    return doc


def remove(dir_fd: int, name: str) -> None:
    """Remove `name` and make the removal durable."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name, dir_fd=dir_fd)
    os.fsync(dir_fd)
