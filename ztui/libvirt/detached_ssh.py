"""libvirt's ssh without ztui's terminal: the program a `qemu+ssh://` connection runs (its `command=`).

`no_tty=1` has libvirt run `ssh -o BatchMode=yes`, so ssh itself never asks. But ssh, and everything it
starts, still has ztui's terminal as its controlling terminal, and what it starts may ask there: the ssh a
`ProxyJump` runs (OpenSSH does not pass BatchMode on to it) asks "yes/no" for a jump host's key it has not
seen, a `ProxyCommand` may read a password from /dev/tty. On the TUI that takes the keys typed at ztui and
tears the screen, and the prompt stays there, reading the terminal, after ztui has given up on the host.

So the ssh libvirt runs is a short script that starts the real one (the URI's `command=`, else `ssh`)
through `setsid`: in a session of its own, without a controlling terminal, where /dev/tty cannot be opened.
What would have asked fails instead and says so on ssh's stderr, which libvirt reports (`ssh_problem` turns
it into one line). Keys from ssh-agent and keys without a passphrase work as before.

The script is written once for each command into `ssh/` of ztui's state directory (0700, never through a
symlink; not /tmp, which is often mounted noexec), named by its own text and replaced atomically. Where it
cannot be made (no `setsid`, a state directory that cannot be used or does not allow running a file), the
URI keeps its own command with BatchMode alone, and the reason is logged.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shlex
import shutil
import stat
import threading

from ztui.atomic import replace_file
from ztui.errors import StateUnwritable
from ztui.statefiles import open_dir, state_dir

log = logging.getLogger("ztui.libvirt")

SUBDIR = "ssh"
MODE = 0o700

_made: dict[tuple[str, str], str | None] = {}  # (state directory, command): the script, None if it cannot be
_lock = threading.Lock()


def script_text(command: str, setsid: str) -> str:
    """The script: `command` with the arguments libvirt gives, in a new session (`setsid -w` keeps ssh's exit
    status when setsid has to fork)."""
    return ("#!/bin/sh\n"
            "# ztui: libvirt's ssh in a session of its own, so that nothing can ask on ztui's terminal\n"
            f'exec {shlex.quote(setsid)} -w {shlex.quote(command)} "$@"\n')


def detached_ssh(command: str) -> str | None:
    """The path of the script that runs `command` without a controlling terminal, made on first use (and
    again if it went away since); None when it cannot be made (logged once)."""

    key = (str(state_dir()), command)
    with _lock:
        made = _made.get(key, "")
        if made == "" or (made is not None and not os.access(made, os.X_OK)):
            _made[key] = made = _make(command)
        return made


def _make(command: str) -> str | None:
    setsid = shutil.which("setsid")
    if setsid is None:
        log.warning("no setsid: ssh connections keep ztui's terminal (only ssh's BatchMode stops prompts)")
        return None
    text = script_text(command, setsid).encode("utf-8")
    name = "ssh-" + hashlib.sha256(text).hexdigest()[:16]
    path = state_dir() / SUBDIR / name
    try:
        with open_dir(SUBDIR) as dfd:
            if not _already(dfd, name, text):
                replace_file(dfd, name, text, f".{name}.{os.getpid()}.tmp", opened=lambda tmp: _create(dfd, tmp))
    except (StateUnwritable, OSError) as exc:
        log.warning("ssh connections keep ztui's terminal: %s cannot be written: %s", path, exc)
        return None
    if not os.access(path, os.X_OK):  # a file system mounted noexec
        log.warning("ssh connections keep ztui's terminal: %s cannot be run", path)
        return None
    return str(path)


def _create(dfd: int, name: str) -> int:
    with contextlib.suppress(FileNotFoundError):  # left by a process of the same pid that was killed
        os.unlink(name, dir_fd=dfd)
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, MODE, dir_fd=dfd)
    os.fchmod(fd, MODE)  # whatever the umask
    return fd


def _already(dfd: int, name: str, text: bytes) -> bool:
    """Whether `name` is this script already: ours, 0700, this text (written by an earlier ztui)."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
    except OSError:
        return False
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or stat.S_IMODE(info.st_mode) != MODE:
            return False
        return handle.read(len(text) + 1) == text
