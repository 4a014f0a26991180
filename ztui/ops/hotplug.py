"""Attach and detach requests: validated against the model before any change, then carried out with proof.

Validation answers every "no" that can be known in advance with one clear sentence (`BadRequest`) and
changes nothing: a taken target or devno, a missing or unreadable image, an image another running guest
uses, a host device that does not exist, a live change to a shut-off guest. Only then is libvirt asked, and
its own refusals come back as `Outcome.REFUSED` with libvirt's reason.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import stat
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import libvirt

from ztui.devxml import DeviceSpec, DiskSpec, HostdevSpec, InterfaceSpec, SpecError, build_xml, parse_busid, parse_pci
from ztui.model import CcwAddress, DeviceKind, Guest, GuestDevice
from ztui.ops.proof import DeviceChange, Outcome, attach

SOURCES = ("disk", "block", "dasd", "lun", "net", "bridge", "macvtap", "mdev", "pci")


class BadRequest(ValueError):
    """A request that cannot be carried out; nothing was changed. The message is one line for the user."""


@dataclass(frozen=True)
class AttachRequest:
    """What `ztui attach` (or the TUI) was asked for: exactly one source, the rest optional."""

    guest: str
    source_kind: str  # one of SOURCES
    source: str
    size: int | None = None  # bytes: create a new image of this size (disk only)
    target: str = ""
    devno: str = ""
    live: bool | None = None  # None: live for a running guest, else config
    config: bool | None = None


@dataclass(frozen=True)
class AttachPlan:
    """A validated request: the device XML, where it goes, and what must happen first."""

    guest: str
    spec: DeviceSpec
    xml: str
    live: bool
    config: bool
    create_image: tuple[str, int, str] | None = None  # path, bytes, format
    controller_xml: str = ""  # a virtio-scsi controller to add first
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class GuestFacts:
    """What validation needs to know about the guest and its neighbours on the same host."""

    guest: Guest  # live XML when running, else the persistent one
    config: Guest | None  # persistent XML, None for a transient guest
    active: bool
    others_running: tuple[Guest, ...] = ()


def choose_live_config(facts: GuestFacts, live: bool | None, config: bool | None) -> tuple[bool, bool]:
    """The live/config pair for a request, or BadRequest when it cannot apply to this guest."""
    name = facts.guest.name
    if live is None and config is None:
        live, config = (True, False) if facts.active else (False, True)
    live, config = bool(live), bool(config)
    if live and not facts.active:
        raise BadRequest(f"{name} is not running: a live change needs a running guest (use --config)")
    if config and facts.config is None:
        raise BadRequest(f"{name} is transient: it has no persistent config to change (drop --config)")
    if not live and not config:
        raise BadRequest("nothing to change: choose --live, --config or both")
    return live, config


def _targets(*guests: Guest | None) -> set[str]:
    return {d.target for g in guests if g is not None for d in g.devices if d.target}


def _ccw_taken(*guests: Guest | None) -> set[int]:
    return {d.address.devno for g in guests if g is not None for d in g.devices
            if isinstance(d.address, CcwAddress)}


def next_target(taken: set[str], prefix: str) -> str:
    """The first free name `vda`, `vdb`, … (then `vdaa`, like libvirt)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    for first in ["", *list(letters)]:
        for second in letters:
            name = f"{prefix}{first}{second}"
            if name not in taken:
                return name
    raise BadRequest(f"no free {prefix}X target name left")


def _users(path: str, guests: Iterable[Guest]) -> list[str]:
    real = os.path.realpath(path)
    found = []
    for guest in guests:
        for device in guest.devices:
            if device.source and device.source.startswith("/") and os.path.realpath(device.source) == real:
                found.append(f"{guest.name} ({device.target or device.alias})")
    return found


def image_format(path: str) -> str:
    """qcow2 when the file says so (its magic), else raw: never let QEMU guess from content."""
    try:
        with open(path, "rb") as handle:
            return "qcow2" if handle.read(4) == b"QFI\xfb" else "raw"
    except OSError:
        return "raw"


def _check_readable_file(path: str) -> None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise BadRequest(f"{path} does not exist (give --size to create a new image)") from None
    except OSError as exc:
        raise BadRequest(f"{path} cannot be read: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise BadRequest(f"{path} is not a regular file (use --block for a block device)")
    if not os.access(path, os.R_OK):
        raise BadRequest(f"{path} is not readable")


def _check_block(path: str) -> str:
    try:
        info = os.stat(path)
    except OSError:
        raise BadRequest(f"{path} does not exist on this host") from None
    if not stat.S_ISBLK(info.st_mode):
        raise BadRequest(f"{path} is not a block device")
    return path


def plan_attach(req: AttachRequest, facts: GuestFacts) -> AttachPlan:
    """Validate a request against the guest and build its device XML; BadRequest on any problem."""
    if req.source_kind not in SOURCES:
        raise BadRequest(f"unknown source kind '{req.source_kind}'")
    live, config = choose_live_config(facts, req.live, req.config)
    taken = _targets(facts.guest, facts.config)
    ccw = None
    if req.devno:
        try:
            ccw = parse_busid(req.devno)
        except SpecError as exc:
            raise BadRequest(str(exc)) from None
        if ccw.devno in _ccw_taken(facts.guest, facts.config):
            raise BadRequest(f"devno {ccw.text} is already used by another device of {facts.guest.name}")
    if req.target and req.target in taken:
        raise BadRequest(f"target {req.target} is already used by {facts.guest.name}")
    notes: list[str] = []
    create = None
    controller_xml = ""
    kind = req.source_kind
    spec: DeviceSpec
    if kind in ("disk", "block", "dasd", "lun"):
        path = req.source
        if kind == "disk":
            path = os.path.abspath(path)
            if req.size is not None:
                if req.size <= 0:
                    raise BadRequest("--size must be positive, e.g. 64M or 10G")
                if os.path.exists(path):
                    raise BadRequest(f"{path} already exists: drop --size to attach it as it is")
                if not os.path.isdir(os.path.dirname(path)):
                    raise BadRequest(f"directory {os.path.dirname(path)} does not exist")
                fmt = "qcow2" if path.endswith(".qcow2") else "raw"
                create = (path, req.size, fmt)
            else:
                _check_readable_file(path)
                fmt = image_format(path)
        else:
            if kind == "dasd":
                try:
                    busid = parse_busid(req.source).text
                except SpecError as exc:
                    raise BadRequest(str(exc)) from None
                path = f"/dev/disk/by-path/ccw-{busid}"
                if not os.path.exists(path):
                    raise BadRequest(f"DASD {busid} is not online on this host ({path} is missing)")
            path = _check_block(path)
            fmt = "raw"
        users = _users(path, facts.others_running)
        if users:
            raise BadRequest(f"{path} is already used by running guest {', '.join(users)}")
        lun = kind == "lun"
        target = req.target or next_target(taken, "sd" if lun else "vd")
        spec = DiskSpec(source=path, target=target, source_type="file" if kind == "disk" else "block",
                        device="lun" if lun else "disk", bus="scsi" if lun else "virtio", format=fmt,
                        cache="none" if kind != "disk" else "", ccw=None if lun else ccw)
        if lun and not any(d.kind is DeviceKind.CONTROLLER and d.model == "virtio-scsi"
                           for d in facts.guest.devices):
            controller_xml = "<controller type='scsi' model='virtio-scsi'/>"
            notes.append("the guest has no virtio-scsi controller: one is added first")
    elif kind in ("net", "bridge", "macvtap"):
        itype = {"net": "network", "bridge": "bridge", "macvtap": "direct"}[kind]
        spec = InterfaceSpec(type=itype, source=req.source, ccw=ccw)
    elif kind == "mdev":
        model = "vfio-ccw"
        spec = HostdevSpec(type="mdev", source=req.source, model=model, ccw=ccw)
    else:
        try:
            parse_pci(req.source)
        except SpecError as exc:
            raise BadRequest(str(exc)) from None
        spec = HostdevSpec(type="pci", source=req.source)
    try:
        xml = build_xml(spec)
    except SpecError as exc:
        raise BadRequest(str(exc)) from None
    return AttachPlan(facts.guest.name, spec, xml, live, config, create, controller_xml, tuple(notes))


def flag_words(live: bool, config: bool) -> list[str]:
    return (["--live"] if live else []) + (["--config"] if config else [])


def virsh_attach(uri: str, plan: AttachPlan, xml_file: str = "device.xml") -> str:
    return shlex.join(["virsh", "-c", uri, "attach-device", plan.guest, xml_file, *flag_words(plan.live, plan.config)])


def virsh_detach(uri: str, guest: str, live: bool, config: bool, xml_file: str = "device.xml") -> str:
    return shlex.join(["virsh", "-c", uri, "detach-device", guest, xml_file, *flag_words(live, config)])


def create_image(path: str, size: int, fmt: str) -> None:
    result = subprocess.run(["qemu-img", "create", "-q", "-f", fmt, path, str(size)], capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        raise BadRequest(f"qemu-img could not create {path}: {result.stderr.strip()}")


def carry_out_attach(conn: libvirt.virConnect, dom: libvirt.virDomain, plan: AttachPlan) -> DeviceChange:
    """Create the image and the controller if the plan says so, attach, and undo the image on failure."""
    if plan.create_image is not None:
        create_image(*plan.create_image)
    if plan.controller_xml:
        controller = attach(conn, dom, plan.controller_xml, live=plan.live, config=plan.config)
        if not controller.ok:
            if plan.create_image is not None:
                Path(plan.create_image[0]).unlink(missing_ok=True)
            return controller
    change = attach(conn, dom, plan.xml, live=plan.live, config=plan.config)
    if change.outcome is Outcome.REFUSED and plan.create_image is not None:
        Path(plan.create_image[0]).unlink(missing_ok=True)  # a failed action leaves things as they were
    return change


def find_for_detach(guest: Guest, name: str) -> GuestDevice:
    """A device by target (`vdb`), alias (`virtio-disk1`), bus-ID (`0.0.0003`), MAC or mdev UUID."""
    wanted = name.strip().lower()
    busid = ""
    with contextlib.suppress(SpecError):
        busid = parse_busid(wanted).text
    matches = [d for d in guest.devices
               if wanted in (d.target.lower(), d.alias.lower(), d.source.lower()) or (busid and d.busid == busid)]
    if not matches:
        raise BadRequest(f"{guest.name} has no device named {name} (a target, alias or bus-ID)")
    if len(matches) > 1:
        raise BadRequest(f"{name} names {len(matches)} devices of {guest.name}: use a target or alias")
    return matches[0]



def read_facts(conn: libvirt.virConnect, dom: libvirt.virDomain) -> GuestFacts:
    """The guest's live and persistent XML and the other running guests of the host (read-only calls)."""
    from ztui.domxml import parse_domain

    active = bool(dom.isActive())
    persistent = bool(dom.isPersistent())
    live = parse_domain(dom.XMLDesc(0), what=f"XML of guest {dom.name()}")
    config = parse_domain(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)) if persistent else None
    uuid = dom.UUIDString()
    others = tuple(parse_domain(d.XMLDesc(0)) for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
                   if d.UUIDString() != uuid)
    return GuestFacts(guest=live if active else (config or live), config=config, active=active,
                      others_running=others)


_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> int:
    """`64M`, `10G`, `512k`, `1048576` (binary units, like qemu-img)."""
    value = text.strip().lower().removesuffix("ib").removesuffix("b")
    unit = value[-1:] if value and value[-1] in "kmgt" else ""
    number = value[:-1] if unit else value
    try:
        size = float(number) * _UNITS[unit]
    except ValueError:
        raise BadRequest(f"'{text}' is not a size (e.g. 64M, 10G)") from None
    if size <= 0:
        raise BadRequest(f"'{text}' is not a positive size")
    return int(size)
