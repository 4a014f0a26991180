"""Live migration with pass-through handled: preflight, then detach → migrate → re-attach, or roll back.

Pass-through devices block live migration (DESIGN.md §5), so they are taken off first, each removal
proven, and put back on the destination afterwards. Nothing may be lost: on any failure the guest stays
(or is left) where it runs and every device goes back onto it; a device that cannot be put back is
reported with its XML and the exact virsh command, and written to the audit log.

Blocking functions: call them from a worker thread or a command.
"""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import libvirt

from ztui.domxml import parse_domain
from ztui.libvirt.connection import libvirt_reason
from ztui.model import DeviceKind, GuestDevice
from ztui.ops.audit import record
from ztui.ops.hotplug import BadRequest, find_for_detach
from ztui.ops.proof import attach, detach


@dataclass(frozen=True)
class MigrationOptions:
    passthrough: str = "detach-reattach"  # or "refuse"
    extra_detach: tuple[str, ...] = ()
    unsafe: bool = False
    copy_storage: bool = False
    bandwidth_mib: int = 0
    persistent: bool = False
    undefine_source: bool = False
    auto_converge: bool = False
    postcopy: bool = False
    detach_timeout: float = 15.0


@dataclass(frozen=True)
class Finding:
    """One preflight result: a `blocker` stops the migration, a `note` only informs."""

    severity: str
    text: str


@dataclass(frozen=True)
class Preflight:
    findings: tuple[Finding, ...]
    to_move: tuple[GuestDevice, ...]  # detached before, attached on the destination after

    @property
    def ok(self) -> bool:
        return not any(f.severity == "blocker" for f in self.findings)


@dataclass(frozen=True)
class DeviceFate:
    """Where one moved device ended up: `destination`, `source` (rolled back) or `lost` (manual action)."""

    name: str
    xml: str
    state: str
    message: str = ""
    virsh: str = ""


@dataclass(frozen=True)
class MigrationReport:
    guest: str
    runs_on: str  # the URI where the guest runs now
    migrated: bool
    message: str
    seconds: float
    devices: tuple[DeviceFate, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.migrated and all(d.state == "destination" for d in self.devices)

    def to_json(self) -> dict[str, Any]:
        return {"type": "report", "guest": self.guest, "runs_on": self.runs_on, "migrated": self.migrated,
                "ok": self.ok, "message": self.message, "seconds": round(self.seconds, 3),
                "devices": [d.__dict__ for d in self.devices]}


def _name(device: GuestDevice) -> str:
    return device.target or device.alias or device.kind.value


def _local_disk(device: GuestDevice) -> bool:
    return device.kind in (DeviceKind.DISK, DeviceKind.CDROM, DeviceKind.LUN) and device.detail("type") in (
        "file", "block") and bool(device.source)


def preflight(src: libvirt.virConnect, dom: libvirt.virDomain, dest: libvirt.virConnect,
              options: MigrationOptions) -> Preflight:
    """Everything that can be known before anything changes, each finding with its reason."""
    guest = parse_domain(dom.XMLDesc(0), what=f"XML of guest {dom.name()}")
    findings: list[Finding] = []
    to_move: list[GuestDevice] = []
    if not dom.isActive():
        findings.append(Finding("blocker", f"{guest.name} is not running: live migration needs a running guest"))
    findings.extend(_clash_on_destination(dest, guest.name, guest.uuid))
    for device in guest.devices:
        if not device.migration_blocker:
            continue
        if device.kind is DeviceKind.MDEV_VFIO_AP:
            findings.append(Finding("blocker", f"{_name(device)}: {device.blocker_reason}; stop the guest and "
                                               "migrate it offline, or remove the crypto adapter from its config"))
        elif options.passthrough == "refuse":
            findings.append(Finding("blocker", f"{_name(device)} blocks migration: {device.blocker_reason}"))
        else:
            findings.append(Finding("note", f"{_name(device)} will be detached and re-attached: "
                                            f"{device.blocker_reason}"))
            to_move.append(device)
    for name in options.extra_detach:
        try:
            device = find_for_detach(guest, name)
        except BadRequest as exc:
            findings.append(Finding("blocker", str(exc)))
            continue
        if device not in to_move:
            to_move.append(device)
            findings.append(Finding("note", f"{_name(device)} will be moved around the migration (--detach)"))
    moved = {id(d) for d in to_move}
    local = [d for d in guest.devices if _local_disk(d) and id(d) not in moved]
    if local and not (options.unsafe or options.copy_storage):
        names = ", ".join(_name(d) for d in local)
        findings.append(Finding("blocker", f"disks on local storage ({names}): choose --unsafe if the same paths "
                                           "are shared with the destination, or --copy-storage to copy them"))
    for device in to_move:
        missing = _missing_on_destination(dest, device)
        if missing:
            findings.append(Finding("blocker", missing))
    return Preflight(tuple(findings), tuple(to_move))


def _clash_on_destination(dest: libvirt.virConnect, name: str, uuid: str) -> list[Finding]:
    """A running guest of this name or UUID on the destination blocks; its own inactive definition (left by
    an earlier migration) does not, and another guest's definition under the same name does."""
    for lookup, key in ((dest.lookupByUUIDString, uuid), (dest.lookupByName, name)):
        try:
            other = lookup(key)
        except libvirt.libvirtError:
            continue
        if other.isActive():
            return [Finding("blocker", f"a guest {key} already runs on the destination")]
        if other.UUIDString() != uuid:
            return [Finding("blocker", f"the destination defines another guest named {name} "
                                       f"(UUID {other.UUIDString()})")]
        return [Finding("note", f"the destination keeps an inactive definition of {name}; it is updated")]
    return []


def _missing_on_destination(dest: libvirt.virConnect, device: GuestDevice) -> str:
    """Why the destination cannot take a pass-through device back, or empty when it can."""
    if device.kind in (DeviceKind.MDEV_VFIO_CCW, DeviceKind.MDEV_OTHER):
        names = [d.name() for d in dest.listAllDevices(libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_MDEV)]
        wanted = device.source.replace("-", "_")
        if not any(wanted in n for n in names):
            return f"{_name(device)}: the destination has no mdev {device.source} to attach after the migration"
    elif device.kind is DeviceKind.HOSTDEV_PCI:
        wanted = "pci_" + device.source.replace(":", "_").replace(".", "_")
        try:
            dest.nodeDeviceLookupByName(wanted)
        except libvirt.libvirtError:
            return f"{_name(device)}: the destination has no PCI function {device.source}"
    return ""


def migration_uri(dest_uri: str) -> str:
    """`tcp://<host>` for the data stream: the destination's host, or loopback for a local daemon."""
    host = urlsplit(dest_uri).hostname or ""
    if host in ("", "localhost"):
        host = "127.0.0.1"
    return f"tcp://{host}"


def _flags(options: MigrationOptions) -> int:
    flags = libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER
    for wanted, flag in ((options.persistent, libvirt.VIR_MIGRATE_PERSIST_DEST),
                         (options.undefine_source, libvirt.VIR_MIGRATE_UNDEFINE_SOURCE),
                         (options.unsafe, libvirt.VIR_MIGRATE_UNSAFE),
                         (options.copy_storage, libvirt.VIR_MIGRATE_NON_SHARED_DISK),
                         (options.auto_converge, libvirt.VIR_MIGRATE_AUTO_CONVERGE),
                         (options.postcopy, libvirt.VIR_MIGRATE_POSTCOPY)):
        if wanted:
            flags |= flag
    return int(flags)


def virsh_migrate(src_uri: str, guest: str, dest_uri: str, options: MigrationOptions) -> str:
    words = ["virsh", "-c", src_uri, "migrate", "--live", "--p2p", guest, dest_uri,
             "--migrateuri", migration_uri(dest_uri)]
    for wanted, word in ((options.persistent, "--persistent"), (options.undefine_source, "--undefinesource"),
                         (options.unsafe, "--unsafe"), (options.copy_storage, "--copy-storage-all"),
                         (options.auto_converge, "--auto-converge"), (options.postcopy, "--postcopy")):
        if wanted:
            words.append(word)
    if options.bandwidth_mib:
        words += ["--bandwidth", str(options.bandwidth_mib)]
    return shlex.join(words)


PROGRESS_KEYS = {"time_elapsed": "elapsed_ms", "data_total": "data_total", "data_processed": "data_processed",
                 "data_remaining": "data_remaining", "memory_processed": "memory_processed",
                 "memory_remaining": "memory_remaining", "memory_total": "memory_total",
                 "memory_bps": "memory_bps", "memory_dirty_rate": "dirty_rate", "memory_iteration": "iteration"}


def progress_of(stats: dict[str, Any]) -> dict[str, Any]:
    return {"type": "progress", **{ours: stats[theirs] for theirs, ours in PROGRESS_KEYS.items() if theirs in stats}}


def _attach_back(conn: libvirt.virConnect, dom: libvirt.virDomain, uri: str, devices: list[GuestDevice],
                 state: str) -> list[DeviceFate]:
    """Put devices onto a running guest; each that fails is `lost`, with the command to do it by hand."""
    fates = []
    for device in devices:
        change = attach(conn, dom, device.xml, live=True, config=False)
        command = shlex.join(["virsh", "-c", uri, "attach-device", dom.name(), "device.xml", "--live"])
        if change.ok:
            fates.append(DeviceFate(_name(device), device.xml, state, change.message))
        else:
            fates.append(DeviceFate(_name(device), device.xml, "lost", change.message, command))
            record("migrate-device-lost", uri, dom.name(), "needs manual action", xml=device.xml, virsh=command,
                   message=change.message)
    return fates


def run_migration(src: libvirt.virConnect, src_uri: str, dom: libvirt.virDomain, dest: libvirt.virConnect,
                  dest_uri: str, options: MigrationOptions, to_move: tuple[GuestDevice, ...],
                  on_progress: Callable[[dict[str, Any]], None] | None = None,
                  abort: threading.Event | None = None) -> MigrationReport:
    """Detach → migrate (progress ~10/s) → attach on the destination; roll back on any failure."""
    started = time.monotonic()
    name = dom.name()
    detached: list[GuestDevice] = []
    for device in to_move:
        change = detach(src, dom, device, live=True, config=False, timeout=options.detach_timeout)
        if not change.ok:
            fates = _attach_back(src, dom, src_uri, detached, "source")
            if change.outcome.value == "removal pending":
                fates.append(DeviceFate(_name(device), device.xml, "source", change.message))
            return MigrationReport(name, src_uri, False, f"{_name(device)} could not be detached: {change.message}",
                                   time.monotonic() - started, tuple(fates))
        detached.append(device)
    params: dict[str, Any] = {libvirt.VIR_MIGRATE_PARAM_URI: migration_uri(dest_uri)}
    if urlsplit(dest_uri).hostname in (None, "", "localhost", "127.0.0.1"):
        params[libvirt.VIR_MIGRATE_PARAM_LISTEN_ADDRESS] = "127.0.0.1"
    if options.bandwidth_mib:
        params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = options.bandwidth_mib
    error: list[str] = []
    done = threading.Event()

    def migrate() -> None:
        try:
            dom.migrateToURI3(dest_uri, params, _flags(options))
        except libvirt.libvirtError as exc:
            error.append(libvirt_reason(exc))
        finally:
            done.set()

    worker = threading.Thread(target=migrate, name=f"migrate {name}", daemon=True)
    worker.start()
    aborted = False
    interval = 0.02  # the first look comes early: an idle guest may be done in a few hundred ms
    while not done.wait(interval):
        interval = 0.1
        if abort is not None and abort.is_set() and not aborted:
            aborted = True
            try:
                dom.abortJob()
            except libvirt.libvirtError as exc:
                error.append(f"abort failed: {libvirt_reason(exc)}")
        if on_progress is not None:
            try:
                stats = dom.jobStats()
            except libvirt.libvirtError:
                continue
            if stats.get("type", 0) != libvirt.VIR_DOMAIN_JOB_NONE:
                on_progress(progress_of(stats))
    worker.join()
    if on_progress is not None and not error:
        try:  # the totals of the finished job, so the figures end at completion
            final = dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
        except libvirt.libvirtError:
            final = {}
        if final:
            on_progress({**progress_of(final), "completed": True})
    if error:
        fates = _attach_back(src, dom, src_uri, detached, "source")
        reason = "aborted by the user" if aborted else error[0]
        return MigrationReport(name, src_uri, False, f"migration failed: {reason}; {name} keeps running here",
                               time.monotonic() - started, tuple(fates))
    new_dom = dest.lookupByUUIDString(dom.UUIDString())
    fates = _attach_back(dest, new_dom, dest_uri, detached, "destination")
    lost = [f for f in fates if f.state == "lost"]
    message = f"{name} runs on {dest_uri}" + (f"; {len(lost)} device(s) need manual action" if lost else "")
    return MigrationReport(name, dest_uri, True, message, time.monotonic() - started, tuple(fates))

