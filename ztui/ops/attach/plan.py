"""An attach request → a validated plan (device XML, live/config, what to create first), or one clear "no".

Validation answers every "no" that can be known in advance with one sentence (`BadRequest`) and changes
nothing: a taken target or devno, a devno out of range, a missing or unreadable image, an image or host
device another running guest uses, a host device that does not exist or is busy on the host, a live change
to a shut-off guest, a live vfio-ap hotplug. Only a valid plan reaches libvirt; libvirt's own refusals then
come back as `Outcome.REFUSED` with its reason.

`plan_attach` is pure over `GuestFacts` plus an optional `HostProbe` (None: host-side checks are skipped,
as for a unit test), so every rule here is testable without libvirt.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from ztui.errors import BadInput
from ztui.host.storage import HostFileKind, HostFiles
from ztui.libvirtxml.devices import (
    DeviceSpec,
    DiskSpec,
    HostdevSpec,
    InterfaceSpec,
    SpecError,
    build_xml,
    parse_busid,
    parse_pci,
    scsi_controller_xml,
)
from ztui.model import CcwAddress, DeviceKind, Guest, format_pci
from ztui.ops.attach.images import ImageError, new_image_format
from ztui.ops.attach.images import parse_size as image_size
from ztui.ops.attach.network_checks import BridgeKind
from ztui.ops.attach.probe import HostProbe

SOURCES = ("disk", "block", "dasd", "lun", "net", "bridge", "macvtap", "mdev", "pci")
"""The attach kinds, named like the `ztui attach` options."""

class BadRequest(BadInput, ValueError):
    """A request that cannot be carried out; nothing was changed. The message is one line for the user."""


@dataclass(frozen=True)
class AttachRequest:
    """What `ztui attach` (or the TUI) was asked for: exactly one source, the rest optional."""

    guest: str
    source_kind: str  # one of SOURCES
    source: str
    size: int | None = None  # bytes: create a new image of this size first (disk only)
    target: str = ""
    devno: str = ""
    live: bool | None = None  # None for both: live for a running guest, else config
    config: bool | None = None


@dataclass(frozen=True)
class AttachPlan:
    """A validated request: the device XML, where it goes, and what must happen first."""

    guest: str
    spec: DeviceSpec
    xml: str
    live: bool
    config: bool
    create_image: tuple[str, int, str] | None = None  # path, bytes, format: made just before the attach
    create_command: str = ""  # how the host makes it: qemu-img here, `virsh vol-create-as` elsewhere
    controller_xml: str = ""  # a virtio-scsi controller to attach first
    notes: tuple[str, ...] = field(default=())
    kind: str = ""

    @property
    def where(self) -> str:
        """`live`, `config` or `live and config`."""
        return " and ".join(w for w, on in (("live", self.live), ("config", self.config)) if on)


@dataclass(frozen=True)
class GuestFacts:
    """What validation needs to know about the guest and its neighbours on the same host."""

    guest: Guest  # the live XML when running, else the persistent one
    config: Guest | None  # the persistent XML, None for a transient guest
    active: bool
    others_running: tuple[Guest, ...] = ()

    @property
    def is_s390(self) -> bool:
        return self.guest.arch.startswith("s390") or self.guest.machine.startswith("s390")


def parse_size(text: str) -> int:
    """`64M`, `10G` … in bytes; BadRequest when it is not a positive size."""
    try:
        return image_size(text)
    except ImageError as exc:
        raise BadRequest(str(exc)) from None


def choose_live_config(facts: GuestFacts, live: bool | None, config: bool | None) -> tuple[bool, bool]:
    """The live/config pair for a request, or BadRequest when it cannot apply to this guest.

    Neither given: live for a running guest (what virsh does), the persistent config for a shut-off one."""
    name = facts.guest.name
    if not live and not config:
        if live is False or config is False:
            raise BadRequest("nothing to change: choose --live, --config or both")
        live, config = (True, False) if facts.active else (False, True)
    live, config = bool(live), bool(config)
    if live and not facts.active:
        raise BadRequest(f"{name} is not running: a live change needs a running guest (use --config)")
    if config and facts.config is None:
        raise BadRequest(f"{name} is transient: it has no persistent config to change (drop --config)")
    return live, config


def taken_targets(*guests: Guest | None) -> set[str]:
    return {d.target for g in guests if g is not None for d in g.devices if d.target}


def taken_devnos(*guests: Guest | None) -> set[tuple[int, int]]:
    return {(d.address.ssid, d.address.devno) for g in guests if g is not None for d in g.devices
            if isinstance(d.address, CcwAddress)}


def next_target(taken: set[str], prefix: str) -> str:
    """The first free name `vda`, `vdb`, … `vdz`, then `vdaa`, … (libvirt's order)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    for first in ["", *list(letters)]:
        for second in letters:
            name = f"{prefix}{first}{second}"
            if name not in taken:
                return name
    raise BadRequest(f"no free {prefix}X target name left")


def users_of_path(path: str, guests: Iterable[Guest], files: HostFiles | None = None) -> list[str]:
    """`guest (target)` for every device of these guests whose source is this file or block device.

    Paths are compared as the host sees them (`HostFiles.identity`: symlinks resolved here, the volume's
    key on another host); without the host's files, as written."""
    same = files.identity if files is not None else os.path.normpath
    real = same(path)
    return [f"{g.name} ({d.target or d.alias})" for g in guests for d in g.devices
            if d.source.startswith("/") and same(d.source) == real]


def users_of_source(source: str, guests: Iterable[Guest], kinds: Iterable[DeviceKind]) -> list[str]:
    """Devices of these kinds whose source (an mdev UUID, a host PCI address) is `source`."""
    wanted = set(kinds)
    return [f"{g.name} ({d.alias or d.target or d.kind.value})" for g in guests for d in g.devices
            if d.kind in wanted and d.source.lower() == source.lower()]


#: where a disk image never lives: a guest given one of these files read-write can break the host
SYSTEM_DIRS = ("/etc", "/boot", "/bin", "/sbin", "/lib", "/lib64", "/usr", "/proc", "/sys", "/dev", "/run")


def _check_not_system_file(path: str, files: HostFiles | None) -> None:
    """Refuse a host system file as an image (`/etc/passwd` read-write in a guest is a broken host): the path
    as given and as the guest's host resolves it (`HostFiles.identity`: symlinks resolved on this machine's
    own host, the volume's key elsewhere; never this machine's symlinks for another host; this machine's
    without a host to ask)."""
    names = {os.path.normpath(path), files.identity(path) if files is not None else os.path.realpath(path)}
    for real in names:
        for top in SYSTEM_DIRS:
            if real == top or real.startswith(top + "/"):
                raise BadRequest(f"{path} is a host system file under {top}, not a disk image: refused")


def _check_readable_file(path: str, files: HostFiles) -> str:
    """The image's format, after checking that the host has it as a regular, usable file."""
    found = files.examine(path)
    if found.kind is HostFileKind.MISSING:
        why = "" if found.error == "does not exist" else f": {found.error}"
        raise BadRequest(f"{path} does not exist on {files.host}{why} (give --size to create a new image)")
    if found.kind is HostFileKind.UNREADABLE:
        raise BadRequest(f"{path} cannot be read: {found.error}")
    if found.kind is HostFileKind.BLOCK:
        raise BadRequest(f"{path} is a block device: use --block")
    if found.kind is not HostFileKind.FILE:
        raise BadRequest(f"{path} is not a regular file")
    if not found.usable:
        raise BadRequest(f"{path} is not readable and writable")
    return found.format or "raw"


def _check_new_file(path: str, size: int | None, files: HostFiles | None) -> tuple[str, int, str]:
    if size is None or size <= 0:
        raise BadRequest("--size must be positive, e.g. 64M or 10G")
    if files is not None:
        if files.examine(path).kind is not HostFileKind.MISSING:
            raise BadRequest(f"{path} already exists: drop --size to attach it as it is")
        site = files.new_file_site(path)
        if site.problem:
            raise BadRequest(site.problem)
    return path, size, new_image_format(path)


def _check_target(target: str, prefix: str) -> None:
    if not re.fullmatch(rf"{prefix}[a-z]{{1,3}}", target):
        raise BadRequest(f"target '{target}' does not name a {prefix}X device (e.g. {prefix}c)")


def plan_attach(req: AttachRequest, facts: GuestFacts, probe: HostProbe | None = None) -> AttachPlan:
    """Validate a request against the guest (and the host, given a probe) and build its device XML."""
    if req.source_kind not in SOURCES:
        raise BadRequest(f"unknown source kind '{req.source_kind}' (one of {', '.join(SOURCES)})")
    if not req.source.strip():
        raise BadRequest(f"--{req.source_kind} needs a value")
    if req.size is not None and req.source_kind != "disk":
        raise BadRequest("--size only goes with --disk")
    live, config = choose_live_config(facts, req.live, req.config)
    name = facts.guest.name
    notes: list[str] = []
    if live and not config and facts.config is not None:
        notes.append(f"live only: the device is gone when {name} restarts (add --config to keep it)")
    ccw = _devno(req, facts)
    taken = taken_targets(facts.guest, facts.config)
    if req.target and req.target in taken:
        raise BadRequest(f"target {req.target} is already used by {name}")
    kind = req.source_kind
    if kind in ("mdev", "pci") and any(g is not None and g.secure_execution for g in (facts.guest, facts.config)):
        raise BadRequest(f"{name} is an IBM Secure Execution guest: it cannot take pass-through (vfio) devices "
                         "(QEMU docs/system/s390x/protvirt.rst)")
    create = None
    create_command = ""
    controller_xml = ""
    spec: DeviceSpec
    if kind in ("disk", "block", "dasd", "lun"):
        lun = kind == "lun"
        prefix = "sd" if lun else "vd"
        if req.target:
            _check_target(req.target, prefix)
        files = probe.files if probe is not None else None
        path, fmt, device, scsi_note = _storage_source(req, probe)
        if kind == "disk" and req.size is not None:
            create = _check_new_file(path, req.size, files)
            fmt = create[2]
            if files is not None:
                create_command = files.create_command(*create)
        else:
            users = users_of_path(path, facts.others_running, files)
            if users:
                raise BadRequest(f"{path} is already used by running guest {', '.join(users)}")
            mine = users_of_path(path, [g for g in (facts.guest, facts.config) if g is not None], files)
            if mine:
                raise BadRequest(f"{path} is already attached to {mine[0]}")
        if scsi_note:
            notes.append(scsi_note)
        target = req.target or next_target(taken, prefix)
        spec = DiskSpec(source=path, target=target, source_type="file" if kind == "disk" else "block",
                        device=device, bus="scsi" if lun else "virtio", format=fmt,
                        cache="none" if kind != "disk" else "", ccw=None if lun else ccw)
        if lun:
            controller_xml = _controller_needed(facts, live, config)
            if controller_xml:
                notes.append(f"{name} has no virtio-scsi controller: one is attached first")
    elif kind in ("net", "bridge", "macvtap"):
        if req.target:
            raise BadRequest("--target names disks; libvirt names the interface itself")
        spec = _interface(req, ccw, probe, new_mac(taken))
    elif kind == "mdev":
        if req.target:
            raise BadRequest("--target names disks, not mdevs")
        spec, live, config = _mdev(req, facts, ccw, probe, live, config, notes)
    else:
        if req.target:
            raise BadRequest("--target names disks, not PCI functions")
        if ccw is not None:
            raise BadRequest("--devno is a ccw address; a PCI function gets a PCI (zPCI) address")
        spec = _pci(req, facts, probe, notes)
    try:
        xml = build_xml(spec)
    except SpecError as exc:
        raise BadRequest(str(exc)) from None
    return AttachPlan(name, spec, xml, live, config, create, create_command, controller_xml, tuple(notes), kind)


def _devno(req: AttachRequest, facts: GuestFacts) -> CcwAddress | None:
    if not req.devno:
        return None
    if req.source_kind == "lun":
        raise BadRequest("--devno does not apply to a SCSI LUN (it sits on the controller's bus)")
    if not facts.is_s390:
        raise BadRequest(f"--devno is a ccw address; {facts.guest.name} is {facts.guest.arch or 'not s390x'} "
                         "and has no channel subsystem")
    try:
        ccw = parse_busid(req.devno)
    except SpecError as exc:
        raise BadRequest(f"{exc} (0.0.0000-0.0.ffff)") from None
    if ccw.ssid > 3:
        raise BadRequest(f"'{req.devno}': the subchannel set is 0-3")
    if (ccw.ssid, ccw.devno) in taken_devnos(facts.guest, facts.config):
        raise BadRequest(f"devno {ccw.text} is already used by another device of {facts.guest.name}")
    return ccw


def _storage_source(req: AttachRequest, probe: HostProbe | None) -> tuple[str, str, str, str]:
    """Path, format, disk device (`disk`/`lun`) and a note, after checking the source exists and is free."""
    kind = req.source_kind
    if kind == "disk":
        path = os.path.normpath(req.source) if req.source.startswith("/") else \
            os.path.abspath(os.path.expanduser(req.source))
        _check_not_system_file(path, probe.files if probe is not None else None)
        if req.size is None:
            fmt = _check_readable_file(path, probe.files) if probe is not None else new_image_format(path)
            return path, fmt, "disk", ""
        return path, "", "disk", ""
    path = req.source
    if kind == "dasd":
        try:
            busid = parse_busid(req.source).text
        except SpecError as exc:
            raise BadRequest(str(exc)) from None
        path = f"/dev/disk/by-path/ccw-{busid}"
        problem = probe.dasd_problem(busid, path) if probe is not None else None
        if problem:
            raise BadRequest(problem)
    elif not path.startswith("/"):
        path = f"/dev/{path}"
    device, note = "disk", ""
    lookup = probe.block_device(path) if probe is not None else None
    if lookup is not None and lookup.problem:
        raise BadRequest(lookup.problem)
    info = lookup.found if lookup is not None else None
    if info is not None and probe is not None:
        busy = probe.block_busy(info)
        if busy:
            raise BadRequest(busy)
        if kind == "lun":
            if info.scsi:
                device = "lun"
            else:
                note = f"{path} is not a SCSI device: attached as a SCSI disk (no SCSI command pass-through)"
    elif kind == "lun":
        device = "lun"
    return path, "raw", device, note


def _controller_needed(facts: GuestFacts, live: bool, config: bool) -> str:
    """Controller XML when the guest (live or config, as affected) has no virtio-scsi controller."""
    def has(guest: Guest | None) -> bool:
        return guest is not None and any(d.kind is DeviceKind.CONTROLLER and d.model == "virtio-scsi"
                                         for d in guest.devices)
    missing = (live and not has(facts.guest)) or (config and not has(facts.config))
    if not missing:
        return ""
    used = {d.target for g in (facts.guest, facts.config) if g is not None for d in g.devices
            if d.kind is DeviceKind.CONTROLLER}
    index = next(i for i in range(64) if f"scsi{i}" not in used)  # named, so the proof can find it
    return scsi_controller_xml(index)


def new_mac(taken: set[str]) -> str:
    """A random MAC in QEMU's 52:54:00 range that the guest does not use yet.

    ztui names the MAC itself (instead of letting libvirt pick one) so the new interface can be told
    apart from the others when its arrival is proven in the live XML."""
    while True:
        mac = "52:54:00:" + ":".join(f"{b:02x}" for b in secrets.token_bytes(3))
        if mac not in taken:
            return mac


def _interface(req: AttachRequest, ccw: CcwAddress | None, probe: HostProbe | None, mac: str) -> InterfaceSpec:
    source = req.source.strip()
    if req.source_kind == "net":
        problem = probe.network_problem(source) if probe is not None else None
        if problem:
            raise BadRequest(problem)
        return InterfaceSpec(type="network", source=source, mac=mac, ccw=ccw)
    if req.source_kind == "bridge":
        bridge = probe.bridge_kind(source) if probe is not None else None
        if bridge == BridgeKind.MISSING:
            raise BadRequest(f"there is no bridge '{source}' on this host (neither Linux nor Open vSwitch)")
        return InterfaceSpec(type="bridge", source=source, mac=mac, openvswitch=bridge == BridgeKind.OPENVSWITCH,
                             ccw=ccw)
    exists = probe.interface_exists(source) if probe is not None else None
    if exists is False:
        raise BadRequest(f"there is no network interface '{source}' on this host (ip link)")
    return InterfaceSpec(type="direct", source=source, mac=mac, mode="bridge", ccw=ccw)


def _mdev(req: AttachRequest, facts: GuestFacts, ccw: CcwAddress | None, probe: HostProbe | None, live: bool,
          config: bool, notes: list[str]) -> tuple[HostdevSpec, bool, bool]:
    uuid = req.source.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", uuid):
        raise BadRequest(f"'{req.source}' is not an mdev UUID")
    type_id = probe.mdev_type(uuid) if probe is not None else ""
    if type_id is None:
        raise BadRequest(f"there is no mdev {uuid} on this host (virsh nodedev-list --cap mdev; a vfio-ccw "
                         "mdev needs its subchannel bound to vfio_ccw first)")
    kinds = (DeviceKind.MDEV_VFIO_CCW, DeviceKind.MDEV_VFIO_AP, DeviceKind.MDEV_OTHER)
    users = users_of_source(uuid, facts.others_running, kinds)
    if users:
        raise BadRequest(f"mdev {uuid} is already used by running guest {', '.join(users)}")
    if users_of_source(uuid, [g for g in (facts.guest, facts.config) if g is not None], kinds):
        raise BadRequest(f"mdev {uuid} is already attached to {facts.guest.name}")
    model = "vfio-ap" if type_id.startswith("vfio_ap") else "vfio-pci" if type_id.startswith(("nvidia", "i915"))\
        else "vfio-ccw"
    if model == "vfio-ap":
        # hot-pluggable like any mdev (QEMU's vfio-ap device, libvirt); a guest takes one AP matrix only
        if ccw is not None:
            raise BadRequest("--devno does not apply to vfio-ap (an AP matrix has no ccw address)")
        for where, guest in (("live", facts.guest if live else None), ("config", facts.config if config else None)):
            if guest is not None and any(d.kind is DeviceKind.MDEV_VFIO_AP for d in guest.devices):
                raise BadRequest(f"{facts.guest.name} already has a vfio-ap device ({where}); a guest takes at "
                                 "most one: assign more adapters and domains to that mdev instead")
    return HostdevSpec(type="mdev", source=uuid, model=model, ccw=ccw if model == "vfio-ccw" else None), live, config


def _pci(req: AttachRequest, facts: GuestFacts, probe: HostProbe | None, notes: list[str]) -> HostdevSpec:
    try:
        address = parse_pci(req.source)
    except SpecError as exc:
        raise BadRequest(str(exc)) from None
    text = format_pci(address.domain, address.bus, address.slot, address.function)
    lookup = probe.pci_function(address) if probe is not None else None
    if lookup is not None and lookup.problem:
        raise BadRequest(lookup.problem)
    info = lookup.found if lookup is not None else None
    users = users_of_source(text, facts.others_running, (DeviceKind.HOSTDEV_PCI,))
    if users:
        raise BadRequest(f"PCI function {text} is already used by running guest {', '.join(users)}")
    if info is not None:
        if info.driver and info.driver not in ("vfio-pci", "pci-stub"):
            notes.append(f"{text} is bound to {info.driver} on the host: libvirt rebinds it to vfio-pci "
                         "(managed) and gives it back on detach")
        if info.iommu_group is None:
            notes.append(f"{text} has no IOMMU group: the host has no usable IOMMU/VFIO, libvirt will refuse")
    return HostdevSpec(type="pci", source=text, managed=True)
