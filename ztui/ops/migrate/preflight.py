"""Preflight: everything that can be known about a live migration before anything changes.

Each finding carries its reason. A *blocker* stops the migration before the first device is touched; a
*note* tells what will happen. The checks are split in two so that the judgement is testable without a
daemon: `ztui.ops.migrate.read` gathers facts from a connection (read-only libvirt calls), `assess` is a pure
function of the guest, the options and those facts.

What is checked (docs/ARCHITECTURE.md §5): the guest runs; it is no Secure Execution guest (those cannot
migrate live); the destination is reachable; no guest of that name or UUID is already on it; its QEMU
supports the guest's arch and machine type; each pass-through device (which one, why it blocks) is moved
around the migration or refused — vfio-ap included, as the kernel's vfio-ap.rst prescribes (detach before,
attach an mdev with the same APQNs on the target after), and at most one vfio-ap device per guest; the
destination has an equivalent for each device put back there: the same mdev with the same APQNs
(vfio-ap), the same DASD volume by its uid, not its device number, which is per IOCDS (vfio-ccw), the PCI
function with the same host zPCI uid when the uid is unique, else the same address (never the guest's
virtual uid/fid), the networks; disks on local storage need an explicit `--unsafe` or `--copy-storage`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import libvirt

from ztui.facts import (
    ApMatrix,
    CcwRole,
    F,
    carried_busid,
    ccw_role,
    dasd_discipline,
    dasd_uid,
    is_dasd_alias,
    mdev_ap_matrix,
    mdev_control_domains,
    unique_zpci_uid,
    zpci_uid,
)
from ztui.host.inventory import Inventory
from ztui.host.release import Refusal
from ztui.libvirt.link import HostLink
from ztui.libvirt.pipeline import read_inventory
from ztui.libvirtxml.common import XmlError
from ztui.libvirtxml.domain import parse_domain
from ztui.model import (
    DeviceCategory,
    DeviceKind,
    Guest,
    GuestDevice,
    GuestState,
    HostDevice,
    HostDeviceKind,
    SecureExecutionForm,
)
from ztui.ops.attach.detach_plan import find_for_detach
from ztui.ops.attach.plan import BadRequest
from ztui.ops.migrate.destination import ap_refusal, vfio_ccw_setup
from ztui.ops.migrate.findings import BLOCKER, NOTE, Code, Finding
from ztui.ops.migrate.fit import (
    DiskPlaces,
    host_findings,
    interface_findings,
    passthrough_free_findings,
    volume_findings,
)
from ztui.ops.migrate.plan import MigrationOptions, Rewrite, local_disk, name_of
from ztui.ops.migrate.read import ImageState, MigrationHost, read_migration_host, unreachable
from ztui.ops.migrate.safety import SafetyFacts, read_copy_targets, read_locks, safety_findings
from ztui.ops.safety.known_hosts import host_named, known_hosts
from ztui.ops.safety.other_copies import CopyCheck, look_elsewhere


@dataclass(frozen=True)
class Preflight:
    findings: tuple[Finding, ...]
    to_move: tuple[GuestDevice, ...]  # detached before, attached on the destination after
    rewrites: tuple[Rewrite, ...] = ()  # what backs a device under the destination's name (migration XML)
    options: MigrationOptions | None = None
    """The options to run with: the ones asked for, with `--unsafe` added where the preflight proved the
    disks' storage shared (None: as asked)."""
    free_memory: int | None = None  # bytes the destination said it had free (None: unknown)

    @property
    def ok(self) -> bool:
        return not any(f.severity == BLOCKER for f in self.findings)

    @property
    def blockers(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == BLOCKER)


# --- judging (pure) ---------------------------------------------------------------------------------------

def _network_of(device: GuestDevice) -> str:
    """The virtual network an interface is plugged into ('' when none): live XML may say type='bridge',
    so the parser's `network` detail is asked, not the kind."""
    if device.kind.category is not DeviceCategory.NETWORK:
        return ""
    return device.detail("network")


def _virtiofs(device: GuestDevice) -> bool:
    return device.kind is DeviceKind.FILESYSTEM and device.model == "virtiofs"


def _destination_blockers(dest: MigrationHost, guest: Guest) -> list[Finding]:
    """What stops any migration to this destination, live or offline: it does not answer, it has a guest of
    that name or UUID already, it cannot run the guest's machine."""
    findings = [] if dest.reachable else [
        Finding(BLOCKER, f"the destination is not reachable: {dest.error}", Code.UNREACHABLE)]
    findings.extend(_clash(dest, guest))
    if dest.machine_error:
        findings.append(Finding(BLOCKER, f"the destination cannot run {guest.arch} machine {guest.machine}: "
                                         f"{dest.machine_error}", Code.MACHINE))
    return findings


def _clash(dest: MigrationHost, guest: Guest) -> list[Finding]:
    """A running guest of this name or UUID on the destination blocks; this guest's own inactive definition
    (left by an earlier migration) does not; another guest's definition under the same name does."""
    for name, uuid, active in dest.domains:
        if uuid != guest.uuid and name != guest.name:
            continue
        if active:
            return [Finding(BLOCKER, f"a guest {name} (UUID {uuid}) already runs on the destination", Code.CLASH)]
        if uuid != guest.uuid:
            return [Finding(BLOCKER, f"the destination defines another guest named {name} (UUID {uuid})",
                            Code.CLASH)]
        return [Finding(NOTE, f"the destination keeps an inactive definition of {name}; it is updated", Code.CLASH)]
    return []


def _by_kind(facts: MigrationHost | None, kind: HostDeviceKind) -> list[HostDevice]:
    if facts is None or facts.devices is None:
        return []
    return [d for d in facts.devices if d.kind is kind]


def _mdev_equivalent(device: GuestDevice, src: MigrationHost | None, dest: MigrationHost) -> Finding:
    """vfio-ccw: the destination's mdev of this UUID must sit on the same DASD volume as the source's — the
    volume's `uid` behind the subchannel each mdev sits on (device numbers are per IOCDS: the same number on
    another machine may be another volume; the bus-ID is compared only when no uid is known). The UUID alone
    proves nothing: there it may sit on another disk. An mdev the source does not have names nothing behind
    it: what it stands for is unknown, so no equivalent can be."""
    name, uuid = name_of(device), device.source.lower()
    if dest.devices is None:
        return Finding(NOTE, f"{name}: cannot list the destination's node devices; mdev {uuid} is not checked",
                       Code.EQUIVALENT, name)
    mine = _mdev(src, uuid)
    if mine is None:
        why = "its node devices could not be read" if src is None or src.devices is None else \
            f"it has no mdev {uuid}"
        return Finding(BLOCKER, f"{name}: what backs mdev {uuid} on the source is unknown ({why}), so no "
                                "equivalent on the destination can be proven", Code.EQUIVALENT, name)
    volume = _ccw_volume(src, mine)
    if volume.busid == "":
        return Finding(BLOCKER, f"{name}: the source's mdev {uuid} sits on {mine.parent or 'no parent'}, which "
                                "carries no DASD ztui knows; no equivalent on the destination can be proven",
                       Code.EQUIVALENT, name)
    theirs = _mdev(dest, uuid)
    if theirs is not None:
        there = _ccw_volume(dest, theirs)
        held = sorted({u.guest for u in (dest.guest_uses or {}).get(theirs.key, ())})
        if volume.same_as(there) and held:
            return Finding(BLOCKER, f"{name}: the destination's mdev {uuid} sits on the same {volume.text()} but "
                                    f"is used by guest {', '.join(held)} there", Code.EQUIVALENT, name)
        if volume.same_as(there):
            return Finding(NOTE, f"{name}: the destination's mdev {uuid} sits on the same {volume.text(there)} "
                                 f"(DASD {there.busid}, subchannel {there.subchannel})", Code.EQUIVALENT, name)
        what = f"DASD {there.busid} ({there.text()})" if there.busid else "no DASD ztui knows"
        return Finding(BLOCKER, f"{name}: the destination's mdev {uuid} sits on {what}, not on {volume.text()}: "
                                "the guest would get another disk", Code.EQUIVALENT, name)
    # a volume by its uid: a base device (a classic PAV alias has its base's very uid), and only when every
    # DASD of the destination says its uid (an offline one, or one vfio_ccw holds, says none)
    dest_uids = {dasd_uid(d).text: d.id for d in _by_kind(dest, HostDeviceKind.CCW)
                 if dasd_uid(d) and not is_dasd_alias(d)}
    uid_unknown = _dasds_without_uid(dest)
    if volume.uid and volume.uid in dest_uids:
        there_busid, how_found = dest_uids[volume.uid], f"volume {volume.uid}"
    elif volume.uid and dest_uids and not uid_unknown:
        return Finding(BLOCKER, f"{name}: the destination reaches no DASD volume {volume.uid} (behind mdev "
                                f"{uuid})", Code.EQUIVALENT, name)
    else:
        there_busid = volume.busid
        why = (f"{len(uid_unknown)} of the destination's DASDs say no uid (offline or held by vfio_ccw)"
               if volume.uid and uid_unknown else "the volume's uid could not be compared")
        how_found = f"device number {volume.busid} ({why})"
    there_css = [d for d in _by_kind(dest, HostDeviceKind.CSS) if carried_busid(d) == there_busid]
    if not there_css:
        return Finding(BLOCKER, f"{name}: DASD {how_found} (behind mdev {uuid}) is not reachable from the "
                                "destination", Code.EQUIVALENT, name)
    css = there_css[0]
    reached = (f"{name}: the destination reaches DASD {how_found} as {there_busid} on subchannel {css.id} but has "
               f"no mdev {uuid}")
    setup = vfio_ccw_setup(css, dest.device_inventory, dest.guest_uses)
    if isinstance(setup, Refusal):  # the destination's host or guests keep it: nothing there is advised
        return Finding(BLOCKER, f"{reached}; on the destination, {setup.text}", Code.EQUIVALENT, name)
    offer = [t for t in css.mdev_types if t.id == "vfio_ccw-io"]
    how = setup or (f"{css.id} offers vfio_ccw-io ({offer[0].available} available)" if offer else "")
    return Finding(BLOCKER, f"{reached}: define and start it there (virsh nodedev-define{'; ' + how if how else ''})",
                   Code.EQUIVALENT, name, step=f"mdev {uuid} on subchannel {css.id} of the destination")


@dataclass(frozen=True)
class _Volume:
    """What a vfio-ccw mdev passes through on one host: its subchannel, the DASD on it, the volume's uid."""

    subchannel: str = ""
    busid: str = ""
    uid: str = ""

    def same_as(self, other: _Volume) -> bool:
        """The same volume: by uid when both hosts say it, else by device number (an offline DASD, or one
        vfio_ccw holds, says no uid: that is not another volume)."""
        if self.uid and other.uid:
            return self.uid == other.uid
        return bool(self.busid) and self.busid == other.busid

    def text(self, other: _Volume | None = None) -> str:
        if self.uid and (other is None or other.uid):
            return f"volume {self.uid}"
        return f"device number {self.busid} (no uid known{' there' if self.uid else ''})"


def _mdev(facts: MigrationHost | None, uuid: str) -> HostDevice | None:
    return next((d for d in _by_kind(facts, HostDeviceKind.MDEV) if d.id.lower() == uuid), None)


def _ccw_volume(facts: MigrationHost | None, mdev: HostDevice) -> _Volume:
    """The subchannel an mdev sits on (its parent: never matched when empty), the ccw device that subchannel
    carries and that device's volume uid."""
    parent = mdev.parent
    css = next((d for d in _by_kind(facts, HostDeviceKind.CSS)
                if parent and parent in (d.name, d.id, d.fact(F.UDEV_NAME))), None) if parent else None
    if css is None:
        return _Volume()
    busid = carried_busid(css)
    dasd = next((d for d in _by_kind(facts, HostDeviceKind.CCW) if d.id == busid), None) if busid else None
    return _Volume(css.id, busid, dasd_uid(dasd).text if dasd is not None else "")


def _dasds_without_uid(facts: MigrationHost | None) -> list[str]:
    """The ECKD DASDs of a host whose uid is not known: offline ones (their `uid` is empty), and the devices
    on subchannels vfio_ccw holds (the host sees no ccw device there). FBA has no uid at all."""
    ccws = {d.id: d for d in _by_kind(facts, HostDeviceKind.CCW)}
    found = [d.id for d in ccws.values()
             if ccw_role(d) is CcwRole.DASD and not dasd_uid(d) and dasd_discipline(d) in ("ECKD", "")]
    found += [busid for css in _by_kind(facts, HostDeviceKind.CSS)
              if (busid := carried_busid(css)) and busid not in ccws and css.driver == "vfio_ccw"]
    return found


def _pci_equivalent(device: GuestDevice, src: MigrationHost | None, dest: MigrationHost) -> Finding:
    """A PCI function: on Z the function with the same *host* zPCI uid, when the source's function has one
    and the machine guarantees it unique (`uid_is_unique` 1); else the same address. The guest's own
    `<zpci uid fid>` is virtual and says nothing about the host's functions."""
    name = name_of(device)
    if dest.devices is None:
        return Finding(NOTE, f"{name}: cannot list the destination's node devices; PCI {device.source} is not "
                             "checked", Code.EQUIVALENT, name)
    pcis = _by_kind(dest, HostDeviceKind.PCI)
    mine = next((d for d in _by_kind(src, HostDeviceKind.PCI) if d.id == device.source), None)
    uid = unique_zpci_uid(mine) if mine is not None else None
    if uid is not None:
        match = [d for d in pcis if unique_zpci_uid(d) == uid]
        if match:
            return Finding(NOTE, f"{name}: the destination has the PCI function with host uid 0x{uid:x} "
                                 f"({match[0].id})", Code.EQUIVALENT, name)
        if any(zpci_uid(d) is not None for d in pcis):
            return Finding(BLOCKER, f"{name}: the destination has no PCI function with host zPCI uid 0x{uid:x}",
                           Code.EQUIVALENT, name)
    if any(d.id == device.source for d in pcis):
        return Finding(NOTE, f"{name}: the destination has PCI function {device.source}", Code.EQUIVALENT, name)
    return Finding(BLOCKER, f"{name}: the destination has no PCI function {device.source}", Code.EQUIVALENT, name)


def _ap_text(matrix: ApMatrix, control: frozenset[int]) -> str:
    """The APQNs as the kernel and lszcrypt name them (`0a.0005,0a.0006`); adapters or domains assigned
    without the other half as such."""
    if matrix.queues:
        text = "APQNs " + ",".join(matrix.queue_ids())
    else:
        adapters = ",".join(f"{a:02x}" for a in sorted(matrix.adapters)) or "none"
        domains = ",".join(f"{d:04x}" for d in sorted(matrix.domains)) or "none"
        text = f"adapters {adapters} x domains {domains} (no APQN)"
    return text + (f", control domains {','.join(f'{d:04x}' for d in sorted(control))}" if control else "")


def _vfio_ap_equivalent(device: GuestDevice, src: MigrationHost | None, dest: MigrationHost) -> Finding:
    """vfio-ap: the destination's mdev of the same UUID must carry the same APQNs (adapters x domains) and
    control domains, so the guest finds the same crypto domains after the migration (vfio-ap.rst). A UUID
    that matches proves nothing by itself; an mdev the source does not have has no APQNs to compare."""
    name, uuid = name_of(device), device.source.lower()
    if dest.devices is None:
        return Finding(NOTE, f"{name}: cannot list the destination's node devices; mdev {uuid} is not checked",
                       Code.EQUIVALENT, name)
    mine = _mdev(src, uuid)
    theirs = {d.id.lower(): d for d in _by_kind(dest, HostDeviceKind.MDEV)}
    if mine is None:
        why = "its node devices could not be read" if src is None or src.devices is None else \
            f"it has no mdev {uuid}"
        return Finding(BLOCKER, f"{name}: the APQNs of mdev {uuid} on the source are unknown ({why}), so no "
                                "equivalent on the destination can be proven", Code.EQUIVALENT, name)
    wanted, control = mdev_ap_matrix(mine), mdev_control_domains(mine)
    same = [d for d in theirs.values() if mdev_ap_matrix(d) == wanted and mdev_control_domains(d) == control]
    there = theirs.get(uuid)
    held = sorted({u.guest for u in (dest.guest_uses or {}).get(there.key, ())}) if there is not None else []
    if there is not None and there in same and held:
        return Finding(BLOCKER, f"{name}: the destination's mdev {uuid} has the same APQNs but is used by guest "
                                f"{', '.join(held)} there", Code.EQUIVALENT, name)
    if there is not None and there in same:
        return Finding(NOTE, f"{name}: the destination has mdev {uuid} with the same APQNs "
                             f"({_ap_text(wanted, control)})", Code.EQUIVALENT, name)
    if there is not None:
        return Finding(BLOCKER, f"{name}: the destination's mdev {uuid} carries "
                                f"{_ap_text(mdev_ap_matrix(there), mdev_control_domains(there))}, not "
                                f"{_ap_text(wanted, control)}: the guest would get other crypto domains",
                       Code.EQUIVALENT, name)
    refused = ap_refusal(wanted.queues, dest.device_inventory, dest.guest_uses)
    hint = f"; on the destination, {refused.text}" if refused is not None else ""
    return Finding(BLOCKER, f"{name}: the destination has no mdev {uuid} with {_ap_text(wanted, control)}"
                            f"{hint}", Code.EQUIVALENT, name,
                   step=f"vfio-ap mdev {uuid} with {_ap_text(wanted, control)} on the destination" if same else "")


def _equivalent(device: GuestDevice, src: MigrationHost | None, dest: MigrationHost) -> Finding | None:
    """Whether the destination can take this device back after the migration (None: nothing to check)."""
    name = name_of(device)
    if device.kind is DeviceKind.MDEV_VFIO_AP:
        return _vfio_ap_equivalent(device, src, dest)
    if device.kind in (DeviceKind.MDEV_VFIO_CCW, DeviceKind.MDEV_OTHER):
        return _mdev_equivalent(device, src, dest)
    if device.kind in (DeviceKind.HOSTDEV_PCI, DeviceKind.NET_HOSTDEV):
        return _pci_equivalent(device, src, dest)
    if device.kind in (DeviceKind.HOSTDEV_SCSI, DeviceKind.HOSTDEV_SCSI_HOST):
        return Finding(NOTE, f"{name}: ztui cannot see whether the destination reaches {device.source}; "
                             "if not, the device is reported for manual action", Code.EQUIVALENT, name)
    network = _network_of(device)
    if network and dest.networks is not None and network not in dest.networks:
        return Finding(BLOCKER, f"{name}: the destination has no active network {network}", Code.EQUIVALENT, name)
    if local_disk(device):
        state = dict(dest.files).get(device.source, ImageState.UNKNOWN)
        if state == ImageState.MISSING:
            return Finding(BLOCKER, f"{name}: the destination has no {device.source}", Code.EQUIVALENT, name)
        if state == ImageState.PRESENT:
            return Finding(NOTE, f"{name}: the destination has {device.source}", Code.EQUIVALENT, name)
        return Finding(NOTE, f"{name}: {device.source} must exist at the same path on the destination",
                       Code.EQUIVALENT, name)
    return None


def _passthrough(guest: Guest, options: MigrationOptions, to_move: list[GuestDevice]) -> list[Finding]:
    out = []
    for device in guest.devices:
        name = name_of(device)
        if device.migration_blocker and options.passthrough == "refuse":
            out.append(Finding(BLOCKER, f"{name} ({device.kind.value} {device.source}) blocks live migration: "
                                        f"{device.blocker_reason} (--passthrough refuse)", Code.PASSTHROUGH, name))
        elif device.migration_blocker:
            out.append(Finding(NOTE, f"{name} ({device.kind.value} {device.source}) blocks live migration: "
                                     f"{device.blocker_reason}; it is detached before and attached on the "
                                     "destination after", Code.PASSTHROUGH, name))
            to_move.append(device)
    return out


def _extra(guest: Guest, names: Iterable[str], to_move: list[GuestDevice]) -> list[Finding]:
    out = []
    for wanted in names:
        try:
            device = find_for_detach(guest, wanted)
        except BadRequest as exc:
            out.append(Finding(BLOCKER, str(exc), Code.DETACH, wanted))
            continue
        if not any(device is d for d in to_move):
            to_move.append(device)
            out.append(Finding(NOTE, f"{name_of(device)} is moved around the migration (--detach)", Code.DETACH,
                               name_of(device)))
    return out


def assess(guest: Guest, options: MigrationOptions, dest: MigrationHost, src: MigrationHost | None = None,
           safety: SafetyFacts | None = None) -> Preflight:
    """Judge a migration of `guest` (as read from the source's live XML) to the host `dest` describes;
    `safety` is what the hosts said for `ztui.ops.migrate.safety`'s rules (boot device and unplugging are
    judged without it)."""
    if options.offline:
        return _assess_offline(guest, options, dest, _places(guest, options, src, dest, ()))
    findings: list[Finding] = []
    to_move: list[GuestDevice] = []
    if guest.state is None or not guest.state.is_active:
        offline = "; --offline moves its definition instead" if guest.persistent is not False else ""
        findings.append(Finding(BLOCKER, f"{guest.name} is not running: live migration needs a running guest"
                                         + offline, Code.NOT_RUNNING))
    findings.extend(_destination_blockers(dest, guest))
    if guest.secure_execution:
        form = guest.secure_execution_form or SecureExecutionForm.LAUNCH_SECURITY
        findings.append(Finding(BLOCKER, f"{guest.name} is an IBM Secure Execution guest ({form.value}): its "
                                         "memory is protected from the host, so it cannot migrate live; shut it "
                                         "down and start it on the destination", Code.SECURE_EXECUTION))
    vfio_ap = [d for d in guest.devices if d.kind is DeviceKind.MDEV_VFIO_AP]
    if len(vfio_ap) > 1:
        findings.append(Finding(BLOCKER, f"{guest.name} has {len(vfio_ap)} vfio-ap devices; a guest takes at "
                                         "most one (one AP matrix per guest)", Code.VFIO_AP))
    findings.extend(_passthrough(guest, options, to_move))
    findings.extend(_extra(guest, options.extra_detach, to_move))
    moved = set(to_move)  # devices are frozen records: equal means the same device of this guest
    for device in guest.devices:
        if _virtiofs(device) and device not in moved:
            findings.append(Finding(BLOCKER, f"{name_of(device)} (virtiofs share {device.source}): QEMU cannot "
                                             "migrate vhost-user-fs; move it with --detach "
                                             f"{name_of(device)}", Code.VIRTIOFS, name_of(device)))
    places = _places(guest, options, src, dest, to_move)
    findings.extend(places.findings)
    local = [d for d in guest.devices if local_disk(d) and d not in moved and name_of(d) not in places.judged]
    if local and not (options.unsafe or options.copy_storage):
        names = ", ".join(name_of(d) for d in local)
        findings.append(Finding(BLOCKER, f"disks on local storage ({names}): choose --unsafe if the same paths "
                                         "are shared with the destination, or --copy-storage to copy them",
                                Code.LOCAL_DISK, step="--unsafe if the destination shares the same paths, else "
                                                      "--copy-storage"))
    elif local and options.unsafe:
        findings.append(Finding(NOTE, "--unsafe: the destination must see the same images at the same paths ("
                                      + ", ".join(d.source for d in local) + ")", Code.LOCAL_DISK))
        missing = [p for p, state in dest.files if state == ImageState.MISSING and any(d.source == p for d in local)]
        if missing:
            findings.append(Finding(BLOCKER, "--unsafe, but the destination has no " + ", ".join(missing)
                                    + " (its storage pools say so)", Code.LOCAL_DISK))
    if dest.reachable:
        for device in guest.devices:
            if device in moved:
                found = _equivalent(device, src, dest)
                if found is not None:
                    findings.append(found)
            elif (network := _network_of(device)) and dest.networks is not None and network not in dest.networks:
                findings.append(Finding(BLOCKER, f"{name_of(device)}: the destination has no active network "
                                                 f"{network}", Code.NETWORK, name_of(device)))
    if dest.reachable:

        if dest.fit is not None:
            findings.extend(host_findings(guest, dest.fit, dest.inventory))
        if dest.inventory is not None:
            findings.extend(interface_findings(guest, dest.inventory))
            findings.extend(passthrough_free_findings(to_move, src.inventory if src is not None else None,
                                                      dest.inventory, dest.guest_uses or {}))

    findings.extend(safety_findings(guest, options, to_move, dest, safety or SafetyFacts()))
    return Preflight(tuple(findings), tuple(to_move), places.rewrites, _run_options(guest, options, places, findings),
                     dest.fit.free_memory if dest.fit is not None else None)


def _places(guest: Guest, options: MigrationOptions, src: MigrationHost | None, dest: MigrationHost,
            to_move: Sequence[GuestDevice]) -> DiskPlaces:
    """The disks' volumes on the destination by identity (`ztui.ops.migrate.fit.volume_findings`), when both
    hosts' inventories were read."""

    if src is None or src.inventory is None or dest.inventory is None or not dest.reachable:
        return DiskPlaces()
    return volume_findings(guest, options, src.inventory, dest.inventory, to_move)


def _run_options(guest: Guest, options: MigrationOptions, places: DiskPlaces,
                 findings: list[Finding]) -> MigrationOptions:
    """The options asked for, with `--unsafe` where every image disk's storage is proven shared (libvirt asks
    for it on storage it cannot see shared: "Migration without shared storage is unsafe")."""
    images = [d for d in guest.devices if local_disk(d) and d.detail("type") in ("file", "")]
    if options.unsafe or options.copy_storage or options.offline or not images or \
            any(name_of(d) not in places.shared for d in images):
        return options
    findings.append(Finding(NOTE, "the image disks (" + ", ".join(name_of(d) for d in images) + ") are on storage "
                                  "both hosts share, proven by their identity: the migration passes --unsafe, which "
                                  "libvirt asks for where it cannot see the storage shared", Code.LOCAL_DISK))
    return replace(options, unsafe=True)


def _assess_offline(guest: Guest, options: MigrationOptions, dest: MigrationHost, places: DiskPlaces) -> Preflight:
    """Offline: only the definition moves, so devices need nothing; the guest must be shut off (a running
    one would leave its definition behind while it runs on) and persistent (a transient one has none). Its
    disks go into the definition under the destination's names (`places`); a volume the destination does
    not see only keeps the guest from starting there, so it is said, not refused."""
    findings: list[Finding] = [replace(f, severity=NOTE, text=f"{f.text} (the guest cannot start there until then)")
                               if f.severity is BLOCKER else f for f in places.findings]
    if guest.state is not None and guest.state.is_active:
        findings.append(Finding(BLOCKER, f"{guest.name} is {guest.state.value}: offline migration moves a shut-off "
                                         "guest; shut it down first, or migrate it live", Code.RUNNING))
    if guest.persistent is False:
        findings.append(Finding(BLOCKER, f"{guest.name} is transient: it has no definition to move", Code.TRANSIENT))
    if options.copy_storage:
        findings.append(Finding(BLOCKER, "--copy-storage needs a running guest (QEMU copies the disks); offline "
                                         "only the definition moves", Code.COPY_STORAGE))
    findings.extend(_destination_blockers(dest, guest))
    local = [d.source for d in guest.devices if local_disk(d) and name_of(d) not in places.judged]
    if local:
        findings.append(Finding(NOTE, "no disk is copied: the destination needs the same images at the same paths "
                                      "to start it (" + ", ".join(local) + ")", Code.LOCAL_DISK))
    what = "moves (the source's is undefined)" if options.undefine_source else "is copied (the source keeps its own)"
    findings.append(Finding(NOTE, f"the definition {what}; nothing is started", Code.OFFLINE))
    return Preflight(tuple(findings), (), places.rewrites, options)


def preflight(src: libvirt.virConnect, dom: libvirt.virDomain, dest: libvirt.virConnect | None,
              options: MigrationOptions, *, src_uri: str = "", dest_uri: str = "",
              dest_error: str = "", session: Sequence[str] = (), src_inventory: Inventory | None = None,
              dest_inventory: Inventory | None = None, asked: CopyCheck | None = None) -> Preflight:
    """Read the guest and both hosts, then `assess`. `dest` None means it could not be opened (`dest_error`).
    `session` names further hosts ztui shows (the TUI's): they, the lab's and the saved hosts are asked
    whether the guest runs there too. `src_inventory`, `dest_inventory`: the hosts' inventories when they
    were read already (a TUI session's)."""
    xml = dom.XMLDesc(0)
    guest = parse_domain(xml, what=f"XML of guest {dom.name()}")
    with contextlib.suppress(libvirt.libvirtError):
        guest = _with_state(guest, dom)
    dest_facts = unreachable(dest_uri, dest_error or "no connection") if dest is None else \
        read_migration_host(HostLink(dest_uri, dest), guest, devices=True,
                            domain_xml="" if options.offline else xml, inventory=dest_inventory)
    src_inv = src_inventory if src_inventory is not None else read_inventory(HostLink(src_uri, src))
    src_facts = MigrationHost(src_uri, devices=src_inv.devices if src_inv is not None else None, inventory=src_inv)
    safety = None if options.offline else _safety(src, src_uri, dest, dest_uri, guest, options, session,
                                                  _persistent_config(dom), asked)
    return assess(guest, options, dest_facts, src_facts, safety)


def _persistent_config(dom: libvirt.virDomain) -> Guest | None:
    """The guest's persistent definition (which devices it had when it started); None for a transient guest
    or when it cannot be read."""
    try:
        if not dom.isPersistent():
            return None
        return parse_domain(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), what=f"config of guest {dom.name()}")
    except (libvirt.libvirtError, XmlError):
        return None


def _safety(src: libvirt.virConnect, src_uri: str, dest: libvirt.virConnect | None, dest_uri: str, guest: Guest,
            options: MigrationOptions, session: Sequence[str], config: Guest | None,
            asked: CopyCheck | None = None) -> SafetyFacts:
    """What `ztui.ops.migrate.safety` needs from the hosts: the other hosts' copies of the guest, where
    --copy-storage would copy each disk, the lock managers of two hosts that share disks. `asked`: every
    other host was asked already (one answer for several destinations: `ztui where`)."""

    hosts = known_hosts([src_uri, dest_uri, *session])
    here = host_named(hosts, src_uri)
    conns = {src_uri: src, **({dest_uri: dest} if dest is not None else {})}
    if asked is not None:  # the destination's own copy is judged as a clash, not as a third host's
        copies = replace(asked, running=tuple(c for c in asked.running if not c.host.reaches(dest_uri)),
                         unanswered=tuple(c for c in asked.unanswered if not c.host.reaches(dest_uri)))
    else:
        copies = look_elsewhere(guest, here, hosts, here_name=here.label, conns=conns, skip=(dest_uri,))
    targets = read_copy_targets(src, src_uri, dest, dest_uri, guest) if options.copy_storage and dest else ()
    shared = not options.copy_storage and any(local_disk(d) for d in guest.devices)
    locks = read_locks([(here.label, src_uri), (host_named(hosts, dest_uri).label, dest_uri)]) if shared else ()
    return SafetyFacts(config, copies, targets, locks)


def _with_state(guest: Guest, dom: libvirt.virDomain) -> Guest:
    return replace(guest, state=GuestState.from_libvirt(dom.state()[0]), persistent=bool(dom.isPersistent()))


def preflight_json(check: Preflight) -> dict[str, Any]:
    """The preflight as `--json` prints it (without the plan, which the caller adds)."""
    return {"type": "preflight", "ok": check.ok, "findings": [f.to_json() for f in check.findings],
            "moves": [name_of(d) for d in check.to_move], "rewrites": [r.to_json() for r in check.rewrites]}
