"""File-system facts about paths guests use: does the image exist, on which mount and block device.

The only I/O here is `stat` and reading `/proc/self/mountinfo`; the results are `FileInfo` records the
pure resolver consumes. Kept apart from `ztui.host.resolve` so the resolver stays testable without a real file
system, and apart from `ztui.host.udev` because it needs no udev (it also works in a container).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable

from ztui.host.index import FileInfo, FileKind
from ztui.host.system import Mount, Swap, SystemUse, parse_swaps, unescape

__all__ = ["Mount", "Swap", "files_info", "mount_of", "parse_mountinfo", "read_mounts", "read_swaps", "read_system_use"]

MOUNTINFO = "/proc/self/mountinfo"
SWAPS = "/proc/swaps"


def parse_mountinfo(text: str) -> list[Mount]:
    """Every mount of a mountinfo text; damaged lines are skipped."""
    mounts = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 7 or "-" not in parts[6:]:
            continue
        sep = parts.index("-", 6)
        if len(parts) < sep + 3:
            continue
        mounts.append(Mount(mount_point=unescape(parts[4]), fs_type=parts[sep + 1],
                            source=unescape(parts[sep + 2]), majmin=parts[2]))
    return mounts


def read_mounts(path: str = MOUNTINFO) -> list[Mount]:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return parse_mountinfo(f.read())
    except OSError:
        return []


def read_swaps(path: str = SWAPS) -> list[Swap]:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return parse_swaps(f.read())
    except OSError:
        return []


def read_system_use() -> SystemUse:
    """This machine's own mounts and swap areas, read now."""
    return SystemUse(tuple(read_mounts()), tuple(read_swaps()))


def mount_of(path: str, mounts: list[Mount]) -> Mount | None:
    """The mount a path lives on: the longest mount point that contains it (the last one wins when
    several are stacked on the same point)."""
    best: Mount | None = None
    for m in mounts:
        mp = m.mount_point.rstrip("/") or "/"
        if (path == mp or path.startswith(mp + "/") or mp == "/") and (
                best is None or len(mp) >= len(best.mount_point.rstrip("/") or "/")):
            best = m
    return best


def _kind(mode: int) -> FileKind:
    if stat.S_ISREG(mode):
        return FileKind.FILE
    if stat.S_ISDIR(mode):
        return FileKind.DIRECTORY
    if stat.S_ISBLK(mode):
        return FileKind.BLOCK
    if stat.S_ISCHR(mode):
        return FileKind.CHAR
    return FileKind.OTHER


def files_info(paths: Iterable[str]) -> tuple[FileInfo, ...]:
    """Facts about several paths, reading mountinfo once."""
    unique = list(dict.fromkeys(p for p in paths if p))
    if not unique:
        return ()
    examiner = _FileExaminer(read_mounts())
    return tuple(examiner.examine(p) for p in unique)


class _FileExaminer:
    """Examines paths that mostly share a few directories (a host's images live in a handful of pools):
    each directory is resolved and matched against the mounts once, then a plain file costs one `lstat`.
    What it reports is exactly what `os.path.realpath` and `mount_of` say of the path itself."""

    def __init__(self, mounts: list[Mount]) -> None:
        self.mounts = mounts
        self.at_point = {(m.mount_point.rstrip("/") or "/"): m for m in mounts}  # the last one stacked wins
        self.real_dirs: dict[str, str] = {}
        self.dir_mounts: dict[str, Mount | None] = {}

    def examine(self, path: str) -> FileInfo:
        try:
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                st = os.stat(path)
                real = os.path.realpath(path)
                real_dir = os.path.dirname(real)
            else:
                real, real_dir = self._real(path)
        except OSError as exc:
            return FileInfo(path=path, exists=False, error=exc.strerror or str(exc))
        mount = self.at_point.get(real) or self._dir_mount(real_dir)
        majmin = f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}"
        return FileInfo(
            path=path, exists=True, realpath=real, kind=_kind(st.st_mode),
            size=st.st_size if stat.S_ISREG(st.st_mode) else None,
            mount_point=mount.mount_point if mount else "", fs_type=mount.fs_type if mount else "",
            mount_source=mount.source if mount else "", majmin=majmin,
        )

    def _real(self, path: str) -> tuple[str, str]:
        """realpath of a path that is not a symlink itself (its directory's realpath plus its name), and
        the directory it is in."""
        if not path.startswith("/") or "/." in path or "//" in path or path.endswith("/"):
            # relative, `.`, `..` or doubled slashes: `..` after a symlink means its target's parent
            real = os.path.realpath(path)
            return real, os.path.dirname(real)
        directory, _, name = path.rpartition("/")
        real_dir = self.real_dirs.get(directory)
        if real_dir is None:
            real_dir = self.real_dirs[directory] = os.path.realpath(directory or "/")
        return (real_dir + name if real_dir.endswith("/") else f"{real_dir}/{name}"), real_dir

    def _dir_mount(self, directory: str) -> Mount | None:
        found = self.dir_mounts.get(directory, _UNKNOWN)
        if found is _UNKNOWN:
            found = self.dir_mounts[directory] = mount_of(directory, self.mounts)
        return found if isinstance(found, Mount) else None


_UNKNOWN = object()
