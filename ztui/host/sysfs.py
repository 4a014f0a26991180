"""The local host's sysfs as the preparation steps read and write it: attributes, driver links, proofs,
and a device's Z attributes as a record in the kernel's words (read through `ztui.zsysfs`, like a walk's).

Only this machine's own host is prepared through sysfs (a remote host's mdevs go through libvirt's
node-device API). Every path is given relative to the sysfs root, so tests run the same code under
umockdev (which redirects `/sys` for the process) and a preparation step can name each attribute it
writes exactly as an administrator would `echo` it. A failed write raises `SysfsError` with the kernel's
reason (EBUSY, EINVAL, …), because the kernel often refuses a write for a reason worth showing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ztui.facts import FactSource
from ztui.model import Fact, HostDevice, HostDeviceKind
from ztui.zsysfs import report_misreads

SYSFS = "/sys"
#: how the records read from this machine's sysfs are named when a value is not in the kernel's format
THIS_HOST = "this machine's sysfs"


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

    def record(self, kind: HostDeviceKind, ident: str, base: str, keys: Sequence[str], driver: str = "") -> HostDevice:
        """A device as sysfs shows it now, in the kernel's words: the attributes `keys` of directory `base` that
        can be read, each a fact its reader in `ztui.zsysfs` answers. A preparation judges a device as it is
        at that moment, not as the host's walk found it; a value not in the kernel's format is said once, as
        the walk says it."""
        source = FactSource.UDEV.value
        facts = tuple(Fact(key, text, source) for key in keys if (text := self.read(f"{base}/{key}")) is not None)
        found = HostDevice(kind, ident, ident, driver=driver, facts=facts, source=source)
        report_misreads(THIS_HOST, (found,))
        return found

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
