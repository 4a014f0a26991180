"""What a live migration must not break, judged in the preflight before anything changes.

- **One running copy.** The guest must not run on a third host ztui knows (`ztui.ops.safety.other_copies`):
  moving one copy while another writes the same disks only carries the damage along.
- **The boot device.** The device the guest IPLed from is never taken off the running guest
  (`ztui.ops.attach.boot`); a fallback boot device is named with the reason.
- **Only what can be unplugged.** A device moved around the migration (`--detach`) must be one libvirt and
  QEMU can take off (`ztui.ops.attach.unplug`).
- **`--copy-storage` that can succeed.** Each disk QEMU would copy needs a place on the destination:
  the same path, either an existing image of the disk's format or a storage pool that holds the path's
  directory (libvirt creates the image there). A path that is *the source's own file* — storage both hosts
  share — cannot be a copy's target: QEMU would copy the disk onto itself, and refuses
  (`block-export-add`: "Block node is read-only": the destination cannot take the image's write lock
  while the source holds it). Read-only and shareable disks are not copied at all (libvirt skips them),
  so the destination must already have them.
- **Shared disks without a lock manager** are said once per host (`ztui.ops.safety.lock_manager`).

`read_copy_targets` and `read_locks` read the hosts; `safety_findings` is pure.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import libvirt

from ztui.host.storage import HostFileKind, HostFiles, HostFilesError, host_files
from ztui.model import Guest, GuestDevice
from ztui.ops.attach.boot import boot_refusal
from ztui.ops.attach.prove import find_device
from ztui.ops.attach.unplug import unplug_refusal
from ztui.ops.migrate.findings import BLOCKER, NOTE, Code, Finding
from ztui.ops.migrate.plan import MigrationOptions, local_disk, name_of
from ztui.ops.migrate.read import ImageState, MigrationHost
from ztui.ops.safety.lock_manager import LockState, lock_advice, lock_state
from ztui.ops.safety.other_copies import CopyCheck


class TargetState(StrEnum):
    """Where a disk QEMU copies would land on the destination."""

    SAME_FILE = "same-file"  # the source's own file or device: storage both hosts share
    PRESENT = "present"  # an image (or block device) there, another than the source's
    CREATABLE = "creatable"  # missing; a pool holds its directory: libvirt creates it there
    NO_POOL = "no-pool"  # missing, and nothing there to create it in
    MISSING = "missing"  # missing (a block device, which libvirt cannot create)
    UNKNOWN = "unknown"  # the destination could not tell


@dataclass(frozen=True)
class CopyTarget:
    path: str
    state: TargetState
    detail: str = ""  # PRESENT: the image's format; CREATABLE: the pool; NO_POOL: why not


@dataclass(frozen=True)
class SafetyFacts:
    """What the hosts said, for `safety_findings`."""

    config: Guest | None = None  # the guest's persistent definition (None: transient, or not read)
    copies: CopyCheck | None = None  # the other hosts asked about the guest (None: not asked)
    targets: tuple[CopyTarget, ...] = ()  # with --copy-storage: each copied disk's place on the destination
    locks: tuple[tuple[str, LockState], ...] = ()  # (host name, its lock manager) when disks are shared


# --- judging (pure) ---------------------------------------------------------------------------------------

def safety_findings(guest: Guest, options: MigrationOptions, to_move: Sequence[GuestDevice], dest: MigrationHost,
                    facts: SafetyFacts) -> list[Finding]:
    """The findings of the rules in the module's docstring, for a live migration of `guest`."""
    found: list[Finding] = []
    for device in to_move:
        name = name_of(device)
        why = unplug_refusal(guest, device, live=True)
        if why:
            found.append(Finding(BLOCKER, f"{why}; it cannot be moved around the migration", Code.DETACH, name))
            continue
        defined = find_device(facts.config, device) is not None if facts.config is not None else None
        text, certain = boot_refusal(guest, device, defined)
        if text:
            found.append(Finding(BLOCKER if certain else NOTE, text, Code.BOOT_DEVICE, name))
    if facts.copies is not None:
        found.extend(_elsewhere(facts.copies))
    if options.copy_storage:
        moved = set(to_move)
        found.extend(_copy_storage(guest, [d for d in guest.devices if local_disk(d) and d not in moved],
                                   facts.targets, dest))
    for host, state in facts.locks:
        advice = lock_advice(host, state)
        if advice:
            found.append(Finding(NOTE, advice, Code.LOCK_MANAGER))
    return found


def _elsewhere(check: CopyCheck) -> list[Finding]:
    out = [Finding(BLOCKER, f"{check.guest.name} also runs on {c.name} ({c.state.value if c.state else '?'}): "
                            "two copies of one guest write the same disks; stop the other copy first",
                   Code.RUNS_ELSEWHERE) for c in check.running]
    out.extend(Finding(NOTE, f"ztui could not ask {c.name} whether {check.guest.name} runs there: {c.error}",
                       Code.RUNS_ELSEWHERE) for c in check.unanswered)
    return out


def _copy_storage(guest: Guest, disks: Sequence[GuestDevice], targets: Sequence[CopyTarget],
                  dest: MigrationHost) -> list[Finding]:
    found: list[Finding] = []
    where = {t.path: t for t in targets}
    present = dict(dest.files)
    for disk in disks:
        name, path = name_of(disk), disk.source
        if disk.detail_flag("readonly") or disk.detail_flag("shareable"):
            what = "read-only" if disk.detail_flag("readonly") else "shareable"
            target = where.get(path)
            there = target is not None and target.state in (TargetState.PRESENT, TargetState.SAME_FILE)
            if not there and (target is None or target.state is not TargetState.UNKNOWN) \
                    and present.get(path) != ImageState.PRESENT:
                found.append(Finding(BLOCKER, f"{name} is {what}: --copy-storage does not copy it (libvirt copies "
                                              f"only writable, unshared disks), and the destination has no {path}",
                                     Code.COPY_STORAGE, name))
            else:
                found.append(Finding(NOTE, f"{name} is {what}: it is not copied; the destination uses its own "
                                           f"{path}", Code.COPY_STORAGE, name))
            continue
        found.append(_target_finding(disk, where.get(path, CopyTarget(path, TargetState.UNKNOWN))))
    return found


def _target_finding(disk: GuestDevice, target: CopyTarget) -> Finding:
    name, path, state = name_of(disk), disk.source, target.state
    fmt = disk.detail("format") or "raw"
    if state is TargetState.SAME_FILE:
        return Finding(BLOCKER, f"{name}: the destination's {path} is the source's own disk (storage both hosts "
                                "share): QEMU cannot copy a disk onto itself (its block-export-add fails, 'Block "
                                "node is read-only'); migrate with --unsafe instead, the disk stays where it is",
                       Code.COPY_STORAGE, name)
    if state is TargetState.PRESENT:
        if target.detail and target.detail != fmt:
            return Finding(BLOCKER, f"{name}: the destination's {path} is a {target.detail} image, the disk is "
                                    f"{fmt}: the copy would be written into the wrong format", Code.COPY_STORAGE, name)
        return Finding(NOTE, f"{name}: copied into the destination's existing {path}, which is overwritten",
                       Code.COPY_STORAGE, name)
    if state is TargetState.CREATABLE:
        return Finding(NOTE, f"{name}: libvirt creates {path} ({fmt}) in pool {target.detail} on the destination "
                             "and copies the disk into it", Code.COPY_STORAGE, name)
    if state is TargetState.NO_POOL:
        return Finding(BLOCKER, f"{name}: the destination has no {path} and nothing to create it in "
                                f"({target.detail})", Code.COPY_STORAGE, name)
    if state is TargetState.MISSING:
        return Finding(BLOCKER, f"{name}: the destination has no block device {path} to copy the disk into",
                       Code.COPY_STORAGE, name)
    if disk.detail("type") == "block" and names_one_volume(path):
        return Finding(BLOCKER, f"{name}: {path} names one volume wherever it is seen (by its WWID or its DASD's "
                                "volume serial): on the destination it is the volume the guest "
                                "runs from, and --copy-storage would write it onto itself while the guest writes it "
                                "(a lock on a block device holds only within one host); migrate with --unsafe, the "
                                "volume stays where it is", Code.COPY_STORAGE, name)
    return Finding(NOTE, f"{name}: whether the destination's {path} is free to copy into, or the very file or "
                         "volume the guest runs from (storage both hosts share), cannot be told from here; if it is "
                         "shared, use --unsafe: a copy onto a shared file fails, onto a shared block device it "
                         "writes the volume onto itself while the guest writes it", Code.COPY_STORAGE, name)


#: block device names that identify one volume on every host: a WWID (multipath map, SCSI id) or a DASD's
#: volume serial (its udev by-id name). Not a DASD's by-path name (a device number, which is per IOCDS),
#: nor an FCP path (a LUN number may stand for another volume in another host's mapping), nor
#: `/dev/mapper/mpatha` (a host's own alias).
_ONE_VOLUME = re.compile(r"^/dev/(?:mapper/[123][0-9a-f]{15,}$|disk/by-id/(?:wwn-|scsi-[123]|dm-uuid-mpath-|"
                         r"dm-name-[123][0-9a-f]{15,}|ccw-IBM\.))", re.IGNORECASE)


def names_one_volume(path: str) -> bool:
    """Whether a block device path names the same volume on every host that has it (see `_ONE_VOLUME`)."""
    return bool(_ONE_VOLUME.match(path))


# --- reading the hosts ------------------------------------------------------------------------------------

def read_copy_targets(src: libvirt.virConnect, src_uri: str, dest: libvirt.virConnect, dest_uri: str,
                      guest: Guest) -> tuple[CopyTarget, ...]:
    """Where each local disk would be copied to on the destination, as the destination's storage says (and,
    for two daemons on this machine's kernel, whether it is the very same file or device)."""
    mine, theirs = host_files(src, src_uri), host_files(dest, dest_uri)
    found = []
    for disk in guest.devices:
        if not local_disk(disk):
            continue
        try:
            found.append(_target(disk, mine, theirs))
        except (libvirt.libvirtError, HostFilesError, OSError):
            found.append(CopyTarget(disk.source, TargetState.UNKNOWN))
    return tuple(found)


def _target(disk: GuestDevice, mine: HostFiles, theirs: HostFiles) -> CopyTarget:
    path = disk.source
    same = _same_file(mine, theirs, path)
    if same:
        return CopyTarget(path, TargetState.SAME_FILE)
    if disk.detail("type") == "block":
        there = theirs.here(path)
        if there is None:
            return CopyTarget(path, TargetState.UNKNOWN)
        try:
            is_block = stat.S_ISBLK(os.stat(there).st_mode)
        except FileNotFoundError:
            return CopyTarget(path, TargetState.MISSING)
        return CopyTarget(path, TargetState.PRESENT if is_block else TargetState.UNKNOWN)
    found = theirs.examine(path)
    if found.kind not in (HostFileKind.MISSING, HostFileKind.UNREADABLE):
        return CopyTarget(path, TargetState.PRESENT if same is False else TargetState.UNKNOWN, found.format)
    if found.kind is HostFileKind.UNREADABLE:
        return CopyTarget(path, TargetState.UNKNOWN)
    site = theirs.new_file_site(path)
    if site.problem:
        return CopyTarget(path, TargetState.NO_POOL, site.problem)
    return CopyTarget(path, TargetState.CREATABLE, site.pool or posixpath.dirname(path))


def _same_file(mine: HostFiles, theirs: HostFiles, path: str) -> bool | None:
    """Whether `path` is one file (or block device) on both hosts; None when it cannot be told (a remote host:
    its files are not ours to stat)."""
    try:
        here, there = mine.here(path), theirs.here(path)
    except HostFilesError:
        return None
    if here is None or there is None:
        return None
    try:
        a, b = os.stat(here), os.stat(there)
    except FileNotFoundError:
        return False
    if stat.S_ISBLK(a.st_mode) and stat.S_ISBLK(b.st_mode):
        return a.st_rdev == b.st_rdev
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def read_locks(hosts: Sequence[tuple[str, str]]) -> tuple[tuple[str, LockState], ...]:
    """(name, lock manager) of each (name, URI), each host once."""
    out = []
    for name, uri in dict.fromkeys(hosts):
        with contextlib.suppress(OSError):
            out.append((name, lock_state(uri)))
    return tuple(out)
