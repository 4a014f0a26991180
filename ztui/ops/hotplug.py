"""Attach and detach, end to end: read the facts, validate, change, prove — shared by the CLI, the TUI and
the migration.

The steps are kept apart so each caller can show what will happen before it happens:

    facts = read_facts(conn, dom)                       # read-only libvirt calls
    plan = plan_attach(request, facts, HostProbe.for_connection(conn))   # BadRequest: nothing changed
    virsh_commands(uri, plan)                           # what to show the administrator
    change = carry_out_attach(conn, dom, plan)          # DeviceChange, proven by the live XML

    dplan = plan_detach(facts, "vdb")                   # by target, alias, bus-ID, MAC or mdev UUID
    change = carry_out_detach(conn, dom, dplan, timeout=15)   # REMOVED only with proof, else PENDING

Blocking functions (`read_facts`, `carry_out_*`): call them from a worker thread or a command.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
import secrets
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import libvirt

from ztui import faults
from ztui.errors import Interrupted, StateUnwritable
from ztui.host.storage import HostFilesError, host_files
from ztui.libvirt.connection import libvirt_reason
from ztui.libvirtxml.common import pretty_xml
from ztui.libvirtxml.devices import SpecError, has_address, parse_busid, with_ccw_address, with_user_alias
from ztui.libvirtxml.domain import parse_domain
from ztui.model import CcwAddress, Guest, GuestDevice
from ztui.ops.attach_plan import (
    SOURCES,
    AttachPlan,
    AttachRequest,
    BadRequest,
    GuestFacts,
    choose_live_config,
    next_target,
    plan_attach,
)
from ztui.ops.audit import record
from ztui.ops.host_checks import HostProbe
from ztui.ops.images import ImageError, create_command_text, image_format
from ztui.ops.images import parse_size as _parse_size
from ztui.ops.journal import Operation
from ztui.ops.proof import (
    DEFAULT_DETACH_TIMEOUT,
    DeviceChange,
    Outcome,
    Step,
    attach,
    detach,
    find_device,
    read_config,
    read_live,
)
from ztui.ops.settle import GuestHandle, image_in_use, settle_attach, settle_detach
from ztui.ops.signals import SignalGuard

__all__ = [
    "SOURCES",
    "AttachPlan",
    "AttachRequest",
    "BadRequest",
    "DetachPlan",
    "GuestFacts",
    "HostProbe",
    "audit_attach",
    "audit_detach",
    "audit_refused",
    "carry_out_attach",
    "carry_out_detach",
    "choose_live_config",
    "find_for_detach",
    "image_format",
    "next_target",
    "parse_size",
    "plan_attach",
    "plan_detach",
    "read_facts",
    "virsh_attach",
    "virsh_commands",
    "virsh_detach",
]


def parse_size(text: str) -> int:
    """`64M`, `10G` … in bytes; BadRequest when it is not a positive size."""
    try:
        return _parse_size(text)
    except ImageError as exc:
        raise BadRequest(str(exc)) from None


def read_facts(conn: libvirt.virConnect, dom: libvirt.virDomain) -> GuestFacts:
    """The guest's live and persistent XML and the other running guests of the host (read-only calls)."""
    active = bool(dom.isActive())
    persistent = bool(dom.isPersistent())
    live = parse_domain(dom.XMLDesc(0), what=f"XML of guest {dom.name()}")
    config = (parse_domain(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), what=f"config of guest {dom.name()}")
              if persistent else None)
    uuid = dom.UUIDString()
    others = []
    for other in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
        if other.UUIDString() == uuid:
            continue
        with contextlib.suppress(libvirt.libvirtError):  # a guest that stopped meanwhile uses nothing
            others.append(parse_domain(other.XMLDesc(0)))
    return GuestFacts(guest=live if active else (config or live), config=config, active=active,
                      others_running=tuple(others))


# --- virsh equivalents ------------------------------------------------------------------------------------

def flag_words(live: bool, config: bool) -> list[str]:
    return (["--live"] if live else []) + (["--config"] if config else [])


def virsh_attach(uri: str, plan: AttachPlan, xml_file: str = "device.xml") -> str:
    """`virsh -c URI attach-device GUEST device.xml --live|--config` (device.xml holds `plan.xml`)."""
    return shlex.join(["virsh", "-c", uri, "attach-device", plan.guest, xml_file, *flag_words(plan.live, plan.config)])


def virsh_commands(uri: str, plan: AttachPlan) -> list[str]:
    """Every command an administrator would type for this plan, in order: image, controller, device."""
    lines = []
    if plan.create_image is not None:
        lines.append(plan.create_command or create_command_text(*plan.create_image))
    if plan.controller_xml:
        lines.append(virsh_attach(uri, plan, "controller.xml"))
    lines.append(virsh_attach(uri, plan))
    return lines


def virsh_detach(uri: str, guest: str, live: bool, config: bool, xml_file: str = "device.xml") -> str:
    """`virsh -c URI detach-device GUEST device.xml --live|--config` (device.xml holds the device's XML)."""
    return shlex.join(["virsh", "-c", uri, "detach-device", guest, xml_file, *flag_words(live, config)])


# --- attach ---------------------------------------------------------------------------------------------

class AttachStep(StrEnum):
    """The steps of an attach, as the journal records them and `ztui/faults.py` names them."""

    IMAGE_CREATED = "image-created"
    CONTROLLER_ASKING = "controller-asking"
    CONTROLLER_RETURNED = "controller-returned"
    CONTROLLER_ATTACHED = "controller-attached"
    DEVICE_ASKING = "device-asking"
    DEVICE_RETURNED = "device-returned"
    DEVICE_ATTACHED = "device-attached"
    ROLLING_BACK = "rolling-back"


class DetachStep(StrEnum):
    """The steps of a detach."""

    DEVICE_ASKING = "device-asking"
    DEVICE_RETURNED = "device-returned"
    DEVICE_REMOVED = "device-removed"
    ROLLING_BACK = "rolling-back"


class _Marker:
    """Marks steps: journal entry (if any), then the fault hook; `check` asks the signal guard (if any)."""

    def __init__(self, action: str, op: Operation | None, guard: SignalGuard | None) -> None:
        self.action, self.op, self.guard = action, op, guard

    def __call__(self, step: str, **facts: Any) -> None:
        if self.op is not None:
            self.op.step(step, **facts)
        else:
            faults.reached(self.action, step)

    def check(self, where: str) -> None:
        if self.guard is not None:
            self.guard.check(where)

    def prefixed(self, prefix: str) -> Callable[[Step], None]:
        """The callback for `proof.attach/detach`: `prefix-asking` (then the guard) and `prefix-returned`."""
        def mark(step: Step) -> None:
            self(f"{prefix}-{step.value}")
            if step is Step.ASKING:
                self.check(f"{prefix}-{step.value}")
        return mark


@dataclass
class _AttachDone:
    image: bool = False
    controller: GuestDevice | None = None
    device: GuestDevice | None = None


def carry_out_attach(conn: libvirt.virConnect, dom: libvirt.virDomain, plan: AttachPlan, *,
                     uri: str = "", op: Operation | None = None, guard: SignalGuard | None = None) -> DeviceChange:
    """Create the image and the controller if the plan says so, attach, and prove it.

    A refused attach leaves things as they were: a new image is removed again (only when no process holds
    it open), a controller added for it is detached again. A qemu-img failure is REFUSED with qemu-img's
    reason. A connection lost on the way is re-opened and the guest read again (`settle_attach`); what
    stays UNKNOWN keeps every file. A signal (`guard`) stops it at the next step boundary and rolls back
    what was done: INTERRUPTED when that is proven, else UNKNOWN with the XML to check. The image is made by
    the guest's host (`ztui.host.storage`: qemu-img on this machine, a storage volume anywhere else)."""
    handle = GuestHandle.of(conn, dom, plan.guest, uri)
    mark = _Marker("attach", op, guard)
    done = _AttachDone()
    image = plan.create_image[0] if plan.create_image is not None else ""
    try:
        try:
            mark.check("the start")
            if plan.create_image is not None:
                try:
                    host_files(handle.conn, handle.uri).create(*plan.create_image)
                except HostFilesError as exc:
                    return DeviceChange(Outcome.REFUSED, plan.guest, plan.xml, str(exc))
                done.image = True
                mark(AttachStep.IMAGE_CREATED, image=image)
                mark.check(AttachStep.IMAGE_CREATED)
            if plan.controller_xml:
                controller = _attach_one(handle, plan.controller_xml, live=plan.live, config=plan.config,
                                         on_step=mark.prefixed("controller"))
                if not controller.ok:
                    if controller.outcome is Outcome.REFUSED:
                        _remove_new_image(plan, handle)
                    return DeviceChange(controller.outcome, plan.guest, plan.xml,
                                        f"the virtio-scsi controller was not added: {controller.message}",
                                        controller.seconds, controller.error_code)
                done.controller = controller.device
                mark(AttachStep.CONTROLLER_ATTACHED, controller_xml=controller.device.xml
                     if controller.device else plan.controller_xml)
                mark.check(AttachStep.CONTROLLER_ATTACHED)
            change = _attach_one(handle, plan.xml, live=plan.live, config=plan.config,
                                     on_step=mark.prefixed("device"), image=image)
            if change.outcome is Outcome.REFUSED:
                _remove_new_image(plan, handle)
                if done.controller is not None:
                    with contextlib.suppress(libvirt.libvirtError):
                        detach(handle.conn, handle.dom, done.controller, live=plan.live, config=plan.config,
                               timeout=2, name=plan.guest)
                return change
            if change.ok:
                done.device = change.device
                mark(AttachStep.DEVICE_ATTACHED, attached_xml=change.device.xml if change.device else plan.xml)
                mark.check(AttachStep.DEVICE_ATTACHED)
            return change
        except Interrupted as stop:
            mark(AttachStep.ROLLING_BACK, signal=stop.signum)
            return _roll_back_attach(handle, plan, done, str(stop))
    finally:
        handle.close()


ORPHAN_NODE = "Duplicate nodes with node-name"
ORPHAN_DEVICE = "Duplicate device ID"
ORPHAN_RETRIES = 32  # each refused try takes a few ms; a guest with many orphans needs many


def _attach_one(handle: GuestHandle, xml: str, *, live: bool, config: bool,
                on_step: Callable[[Step], None] | None = None, image: str = "") -> DeviceChange:
    """One proven attach; an UNKNOWN outcome is settled by re-connecting.

    A daemon killed between QEMU's blockdev-add and libvirt saving the guest's status leaves an orphan
    block node in QEMU, and the restarted daemon numbers its next node with the same index
    (`libvirt-N-storage`): QEMU refuses with "Duplicate nodes with node-name" before adding anything. Each
    refused attempt uses up one index in the daemon, so asking again (a few times) gets past the orphans.
    A forgotten device whose QEMU id libvirt would give again ("Duplicate device ID") is passed by giving
    the new device a user alias of its own (`with_user_alias`); one whose ccw address libvirt would give
    again ("Device fe.0.0003 already exists") by the next address the guest's XML leaves free — only
    when the request named no address (then libvirt was to pick one anyway)."""
    tries, picked = 0, False
    while True:
        change = attach(handle.conn, handle.dom, xml, live=live, config=config, on_step=on_step,
                        name=handle.name)
        if change.outcome is Outcome.UNKNOWN:
            change = settle_attach(handle, xml, change, live=live, image=image)
        if change.outcome is not Outcome.REFUSED or tries >= ORPHAN_RETRIES:
            break
        if ORPHAN_DEVICE in change.message:
            xml = with_user_alias(xml, f"ua-ztui-{secrets.token_hex(4)}")
        elif (taken := _orphan_ccw(change.message)) is not None and (picked or not has_address(xml)):
            free = _next_free_ccw(handle, taken, live)
            if free is None:
                break
            xml, picked = with_ccw_address(xml, free), True
        elif ORPHAN_NODE not in change.message:
            break
        tries += 1
    if tries and change.ok:
        change = dataclasses.replace(change, notes=(*change.notes, f"QEMU holds {tries} orphan block node(s) or "
                                                    "device(s) of an earlier attach cut short; they go when the "
                                                    "guest restarts",))
    return change


_ORPHAN_CCW = re.compile(r"Device fe\.([0-3])\.([0-9a-f]{4}) already exists")


def _orphan_ccw(message: str) -> CcwAddress | None:
    match = _ORPHAN_CCW.search(message)
    return CcwAddress(0xFE, int(match[1], 16), int(match[2], 16)) if match else None


def _next_free_ccw(handle: GuestHandle, taken: CcwAddress, live: bool) -> CcwAddress | None:
    """The first ccw devno after `taken` (same subchannel set) that the guest's XML does not use."""
    try:
        guest = read_live(handle.dom) if live else read_config(handle.dom)
    except libvirt.libvirtError:
        return None
    used = {d.busid for d in guest.devices if d.busid}
    for devno in range(taken.devno + 1, 0x10000):
        candidate = CcwAddress(0xFE, taken.ssid, devno)
        if candidate.text not in used:
            return candidate
    return None


def _roll_back_attach(handle: GuestHandle, plan: AttachPlan, done: _AttachDone, why: str) -> DeviceChange:
    """Undo a stopped attach in reverse order; INTERRUPTED when all of it is proven undone."""
    left: list[str] = []
    for device in (done.device, done.controller):
        if device is None:
            continue
        change = _detach_settled(handle, device, live=plan.live, config=plan.config,
                                 timeout=DEFAULT_DETACH_TIMEOUT)
        if change.outcome is not Outcome.REMOVED:
            left.append(f"{device.display_name} is still attached "
                        f"({change.message})")
            break
    if done.image and not left:
        kept = _remove_new_image(plan, handle)
        if kept:
            left.append(kept)
    if left:
        return DeviceChange(Outcome.UNKNOWN, plan.guest, plan.xml,
                            f"{why}; not all undone: {'; '.join(left)}; check with {handle.check_command()}",
                            device=done.device)
    return DeviceChange(Outcome.INTERRUPTED, plan.guest, plan.xml, f"{why}; nothing of it is left")


def _remove_new_image(plan: AttachPlan, handle: GuestHandle) -> str:
    """Remove the image this attach created, unless something may hold it: '' or why it was kept.

    The image is the guest's host's (`ztui.host.storage.host_files`): on any host but this machine's own
    it is a volume this attach created in one of its pools, deleted through the pool. Either way it is
    kept while a process may hold it (a QEMU block node libvirt forgot when its daemon died)."""
    if plan.create_image is None:
        return ""
    path = plan.create_image[0]
    in_use = image_in_use(path, handle)
    if in_use:
        return f"{path} is kept: {in_use}"
    host_files(handle.conn, handle.uri).remove(path)
    return ""


# --- detach -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DetachPlan:
    """A device to take off a guest: which one, from where (live, config or both), its XML."""

    guest: str
    device: GuestDevice
    live: bool
    config: bool

    @property
    def name(self) -> str:
        """How the device is called in messages: target, alias or kind."""
        return self.device.display_name

    @property
    def where(self) -> str:
        return " and ".join(w for w, on in (("live", self.live), ("config", self.config)) if on)


def find_for_detach(guest: Guest, name: str) -> GuestDevice:
    """A device by target (`vdb`), alias (`virtio-disk1`), bus-ID (`0.0.0003`), MAC or mdev UUID."""
    wanted = name.strip().lower()
    busid = ""
    with contextlib.suppress(SpecError):
        if "." in wanted:
            busid = parse_busid(wanted).text
    matches = [d for d in guest.devices
               if wanted in (d.target.lower(), d.alias.lower(), d.source.lower()) or (busid and d.busid == busid)]
    if not matches:
        raise BadRequest(f"{guest.name} has no device named {name} (a target, alias or bus-ID)")
    if len(matches) > 1:
        raise BadRequest(f"{name} names {len(matches)} devices of {guest.name}: use a target or alias")
    return matches[0]


def plan_detach(facts: GuestFacts, name: str, *, config: bool = False, force: bool = False) -> DetachPlan:
    """Which device to detach and from where: the running guest, plus its config with `config`.

    A shut-off guest changes in its config only. With `config` the device must be in the persistent config
    too (libvirt refuses the whole request otherwise), so that case is refused here, with the reason; so is
    a device libvirt or QEMU cannot take off (`ztui.ops.unplug`: a root PCI controller, a busy controller,
    the only console, …), and — unless `force` — the device the running guest IPLed from (`ztui.ops.boot`):
    its root file system would go from under it."""
    device = find_for_detach(facts.guest, name)
    if not facts.active:
        _refuse_unplug(facts.guest, device, live=False)
        return DetachPlan(facts.guest.name, device, live=False, config=True)
    live, config = choose_live_config(facts, True, config or None)
    in_config = find_device(facts.config, device) if config and facts.config is not None else None
    if config and facts.config is not None and in_config is None:
        raise BadRequest(f"{name} was attached to the running {facts.guest.name} only; it is not in the "
                         "persistent config (drop --config)")
    _refuse_unplug(facts.guest, device, live=live)
    if in_config is not None and facts.config is not None:
        _refuse_unplug(facts.config, in_config, live=False)
    if live and not force:
        from ztui.ops.boot import boot_warning

        defined = find_device(facts.config, device) is not None if facts.config is not None else None
        text, certain = boot_warning(facts.guest, device, defined)
        if certain:
            raise BadRequest(f"{text}; nothing was changed (--force detaches it all the same)")
    return DetachPlan(facts.guest.name, device, live, config)


def _refuse_unplug(guest: Guest, device: GuestDevice, *, live: bool) -> None:
    from ztui.ops.unplug import unplug_refusal

    reason = unplug_refusal(guest, device, live=live)
    if reason:
        raise BadRequest(f"{reason}; nothing was changed")


def carry_out_detach(conn: libvirt.virConnect, dom: libvirt.virDomain, plan: DetachPlan, *,
                     timeout: float = DEFAULT_DETACH_TIMEOUT, uri: str = "", op: Operation | None = None,
                     guard: SignalGuard | None = None) -> DeviceChange:
    """Detach and prove it (`proof.detach`): REMOVED only when the live XML (config only: the persistent
    XML) no longer shows the device; PENDING after `timeout` with advice; REFUSED with libvirt's reason;
    a lost connection settled by re-connecting, else UNKNOWN with the device's XML.

    With live and config, the persistent config is checked as well once the live removal is proven. A
    signal (`guard`) stops it after the current step: a removed device is attached again (INTERRUPTED
    when proven); meanwhile a second signal prints the device's XML."""
    handle = GuestHandle.of(conn, dom, plan.guest, uri)
    mark = _Marker("detach", op, guard)
    try:
        with guard.at_risk(pretty_xml(plan.device.xml)) if guard is not None else contextlib.nullcontext():
            try:
                mark.check("the start")
                change = _detach_settled(handle, plan.device, live=plan.live, config=plan.config,
                                         timeout=timeout, on_step=mark.prefixed("device"))
                if change.outcome is not Outcome.REMOVED:
                    return change
                mark(DetachStep.DEVICE_REMOVED)
                mark.check(DetachStep.DEVICE_REMOVED)
            except Interrupted as stop:
                mark(DetachStep.ROLLING_BACK, signal=stop.signum)
                return _roll_back_detach(handle, plan, str(stop))
        if plan.live and plan.config:
            with contextlib.suppress(libvirt.libvirtError):
                if find_device(read_config(handle.dom), plan.device) is not None:
                    return DeviceChange(Outcome.PENDING, change.guest, change.xml,
                                        f"{plan.name} left the running guest but is still in the persistent config",
                                        change.seconds, device=plan.device,
                                        notes=(virsh_detach(handle.uri, plan.guest, False, True),))
        return change
    finally:
        handle.close()


def _detach_settled(handle: GuestHandle, device: GuestDevice, *, live: bool, config: bool, timeout: float,
                    on_step: Callable[[Step], None] | None = None) -> DeviceChange:
    change = detach(handle.conn, handle.dom, device, live=live, config=config, timeout=timeout, on_step=on_step,
                    name=handle.name)
    if change.outcome is Outcome.UNKNOWN:
        change = settle_detach(handle, device, change, live=live, timeout=timeout)
    return change


def _roll_back_detach(handle: GuestHandle, plan: DetachPlan, why: str) -> DeviceChange:
    """Put a device back that a stopped detach removed; INTERRUPTED when it is proven back (or never left)."""
    try:
        present = find_device(read_live(handle.dom) if plan.live else read_config(handle.dom), plan.device)
    except libvirt.libvirtError as exc:
        return DeviceChange(Outcome.UNKNOWN, plan.guest, plan.device.xml,
                            f"{why}; the guest cannot be read ({libvirt_reason(exc)}); check with "
                            f"{handle.check_command()}", device=plan.device)
    if present is not None:
        return DeviceChange(Outcome.INTERRUPTED, plan.guest, plan.device.xml, f"{why}; {plan.name} is still attached",
                            device=plan.device)
    change = _attach_one(handle, plan.device.xml, live=plan.live, config=plan.config)
    if change.ok:
        return DeviceChange(Outcome.INTERRUPTED, plan.guest, plan.device.xml,
                            f"{why}; {plan.name} is attached again", device=change.device)
    return DeviceChange(Outcome.UNKNOWN, plan.guest, plan.device.xml,
                        f"{why}; {plan.name} was removed and could not be attached again ({change.message}); "
                        f"put it back with {virsh_reattach(handle.uri, plan)} and this XML: "
                        f"{' '.join(pretty_xml(plan.device.xml).split())}", device=plan.device)


def virsh_reattach(uri: str, plan: DetachPlan, xml_file: str = "device.xml") -> str:
    """`virsh -c URI attach-device GUEST device.xml …`: how to put a detached device back by hand."""
    return shlex.join(["virsh", "-c", uri, "attach-device", plan.guest, xml_file,
                       *flag_words(plan.live, plan.config)])


# --- audit ------------------------------------------------------------------------------------------------

def audit_attach(uri: str, plan: AttachPlan, change: DeviceChange, *, request: AttachRequest | None = None,
                 via: str = "cli", **extra: Any) -> None:
    """One audit record for an attach attempt: request, spec, XML, commands and the proven result."""
    fields: dict[str, Any] = {}
    if request is not None:
        fields["request"] = dataclasses.asdict(request)
    record("attach", uri, plan.guest, change.outcome.value, **fields,
           spec={"type": type(plan.spec).__name__, **dataclasses.asdict(plan.spec)}, xml=plan.xml,
           controller_xml=plan.controller_xml or None, live=plan.live, config=plan.config,
           virsh=virsh_commands(uri, plan), message=change.message, error_code=change.error_code,
           seconds=round(change.seconds, 3), via=via, **extra)


def audit_detach(uri: str, plan: DetachPlan, change: DeviceChange, *, timeout: float, via: str = "cli",
                 asked: str = "", **extra: Any) -> None:
    """One audit record for a detach attempt, with the device XML and the proven (or pending) result."""
    record("detach", uri, plan.guest, change.outcome.value, device=asked or plan.name, target=plan.name,
           alias=plan.device.alias, live=plan.live, config=plan.config, xml=plan.device.xml,
           virsh=virsh_detach(uri, plan.guest, plan.live, plan.config), message=change.message,
           error_code=change.error_code, timeout=timeout, seconds=round(change.seconds, 3), via=via, **extra)


def audit_refused(action: str, uri: str, guest: str, message: str, **fields: Any) -> None:
    """A request refused before any change (bad input): recorded too, so the log shows every attempt.

    A log that cannot be written must not turn bad input (exit 2) into another error: it is logged."""
    try:
        record(action, uri, guest, "bad request", message=message, **fields)
    except StateUnwritable as exc:
        logging.getLogger("ztui.audit").warning("%s", exc)
