"""Whether a host's libvirt guards disks against a second writer on another host: its lock manager.

libvirt refuses to start a guest whose disks another guest holds only when its QEMU driver has a lock
manager (`lock_manager = "lockd"` with virtlockd, or `"sanlock"`, in qemu.conf) — and across hosts only when
that manager's locks reach them (libvirt's kbase/locking-lockd.rst and locking-sanlock.rst):

- lockd locks each disk's own path by default; on a block device — a DASD, a LUN, a multipath map — such a
  lock holds only within the host ("locks acquired on device nodes in /dev only apply within the host").
  Hosts that share block devices need `file_lockspace_dir` in qemu-lockd.conf, on a directory every host
  shares; with `auto_disk_leases = 0` nothing is locked unless the guest's XML has `<lease>` elements;
- sanlock leases disks automatically only with `auto_disk_leases = 1` (its default is 0).

Without that, nothing but the administrator stops two hosts that share DASD or LUNs from running the same
guest twice. ztui checks its own hosts before it starts a guest (`ztui.ops.safety.other_copies`), but a `virsh
start` or another tool does not, so where hosts share volumes and libvirt would not refuse, ztui says so
once per host, with what to configure.

The settings live in the daemon's configuration files, which libvirt does not expose over its API. A daemon
on this machine's kernel is read through its own root (`/proc/PID/root/etc/libvirt/…`: a lab host's
namespace included); for a remote host it cannot be known, and that is what is said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from ztui.host.place import daemon_root

QEMU_CONF = "/etc/libvirt/qemu.conf"
LOCKD_CONF = "/etc/libvirt/qemu-lockd.conf"
SANLOCK_CONF = "/etc/libvirt/qemu-sanlock.conf"
SHARED_LOCKSPACE = f"file_lockspace_dir in {LOCKD_CONF} on a directory every host shares"
ADVICE = (f'set lock_manager = "lockd" in {QEMU_CONF} and {SHARED_LOCKSPACE} (locks on block devices such as '
          "DASD and LUNs reach the other hosts only through it), and run virtlockd; or use sanlock with "
          "auto_disk_leases = 1")


class LockManager(StrEnum):
    LOCKD = "lockd"
    SANLOCK = "sanlock"
    NONE = "none"  # qemu.conf read: no lock manager (libvirt's default, "nop")
    UNKNOWN = "unknown"  # qemu.conf could not be read (a remote host)


@dataclass(frozen=True)
class LockState:
    manager: LockManager
    why: str = ""  # UNKNOWN: why it could not be read; LOCKD, SANLOCK: why its locks do not reach other hosts

    @property
    def guards(self) -> bool:
        """Whether libvirt there refuses a second copy of a guest whose disks another host runs."""
        return self.manager in (LockManager.LOCKD, LockManager.SANLOCK) and not self.why


def setting(conf: str, key: str) -> str | None:
    """The value of `key` in a libvirt configuration file (virconf: `key = "text"`, `'text'` or a number; the
    last uncommented one counts); None when it is not set."""
    found = re.findall(rf"""^[ \t]*{re.escape(key)}[ \t]*=[ \t]*(?:"([^"\n]*)"|'([^'\n]*)'|(-?\d+))""", conf,
                       re.MULTILINE)
    if not found:
        return None
    double, single, number = found[-1]
    return str(double or single or number)


def flag(conf: str, key: str) -> bool | None:
    """A boolean setting (virconf writes one as 0 or 1); None when it is not set, or set to something
    else (which libvirt itself refuses to load), so the caller's default decides."""
    return {"0": False, "1": True}.get(setting(conf, key) or "")


def configured(qemu_conf: str) -> LockManager:
    """The lock manager a qemu.conf configures ("nop", unset or anything else: none)."""
    value = setting(qemu_conf, "lock_manager")
    return next((m for m in (LockManager.LOCKD, LockManager.SANLOCK) if m.value == value), LockManager.NONE)


def reach(manager: LockManager, conf: str) -> str:
    """Why the locks of `manager`, configured by `conf` (qemu-lockd.conf or qemu-sanlock.conf, '' when there
    is none), do not stop a second copy on another host that shares block devices; '' when they do."""
    auto = flag(conf, "auto_disk_leases")  # lockd leases disks unless it is 0; sanlock only when it is 1
    if manager is LockManager.LOCKD:
        if auto is False:
            return f"auto_disk_leases = 0 in {LOCKD_CONF}: disks without a <lease> in the guest's XML are not locked"
        if not setting(conf, "file_lockspace_dir"):
            return (f"without file_lockspace_dir in {LOCKD_CONF} its locks on block devices (DASD, LUNs) hold only "
                    "within the host")
    elif manager is LockManager.SANLOCK and auto is not True:
        return (f"auto_disk_leases is not 1 in {SANLOCK_CONF}: disks without a <lease> in the guest's XML are not "
                "leased")
    return ""


def lock_state(uri: str) -> LockState:
    """Read the host's qemu.conf (and its lock manager's file) where this process can — a daemon on this
    kernel —, else UNKNOWN."""
    root = daemon_root(uri)
    if root is None:
        return LockState(LockManager.UNKNOWN, "its qemu.conf cannot be read over libvirt")
    try:
        manager = configured(_read(f"{root}{QEMU_CONF}"))
        if manager is LockManager.NONE:
            return LockState(manager)
        own = LOCKD_CONF if manager is LockManager.LOCKD else SANLOCK_CONF
        return LockState(manager, reach(manager, _read(f"{root}{own}")))
    except OSError as exc:  # the path as the daemon sees it, not through /proc/PID/root
        path = str(exc.filename or "").removeprefix(root) or QEMU_CONF
        return LockState(LockManager.UNKNOWN, f"{path} cannot be read: {exc.strerror or exc}")


def _read(path: str) -> str:
    """A configuration file's text; '' when there is none (libvirt's defaults then)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as conf:
            return conf.read()
    except FileNotFoundError:
        return ""


def lock_advice(host: str, state: LockState) -> str:
    """One sentence for a host whose libvirt does not (or may not) refuse a second copy on shared disks; ''
    when it does."""
    if state.guards:
        return ""
    if state.manager is LockManager.UNKNOWN:
        return (f"{host}: whether libvirt there has a lock manager is unknown ({state.why}); without one only "
                f"ztui stops a second copy of a guest on shared disks: {ADVICE}")
    if state.manager is LockManager.NONE:
        return f"{host}: libvirt there has no lock manager, so only ztui stops a second copy of a guest on " \
               f"shared disks: {ADVICE}"
    fix = (f"set {SHARED_LOCKSPACE}" if state.manager is LockManager.LOCKD else
           f"set auto_disk_leases = 1 and host_id in {SANLOCK_CONF}, with its disk_lease_dir on storage every "
           "host shares")
    return (f"{host}: libvirt there uses {state.manager.value}, but {state.why}, so only ztui stops a second copy "
            f"of a guest on shared disks: {fix}")
