"""The local host's sysfs as the preparation steps read and write it: attributes, driver links, proofs.

Only this machine's own host is prepared through sysfs (a remote host's mdevs go through libvirt's
node-device API). Every path is given relative to the sysfs root, so tests run the same code under
umockdev (which redirects `/sys` for the process) and a preparation step can name each attribute it
writes exactly as an administrator would `echo` it. A failed write raises `SysfsError` with the kernel's
reason (EBUSY, EINVAL, …), because the kernel often refuses a write for a reason worth showing.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

SYSFS = "/sys"


class SysfsError(OSError):
    """A sysfs read or write failed; the message names the attribute and the kernel's reason."""


@dataclass(frozen=True)
class Sysfs:
    """A sysfs tree rooted at `root` (the real `/sys`, which umockdev redirects in tests)."""

    root: str = SYSFS

    def path(self, rel: str) -> Path:
        return Path(self.root, rel.lstrip("/"))

    def exists(self, rel: str) -> bool:
        return self.path(rel).exists()

    def read(self, rel: str) -> str | None:
        """An attribute's value without the trailing newline, None when it does not exist or cannot be read."""
        try:
            return self.path(rel).read_text(encoding="utf-8", errors="replace").rstrip("\n")
        except OSError:
            return None

    def link_name(self, rel: str) -> str:
        """The last component of a symlink's target (a device's `driver`), empty when there is none."""
        try:
            return os.path.basename(os.readlink(self.path(rel)))
        except OSError:
            return ""

    def children(self, rel: str) -> list[str]:
        try:
            return sorted(os.listdir(self.path(rel)))
        except OSError:
            return []

    def device_dir(self, rel: str) -> str:
        """The device directory a `/sys/bus/…/devices/X` link leads to, relative to the root."""
        real = os.path.realpath(self.path(rel))
        root = os.path.realpath(self.root)
        return os.path.relpath(real, root) if real.startswith(root + os.sep) else rel

    def write(self, rel: str, value: str) -> None:
        """Write one value, as `echo value > /sys/rel` does (opened truncating, one write with a newline)."""
        try:
            fd = os.open(self.path(rel), os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as exc:
            raise SysfsError(f"cannot open /sys/{rel.lstrip('/')}: {exc.strerror or exc}") from None
        try:
            os.write(fd, (value + "\n").encode())
        except OSError as exc:
            raise SysfsError(f"the kernel refused '{value}' for /sys/{rel.lstrip('/')}: "
                             f"{exc.strerror or exc}") from None
        finally:
            os.close(fd)

    def wait_for(self, rel: str, expected: str, *, driver: bool = False, timeout: float = 3.0) -> bool:
        """Whether an attribute (or, with `driver`, the driver link name) reads `expected` within
        `timeout`: a bind or an offline completes asynchronously in the kernel."""
        deadline = time.monotonic() + timeout
        while True:
            now = self.link_name(rel) if driver else self.read(rel)
            if now == expected:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
