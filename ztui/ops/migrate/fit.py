"""Whether a destination fits a guest: its disks' volumes there (by identity, under that host's names), its
interfaces (resolved against the destination), its CPU model, its memory, Secure Execution.

Part of the migration preflight (`ztui.ops.migrate.preflight.assess` adds these findings), and so of
`ztui where` and `ztui evacuate`, which ask the preflight of every host:

- **Disks by identity.** A disk on a DASD or LUN is on the destination when the destination sees the same
  volume (`Inventory.identity`: the DASD's uid, the LUN's WWID), not when it has a device of the same name:
  LPARs number devices in their own I/O definition, so `ccw-0.0.5c05` on one is `ccw-0.0.6c05` on the other,
  and the same number elsewhere may be another volume. The disk's path on the destination is the
  destination's name for that volume (a `Rewrite`, done with libvirt's migration XML); a volume the
  destination does not see is a blocker; one the destination's host itself uses (mounted, swap, …) too.
  An image on storage both hosts share (a network pool, a directory this kernel shows to both) is shared
  storage proven: the migration passes `--unsafe` for it, which libvirt cannot decide itself.
- **Interfaces.** Each bridge, macvtap and Open vSwitch interface is resolved against the destination's
  inventory (`ztui.host.resolve`): a bridge or interface missing there, an OSA card that runs layer 3 under a
  macvtap or a bridge, a link that is down — each warning of that chain is a blocker.
- **CPU.** `compareHypervisorCPU` on the destination with the guest's `<cpu>`: incompatible blocks; a
  hypervisor that cannot compare (QEMU under TCG: "does not support reporting CPU model for virttype
  'qemu'") is said as such, never as compatible.
- **Memory** free on the destination (`getFreeMemory`) against the guest's memory.
- **Secure Execution.** An IBM Secure Execution guest needs a host with `prot_virt_host` 1 (it cannot move
  live anyway: it is shut down and started there).

`read_fit` reads a host (read-only calls); the `*_findings` functions are pure.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import libvirt

from ztui.facts import F, kernel_flag, unique_zpci_uid
from ztui.host.inventory import Inventory
from ztui.host.release import Users
from ztui.host.resolve import resolve_device
from ztui.host.usage import available
from ztui.libvirt.connection import libvirt_reason
from ztui.libvirtxml.common import XmlError
from ztui.libvirtxml.cpu import cpu_request
from ztui.model import (
    DeviceKind,
    Guest,
    GuestDevice,
    HostDevice,
    HostDeviceKind,
    IdentityKind,
    VolumeIdentity,
    device_key,
)
from ztui.ops.migrate.findings import BLOCKER, NOTE, Code, Finding
from ztui.ops.migrate.plan import MigrationOptions, Rewrite, local_disk, name_of
from ztui.report.tree_text import format_memory


class CpuVerdict(StrEnum):
    """What `compareHypervisorCPU` says of the guest's CPU on a host (libvirt's virCPUCompareResult)."""

    IDENTICAL = "identical"
    SUPERSET = "superset"
    INCOMPATIBLE = "incompatible"
    UNKNOWN = "unknown"  # not compared: no <cpu>, or the hypervisor cannot compare


@dataclass(frozen=True)
class HostFit:
    """What a host said about running the guest: its CPU comparison and its free memory."""

    cpu: CpuVerdict = CpuVerdict.UNKNOWN
    cpu_detail: str = ""  # the model compared, or why nothing was
    free_memory: int | None = None  # bytes (getFreeMemory), None when it could not be read


# --- reading (libvirt, read-only) -------------------------------------------------------------------------


def read_fit(conn: libvirt.virConnect, domain_xml: str) -> HostFit:
    """The host's CPU comparison for the guest's `<cpu>` and its free memory."""
    cpu, detail = CpuVerdict.UNKNOWN, "the guest has no <cpu> element"
    try:
        request = cpu_request(domain_xml)
    except XmlError as exc:
        request, detail = None, str(exc)
    if request is not None:
        detail = request.model or request.mode
        try:
            result = conn.compareHypervisorCPU(request.emulator or None, request.arch or None,
                                               request.machine or None, request.virttype or None,
                                               request.cpu_xml, 0)
            cpu = {libvirt.VIR_CPU_COMPARE_IDENTICAL: CpuVerdict.IDENTICAL,
                   libvirt.VIR_CPU_COMPARE_SUPERSET: CpuVerdict.SUPERSET,
                   libvirt.VIR_CPU_COMPARE_INCOMPATIBLE: CpuVerdict.INCOMPATIBLE}.get(result, CpuVerdict.UNKNOWN)
        except libvirt.libvirtError as exc:
            detail = libvirt_reason(exc)
    free: int | None = None
    with contextlib.suppress(libvirt.libvirtError):
        free = int(conn.getFreeMemory())
    return HostFit(cpu, detail, free)


# --- judging (pure) ---------------------------------------------------------------------------------------


def host_findings(guest: Guest, fit: HostFit, dest: Inventory | None) -> list[Finding]:
    """CPU, memory and Secure Execution on the destination."""
    found: list[Finding] = []
    if fit.cpu is CpuVerdict.INCOMPATIBLE:
        found.append(Finding(BLOCKER, f"the destination's CPU cannot run the guest's CPU model {fit.cpu_detail} "
                                      "(compareHypervisorCPU: incompatible): give the guest a model both hosts run "
                                      "(virsh hypervisor-cpu-baseline on both)", Code.CPU))
    elif fit.cpu is CpuVerdict.UNKNOWN:
        found.append(Finding(NOTE, f"CPU not compared: {fit.cpu_detail}", Code.CPU))
    else:
        found.append(Finding(NOTE, f"the destination runs the guest's CPU model {fit.cpu_detail} "
                                   f"(compareHypervisorCPU: {fit.cpu.value})", Code.CPU))
    needed = guest.memory_kib * 1024
    if fit.free_memory is not None and needed:
        have = format_memory(fit.free_memory // 1024)
        if needed > fit.free_memory:
            found.append(Finding(BLOCKER, f"{guest.name} needs {format_memory(guest.memory_kib)} of memory; the "
                                          f"destination has {have} free (getFreeMemory)", Code.MEMORY))
        else:
            found.append(Finding(NOTE, f"{format_memory(guest.memory_kib)} of memory needed, {have} free on the "
                                       "destination", Code.MEMORY))
    if guest.secure_execution:
        found.append(_secure_execution_host(dest))
    return found


def _secure_execution_host(dest: Inventory | None) -> Finding:
    system = dest.get(HostDeviceKind.SYSTEM, "host") if dest is not None else None
    if system is not None and kernel_flag(system, F.PROT_VIRT):
        return Finding(NOTE, "the destination is a Secure Execution host (prot_virt_host 1): the guest can start "
                             "there once shut down here", Code.SECURE_EXECUTION_HOST)
    if system is not None:  # prot_virt_host 0, or no /sys/firmware/uv at all (no Ultravisor)
        return Finding(BLOCKER, "the destination is no Secure Execution host (prot_virt_host not 1): it cannot run "
                                "this guest; IPL it with prot_virt=1 on the kernel command line",
                       Code.SECURE_EXECUTION_HOST)
    return Finding(NOTE, "whether the destination is a Secure Execution host is not known (no host facts)",
                   Code.SECURE_EXECUTION_HOST)


_INTERFACE_KINDS = (DeviceKind.NET_BRIDGE, DeviceKind.NET_DIRECT, DeviceKind.NET_OVS)


def interface_findings(guest: Guest, dest: Inventory) -> list[Finding]:
    """Each bridge, macvtap and Open vSwitch interface resolved against the destination: what that chain warns
    of there (missing, layer 3 where layer 2 is needed, link down) blocks."""
    found: list[Finding] = []
    if not (dest.local or dest.has_libvirt):
        return found
    for device in guest.devices:
        if device.kind not in _INTERFACE_KINDS or not device.source:
            continue
        name = name_of(device)
        problems = [f"{s.kind} {s.id}: {s.warning}" for s in resolve_device(device, dest) if s.warning]
        if problems:
            found.append(Finding(BLOCKER, f"{name} ({device.kind.value} {device.source}) on the destination: "
                                          + "; ".join(problems), Code.INTERFACE, name))
        else:
            found.append(Finding(NOTE, f"{name}: the destination has {device.source} as the guest needs it",
                                 Code.INTERFACE, name))
    return found


@dataclass(frozen=True)
class DiskPlaces:
    """The disks' volumes on the destination: the findings, the paths renamed there, the disks judged by
    identity and among them those on storage both hosts share (proven: nothing to copy, nothing to guess)."""

    findings: tuple[Finding, ...] = ()
    rewrites: tuple[Rewrite, ...] = ()
    judged: frozenset[str] = frozenset()  # names of the disks whose volume has an identity
    shared: frozenset[str] = frozenset()  # those whose volume both hosts see


def volume_findings(guest: Guest, options: MigrationOptions, src: Inventory, dest: Inventory,
                    moved: Sequence[GuestDevice] = ()) -> DiskPlaces:
    """Each local disk's volume on the destination, by identity (see the module docstring)."""
    findings: list[Finding] = []
    rewrites: list[Rewrite] = []
    shared: set[str] = set()
    judged: set[str] = set()
    for disk in guest.devices:
        if not local_disk(disk) or disk in moved:
            continue
        name = name_of(disk)
        steps = resolve_device(disk, src)
        top = next((s for s in steps if s.device_key), None)
        identity = next((src.identity(s.device_key) for s in steps if s.device_key and src.identity(s.device_key)),
                        None)
        if identity is None or top is None:
            continue  # no identity here: the path rules of the preflight judge it
        volume = dest.host_volume(identity)
        if volume is None and not _tells(dest, identity):
            continue  # the destination cannot say whether it sees the volume: the path rules judge the disk
        judged.add(name)
        copied = options.copy_storage and disk.detail("type") in ("file", "")
        if volume is None:
            if not copied:
                there = dest.by_path(disk.source)
                other = dest.identity(there.key) if there is not None else None
                what = f" (there, {disk.source} is {other.text}: another volume)" if other is not None else ""
                findings.append(Finding(BLOCKER, f"{name}: {identity.text} is not visible on the destination{what}: "
                                                 "give that host access to the volume or choose another host",
                                        Code.VOLUME, name,
                                        step="--copy-storage" if disk.detail("type") in ("file", "") else ""))
            continue
        here = src.by_key(top.device_key)
        there = _same_role(dest, volume.keys, here)
        use = dest.host_use(there) if there is not None else None
        if use:
            findings.append(Finding(BLOCKER, f"{name}: {identity.text} is {volume.device} on the destination, which "
                                             f"that host uses itself: {use.text}", Code.VOLUME, name))
            continue
        path = _path_there(disk.source, there) if there is not None else (
            _image_there(dest, identity, disk.source) if top.device_key.startswith("file:") else "")
        if not path:
            findings.append(Finding(BLOCKER, f"{name}: the destination sees {identity.text} as {volume.device}, but "
                                             "not as a device ztui can give the guest", Code.VOLUME, name))
            continue
        shared.add(name)
        if path != disk.source:
            rewrites.append(Rewrite(name, disk.source, path, identity))
            findings.append(Finding(NOTE, f"{name}: {identity.text} is {volume.device} on the destination: the disk "
                                          f"is {path} there", Code.VOLUME, name))
        else:
            findings.append(Finding(NOTE, f"{name}: the destination sees {identity.text} ({volume.device}) at the "
                                          "same path", Code.VOLUME, name))
    return DiskPlaces(tuple(findings), tuple(rewrites), frozenset(judged), frozenset(shared))


def _tells(dest: Inventory, identity: VolumeIdentity) -> bool:
    """Whether the destination would know the volume if it saw it: a host read through udev or its host facts
    knows all of its volumes; one known from libvirt alone knows them only where libvirt says their identity
    (a LUN's serial; never a DASD's uid) — or where it has no device of the kind at all (no ccw device: no
    DASD). An image is never "not there" by identity (its storage may be mounted where ztui cannot prove it
    shared): it is only found there."""
    if identity.kind is IdentityKind.IMAGE:
        return False
    if dest.local or any(v.identity.kind is identity.kind for v in dest.host_volumes):
        return True
    if not dest.has_libvirt:
        return False
    if identity.kind is IdentityKind.DASD:
        return not dest.of_kind(HostDeviceKind.CCW)
    if identity.kind is IdentityKind.SCSI:
        return not dest.of_kind(HostDeviceKind.SCSI)
    return not any("nvme" in d.id for d in dest.of_kind(HostDeviceKind.BLOCK))


def _same_role(dest: Inventory, keys: frozenset[str], here: HostDevice | None) -> HostDevice | None:
    """The destination's device of the volume that is what `here` is on the source: the same partition, the
    multipath map, the whole disk; an image's file has no device."""
    members = [d for d in (dest.by_key(k) for k in sorted(keys)) if d is not None]
    blocks = [d for d in members if d.kind in (HostDeviceKind.BLOCK, HostDeviceKind.STORAGE)]
    if here is None:
        return None
    part = here.fact(F.PARTITION) if here.fact(F.DEVTYPE) == "partition" else ""
    if part:
        return next((d for d in blocks if d.fact(F.DEVTYPE) == "partition" and d.fact(F.PARTITION) == part), None)
    multipath = here.fact(F.DM_UUID).startswith("mpath-")
    if multipath:
        return next((d for d in blocks if d.fact(F.DM_UUID).startswith("mpath-")), None)
    disks = [d for d in blocks if d.fact(F.DEVTYPE) != "partition" and not d.fact(F.DM_UUID)]
    maps = [d for d in blocks if d.fact(F.DM_UUID).startswith("mpath-")]
    # a LUN used by one of its paths here is best given by the multipath map there (all of its paths)
    return next(iter(maps or disks), None)


def _image_there(dest: Inventory, identity: VolumeIdentity, path: str) -> str:
    """The destination's path of an image on the storage both share (its pool may be mounted elsewhere)."""
    return next((v.path for v in dest.volumes if dest.identity(device_key("file", v.path)) == identity), path)


_LINKS = ("/dev/disk/by-path/", "/dev/disk/by-id/", "/dev/mapper/", "/dev/disk/by-uuid/")


def _path_there(path: str, there: HostDevice) -> str:
    """The destination's name for the device: the same path when it has it, else a link of the same kind
    (by-path for by-path — the device number in it is the destination's —, by-id of the same sort, the
    multipath map's name), else its device node."""
    names = there.devnodes or (there.id,)
    if path in names:
        return path
    for prefix in _LINKS:
        if path.startswith(prefix):
            sort = path[len(prefix):].split("-", 1)[0]
            same = sorted(n for n in names if n.startswith(prefix + sort)) or \
                sorted(n for n in names if n.startswith(prefix))
            if same:
                return same[0]
    return there.id if there.id.startswith("/dev/") else names[0]



# --- pass-through devices free on the destination ---------------------------------------------------------


def passthrough_free_findings(to_move: Sequence[GuestDevice], src: Inventory | None, dest: Inventory,
                              uses: Users) -> list[Finding]:
    """Each pass-through device's equivalent on the destination must be free there (`usage.available`): no
    running guest there holds it (`uses`: the destination's guests' uses of its devices, by key), the host
    itself does not use it (an interface that is up, …)."""
    found: list[Finding] = []
    for device in to_move:
        there = _equivalent_there(device, src, dest)
        if there is None:
            continue  # the preflight's equivalence check says why there is none
        held = [u for u in uses.get(there.key, ()) if u.running]
        if available(there, dest, held):
            continue
        why = f"{held[0].guest} runs there with it" if held else (dest.host_use(there).text or "it is not free")
        name = name_of(device)
        found.append(Finding(BLOCKER, f"{name}: the destination's {there.id} is not free: {why}", Code.EQUIVALENT,
                             name))
    return found


def _equivalent_there(device: GuestDevice, src: Inventory | None, dest: Inventory) -> HostDevice | None:
    """The destination's device by what backs the guest device: the mdev of the same UUID (the preflight
    proves what it sits on), the PCI function with the same unique host zPCI uid, else the same address."""
    if device.kind in (DeviceKind.MDEV_VFIO_CCW, DeviceKind.MDEV_VFIO_AP, DeviceKind.MDEV_OTHER):
        return dest.get(HostDeviceKind.MDEV, device.source.lower())
    if device.kind not in (DeviceKind.HOSTDEV_PCI, DeviceKind.NET_HOSTDEV):
        return None
    mine = src.get(HostDeviceKind.PCI, device.source) if src is not None else None
    uid = unique_zpci_uid(mine) if mine is not None else None
    if uid is not None:
        return dest.find(HostDeviceKind.PCI, lambda d: unique_zpci_uid(d) == uid)
    return dest.get(HostDeviceKind.PCI, device.source)
