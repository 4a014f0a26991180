"""What the host system itself has in use, as its kernel lists it: the file systems it mounts and the swap
areas it uses (read by `ztui.host.files`, carried by a snapshot, written by the simulated host). Which device
each of them takes from the host is `ztui.host.hostuse`'s answer. Pure records and parsers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Mount:
    """One line of mountinfo: where, what and which device (`major:minor`)."""

    mount_point: str
    fs_type: str
    source: str
    majmin: str


@dataclass(frozen=True, slots=True)
class Swap:
    """One active swap area of `/proc/swaps`: its path and whether it is a `partition` or a `file`."""

    path: str
    type: str = "partition"


@dataclass(frozen=True, slots=True)
class SystemUse:
    """What the host system itself has in use, as its kernel lists it: mounted file systems and swap."""

    mounts: tuple[Mount, ...] = ()
    swaps: tuple[Swap, ...] = ()

    @property
    def known(self) -> bool:
        """Whether the mount table was read at all: a running Linux always mounts its root, so an empty one
        is a table nobody read (a host known only through libvirt), not a host that mounts nothing."""
        return bool(self.mounts)


NOTHING = SystemUse()
"""No mounts, no swap: what is known of a host whose kernel is not read (remote, saved XML alone)."""


def parse_swaps(text: str) -> list[Swap]:
    """`/proc/swaps` (mm/swapfile.c `swap_show`): a header, then the path (space, tab, newline and
    backslash as octal escapes), its type and three numbers per line; damaged lines are skipped."""
    found = []
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[1] in ("partition", "file"):
            found.append(Swap(unescape(parts[0]), parts[1]))
    return found


def unescape(text: str) -> str:
    """The kernel writes space, tab, newline and backslash in paths as octal escapes (`\\040`)."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and len(text[i + 1:i + 4]) == 3 and text[i + 1:i + 4].isdigit():
            out.append(chr(int(text[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


# --- the computation ---------------------------------------------------------------------------------------
