"""Preflight: everything that can be known about a live migration before anything changes.

Each finding carries its reason. A *blocker* stops the migration before the first device is touched; a
*note* tells what will happen. The checks are split in two so that the judgement is testable without a
daemon: `read_host` gathers facts from a connection (read-only libvirt calls), `assess` is a pure
function of the guest, the options and those facts.

What is checked (docs/ARCHITECTURE.md §5): the guest runs; the destination is reachable; no guest of that name or
UUID is already on it; its QEMU supports the guest's arch and machine type; each pass-through device (which
one, why it blocks) is moved around the migration or refused; vfio-ap is never hotplugged (offline only);
the destination has an equivalent for each device put back there (the same mdev, or the DASD's subchannel
to define one on; the PCI function with the same zPCI uid/fid or address; the networks); disks on local
storage need an explicit `--unsafe` or `--copy-storage`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import libvirt

from ztui.facts import F
from ztui.libvirt.connection import libvirt_reason
from ztui.libvirtxml.domain import parse_domain
from ztui.libvirtxml.nodedev import parse_nodedev
from ztui.model import (
    DeviceCategory,
    DeviceKind,
    Guest,
    GuestDevice,
    GuestState,
    HostDevice,
    HostDeviceKind,
    PciAddress,
)
from ztui.ops.hotplug import BadRequest, find_for_detach
from ztui.ops.migrate_plan import MigrationOptions, name_of


class Severity(StrEnum):
    """A blocker stops the migration before the first device is touched; a note only informs."""

    BLOCKER = "blocker"
    NOTE = "note"


BLOCKER = Severity.BLOCKER
NOTE = Severity.NOTE


class Code(StrEnum):
    """The stable key of a finding, for scripts (`--json`)."""

    NOT_RUNNING = "not-running"
    UNREACHABLE = "unreachable"
    CLASH = "clash"
    MACHINE = "machine"
    PASSTHROUGH = "passthrough"
    VFIO_AP = "vfio-ap"
    DETACH = "detach"
    VIRTIOFS = "virtiofs"
    LOCAL_DISK = "local-disk"
    EQUIVALENT = "equivalent"
    NETWORK = "network"
    SECURE_EXECUTION = "secure-execution"


@dataclass(frozen=True)
class Finding:
    """One preflight result: a `blocker` stops the migration, a `note` only informs."""

    severity: Severity
    text: str
    code: Code | None = None
    device: str = ""

    def to_json(self) -> dict[str, str]:
        return {"severity": self.severity.value, "code": self.code.value if self.code else "",
                "device": self.device, "text": self.text}


@dataclass(frozen=True)
class Preflight:
    findings: tuple[Finding, ...]
    to_move: tuple[GuestDevice, ...]  # detached before, attached on the destination after

    @property
    def ok(self) -> bool:
        return not any(f.severity == BLOCKER for f in self.findings)

    @property
    def blockers(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == BLOCKER)


@dataclass(frozen=True)
class HostFacts:
    """What the preflight knows about one host; `None` fields could not be read (checks are skipped)."""

    uri: str
    reachable: bool = True
    error: str = ""
    domains: tuple[tuple[str, str, bool], ...] = ()  # (name, uuid, active)
    devices: tuple[HostDevice, ...] | None = None  # node devices, read only when a pass-through needs them
    networks: tuple[str, ...] | None = None  # active virtual networks
    machine_error: str | None = None  # "" supported, text = why not, None = not checked


def unreachable(uri: str, error: str) -> HostFacts:
    return HostFacts(uri, reachable=False, error=error)


# --- reading facts (libvirt, read-only) -------------------------------------------------------------------

def _node_devices(conn: libvirt.virConnect) -> tuple[HostDevice, ...] | None:
    try:
        found = []
        for dev in conn.listAllDevices(0):
            with contextlib.suppress(libvirt.libvirtError, ValueError):
                found.append(parse_nodedev(dev.XMLDesc(0)))
        return tuple(found)
    except libvirt.libvirtError:
        return None


def _networks(conn: libvirt.virConnect) -> tuple[str, ...] | None:
    try:
        return tuple(n.name() for n in conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE))
    except libvirt.libvirtError:
        return None


def _machine_error(conn: libvirt.virConnect, guest: Guest) -> str | None:
    """Whether the host's QEMU runs this arch and machine type (one emulator probe, not all of them)."""
    if not guest.arch:
        return None
    try:
        conn.getDomainCapabilities(None, guest.arch, guest.machine or None, guest.domain_type or None, 0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() in (libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_RPC):
            return None  # an old daemon without the API: cannot tell
        return libvirt_reason(exc)
    return ""


def read_host(conn: libvirt.virConnect, uri: str, guest: Guest, *, devices: bool) -> HostFacts:
    """The facts `assess` needs about a host, for this guest. A daemon that stops answering is unreachable."""
    try:
        domains = tuple((d.name(), d.UUIDString(), bool(d.isActive())) for d in conn.listAllDomains(0))
    except libvirt.libvirtError as exc:
        return unreachable(uri, libvirt_reason(exc))
    return HostFacts(uri, domains=domains, devices=_node_devices(conn) if devices else None,
                     networks=_networks(conn), machine_error=_machine_error(conn, guest))


# --- judging (pure) ---------------------------------------------------------------------------------------

def _network_of(device: GuestDevice) -> str:
    """The virtual network an interface is plugged into ('' when none): live XML may say type='bridge',
    so the parser's `network` detail is asked, not the kind."""
    if device.kind.category is not DeviceCategory.NETWORK:
        return ""
    return device.detail("network")


def _local_disk(device: GuestDevice) -> bool:
    return device.kind in (DeviceKind.DISK, DeviceKind.CDROM, DeviceKind.LUN, DeviceKind.FLOPPY) and \
        device.detail("type") in ("file", "block", "") and bool(device.source) and \
        not device.source.startswith(("rbd:", "iscsi:", "nbd:", "gluster:"))


def _virtiofs(device: GuestDevice) -> bool:
    return device.kind is DeviceKind.FILESYSTEM and device.model == "virtiofs"


def _clash(dest: HostFacts, guest: Guest) -> list[Finding]:
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


def _by_kind(facts: HostFacts | None, kind: HostDeviceKind) -> list[HostDevice]:
    if facts is None or facts.devices is None:
        return []
    return [d for d in facts.devices if d.kind is kind]


def _mdev_equivalent(device: GuestDevice, src: HostFacts | None, dest: HostFacts) -> Finding:
    """vfio-ccw: the same mdev UUID on the destination; else say whether the DASD behind it is reachable
    there (a subchannel carrying the same bus-ID, offering vfio_ccw-io) so an mdev can be defined on it."""
    name, uuid = name_of(device), device.source.lower()
    if dest.devices is None:
        return Finding(NOTE, f"{name}: cannot list the destination's node devices; mdev {uuid} is not checked",
                       Code.EQUIVALENT, name)
    mdevs = {d.id.lower(): d for d in _by_kind(dest, HostDeviceKind.MDEV)}
    if uuid in mdevs:
        return Finding(NOTE, f"{name}: the destination has mdev {uuid} (on {mdevs[uuid].parent or '?'})",
                       Code.EQUIVALENT, name)
    parent = next((d.parent for d in _by_kind(src, HostDeviceKind.MDEV) if d.id.lower() == uuid), "")
    css = next((d for d in _by_kind(src, HostDeviceKind.CSS) if d.name == parent), None)
    busid = css.fact(F.CHANNEL_DEV_ADDR) if css is not None else ""
    if not busid:
        return Finding(BLOCKER, f"{name}: the destination has no mdev {uuid} to attach after the migration",
                       Code.EQUIVALENT, name)
    there = [d for d in _by_kind(dest, HostDeviceKind.CSS) if d.fact(F.CHANNEL_DEV_ADDR) == busid]
    if not there:
        return Finding(BLOCKER, f"{name}: DASD {busid} (behind mdev {uuid}) is not reachable from the destination",
                       Code.EQUIVALENT, name)
    offer = [t for t in there[0].mdev_types if t.id == "vfio_ccw-io"]
    how = (f"{there[0].id} offers vfio_ccw-io ({offer[0].available} available)" if offer
           else f"bind {there[0].id} to vfio_ccw first")
    return Finding(BLOCKER, f"{name}: the destination reaches DASD {busid} on subchannel {there[0].id} but has "
                            f"no mdev {uuid}: define and start it there (virsh nodedev-define; {how})",
                   Code.EQUIVALENT, name)


def _pci_equivalent(device: GuestDevice, dest: HostFacts) -> Finding:
    """A PCI function: on Z the same zPCI uid/fid (when the node devices carry them), else the same address."""
    name = name_of(device)
    if dest.devices is None:
        return Finding(NOTE, f"{name}: cannot list the destination's node devices; PCI {device.source} is not "
                             "checked", Code.EQUIVALENT, name)
    pcis = _by_kind(dest, HostDeviceKind.PCI)
    zpci = device.address.zpci if isinstance(device.address, PciAddress) else None
    if zpci is not None and zpci.uid is not None and any(d.fact(F.UID) for d in pcis):
        uid = f"0x{zpci.uid:04x}"
        match = [d for d in pcis if d.fact(F.UID) == uid
                 and (zpci.fid is None or d.fact(F.FID) in ("", f"0x{zpci.fid:08x}"))]
        if match:
            return Finding(NOTE, f"{name}: the destination has the PCI function with uid {uid} ({match[0].id})",
                           Code.EQUIVALENT, name)
        return Finding(BLOCKER, f"{name}: the destination has no PCI function with zPCI uid {uid}", Code.EQUIVALENT,
                       name)
    if any(d.id == device.source for d in pcis):
        return Finding(NOTE, f"{name}: the destination has PCI function {device.source}", Code.EQUIVALENT, name)
    return Finding(BLOCKER, f"{name}: the destination has no PCI function {device.source}", Code.EQUIVALENT, name)


def _equivalent(device: GuestDevice, src: HostFacts | None, dest: HostFacts) -> Finding | None:
    """Whether the destination can take this device back after the migration (None: nothing to check)."""
    name = name_of(device)
    if device.kind in (DeviceKind.MDEV_VFIO_CCW, DeviceKind.MDEV_OTHER):
        return _mdev_equivalent(device, src, dest)
    if device.kind in (DeviceKind.HOSTDEV_PCI, DeviceKind.NET_HOSTDEV):
        return _pci_equivalent(device, dest)
    if device.kind in (DeviceKind.HOSTDEV_SCSI, DeviceKind.HOSTDEV_SCSI_HOST):
        return Finding(NOTE, f"{name}: ztui cannot see whether the destination reaches {device.source}; "
                             "if not, the device is reported for manual action", Code.EQUIVALENT, name)
    network = _network_of(device)
    if network and dest.networks is not None and network not in dest.networks:
        return Finding(BLOCKER, f"{name}: the destination has no active network {network}", Code.EQUIVALENT, name)
    if _local_disk(device):
        return Finding(NOTE, f"{name}: {device.source} must exist at the same path on the destination",
                       Code.EQUIVALENT, name)
    return None


def _passthrough(guest: Guest, options: MigrationOptions, to_move: list[GuestDevice]) -> list[Finding]:
    out = []
    for device in guest.devices:
        name = name_of(device)
        if device.kind is DeviceKind.MDEV_VFIO_AP:
            out.append(Finding(BLOCKER, f"{name} (vfio-ap crypto): {device.blocker_reason}; it cannot be hot-"
                                        "unplugged: shut the guest down and migrate it offline, or remove the "
                                        "adapter from its persistent config and restart it first", Code.VFIO_AP, name))
        elif device.migration_blocker and options.passthrough == "refuse":
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
        if device.kind is DeviceKind.MDEV_VFIO_AP:
            continue  # already a blocker: never hotplugged
        if not any(device is d for d in to_move):
            to_move.append(device)
            out.append(Finding(NOTE, f"{name_of(device)} is moved around the migration (--detach)", Code.DETACH,
                               name_of(device)))
    return out


def assess(guest: Guest, options: MigrationOptions, dest: HostFacts, src: HostFacts | None = None) -> Preflight:
    """Judge a migration of `guest` (as read from the source's live XML) to the host `dest` describes."""
    findings: list[Finding] = []
    to_move: list[GuestDevice] = []
    if guest.state is None or not guest.state.is_active:
        findings.append(Finding(BLOCKER, f"{guest.name} is not running: live migration needs a running guest",
                                Code.NOT_RUNNING))
    if not dest.reachable:
        findings.append(Finding(BLOCKER, f"the destination is not reachable: {dest.error}", Code.UNREACHABLE))
    findings.extend(_clash(dest, guest))
    if dest.machine_error:
        findings.append(Finding(BLOCKER, f"the destination cannot run {guest.arch} machine {guest.machine}: "
                                         f"{dest.machine_error}", Code.MACHINE))
    findings.extend(_passthrough(guest, options, to_move))
    findings.extend(_extra(guest, options.extra_detach, to_move))
    moved = {id(d) for d in to_move}
    for device in guest.devices:
        if _virtiofs(device) and id(device) not in moved:
            findings.append(Finding(BLOCKER, f"{name_of(device)} (virtiofs share {device.source}): QEMU cannot "
                                             "migrate vhost-user-fs; move it with --detach "
                                             f"{name_of(device)}", Code.VIRTIOFS, name_of(device)))
    local = [d for d in guest.devices if _local_disk(d) and id(d) not in moved]
    if local and not (options.unsafe or options.copy_storage):
        names = ", ".join(name_of(d) for d in local)
        findings.append(Finding(BLOCKER, f"disks on local storage ({names}): choose --unsafe if the same paths "
                                         "are shared with the destination, or --copy-storage to copy them",
                                Code.LOCAL_DISK))
    elif local and options.unsafe:
        findings.append(Finding(NOTE, "--unsafe: the destination must see the same images at the same paths ("
                                      + ", ".join(d.source for d in local) + ")", Code.LOCAL_DISK))
    if dest.reachable:
        for device in guest.devices:
            if id(device) in moved:
                found = _equivalent(device, src, dest)
                if found is not None:
                    findings.append(found)
            elif (network := _network_of(device)) and dest.networks is not None and network not in dest.networks:
                findings.append(Finding(BLOCKER, f"{name_of(device)}: the destination has no active network "
                                                 f"{network}", Code.NETWORK, name_of(device)))
    return Preflight(tuple(findings), tuple(to_move))


def needs_devices(guest: Guest) -> bool:
    """Node devices are read only when a pass-through device needs an equivalent (they cost an RPC each)."""
    return any(d.passthrough for d in guest.devices)


def preflight(src: libvirt.virConnect, dom: libvirt.virDomain, dest: libvirt.virConnect | None,
              options: MigrationOptions, *, src_uri: str = "", dest_uri: str = "",
              dest_error: str = "") -> Preflight:
    """Read the guest and both hosts, then `assess`. `dest` None means it could not be opened (`dest_error`)."""
    guest = parse_domain(dom.XMLDesc(0), what=f"XML of guest {dom.name()}")
    with contextlib.suppress(libvirt.libvirtError):
        guest = _with_state(guest, dom)
    devices = needs_devices(guest)
    dest_facts = unreachable(dest_uri, dest_error or "no connection") if dest is None else \
        read_host(dest, dest_uri, guest, devices=devices)
    src_facts = HostFacts(src_uri, devices=_node_devices(src)) if devices else None
    return assess(guest, options, dest_facts, src_facts)


def _with_state(guest: Guest, dom: libvirt.virDomain) -> Guest:
    return replace(guest, state=GuestState.from_libvirt(dom.state()[0]))


def preflight_json(check: Preflight) -> dict[str, Any]:
    """The preflight as `--json` prints it (without the plan, which the caller adds)."""
    return {"type": "preflight", "ok": check.ok, "findings": [f.to_json() for f in check.findings],
            "moves": [name_of(d) for d in check.to_move]}
