"""Whether a host's libvirt guards disks against a second writer: its lock manager.

libvirt refuses to start a guest whose disks another guest holds only when its QEMU driver has a lock
manager (`lock_manager = "lockd"` with virtlockd, or `"sanlock"`, in qemu.conf); without one, nothing but
the administrator stops two hosts that share DASD or LUNs from running the same guest twice. ztui checks
its own hosts before it starts a guest (`ztui.ops.other_copies`), but a `virsh start` or another tool does
not, so where hosts share volumes and no lock manager is configured, ztui says so once per host, with what
to configure.

The setting lives in the daemon's qemu.conf, which libvirt does not expose over its API. A daemon on this
machine's kernel is read through its own root (`/proc/PID/root/etc/libvirt/qemu.conf`: a lab host's
namespace included); for a remote host it cannot be known, and that is what is said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from ztui.host.place import daemon_root

QEMU_CONF = "/etc/libvirt/qemu.conf"
ADVICE = f'set lock_manager = "lockd" in {QEMU_CONF} and run virtlockd (or use sanlock)'


class LockManager(StrEnum):
    LOCKD = "lockd"
    SANLOCK = "sanlock"
    NONE = "none"  # qemu.conf read: no lock manager (libvirt's default, "nop")
    UNKNOWN = "unknown"  # qemu.conf could not be read (a remote host)


@dataclass(frozen=True)
class LockState:
    manager: LockManager
    why: str = ""  # for UNKNOWN: why it could not be read

    @property
    def guards(self) -> bool:
        return self.manager in (LockManager.LOCKD, LockManager.SANLOCK)


_SETTING = re.compile(r'^\s*lock_manager\s*=\s*"([^"]*)"', re.MULTILINE)


def configured(qemu_conf: str) -> LockManager:
    """The lock manager a qemu.conf configures (the last uncommented `lock_manager = "…"` counts)."""
    found = _SETTING.findall(qemu_conf)
    value = found[-1].strip() if found else ""
    if value == "lockd":
        return LockManager.LOCKD
    if value == "sanlock":
        return LockManager.SANLOCK
    return LockManager.NONE


def lock_state(uri: str) -> LockState:
    """Read the host's qemu.conf where this process can (a daemon on this kernel), else UNKNOWN."""
    root = daemon_root(uri)
    if root is None:
        return LockState(LockManager.UNKNOWN, "its qemu.conf cannot be read over libvirt")
    try:
        with open(f"{root}{QEMU_CONF}", encoding="utf-8", errors="replace") as conf:
            return LockState(configured(conf.read()))
    except FileNotFoundError:
        return LockState(LockManager.NONE)
    except OSError as exc:
        return LockState(LockManager.UNKNOWN, f"{QEMU_CONF} cannot be read: {exc.strerror or exc}")


def lock_advice(host: str, state: LockState) -> str:
    """One sentence for a host whose libvirt does not (or may not) guard shared disks; '' when it does."""
    if state.guards:
        return ""
    if state.manager is LockManager.UNKNOWN:
        return (f"{host}: whether libvirt there has a lock manager is unknown ({state.why}); without one only "
                f"ztui stops a second copy of a guest on shared disks: {ADVICE}")
    return f"{host}: libvirt there has no lock manager, so only ztui stops a second copy of a guest on shared " \
           f"disks: {ADVICE}"
