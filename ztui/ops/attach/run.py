"""Attach and detach, end to end: read the facts, validate, change, prove — shared by the CLI, the TUI and
the migration.

The steps are kept apart so each caller can show what will happen before it happens:

    facts = read_facts(conn, dom)                       # read-only libvirt calls
    plan = plan_attach(request, facts, HostProbe.for_connection(conn))   # BadRequest: nothing changed
    virsh_commands(uri, plan)                           # what to show the administrator
    change = carry_out_attach(link, dom, plan)          # DeviceChange, proven by the live XML

    dplan = plan_detach(facts, "vdb")                   # by target, alias, bus-ID, MAC or mdev UUID
    change = carry_out_detach(link, dom, dplan, timeout=15)   # REMOVED only with proof, else PENDING

Blocking functions (`read_facts`, `carry_out_*`): call them from a worker thread or a command.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import libvirt

from ztui import faults
from ztui.errors import Interrupted
from ztui.host.storage import HostFilesError, host_files
from ztui.libvirt.connection import libvirt_reason
from ztui.libvirt.link import HostLink
from ztui.libvirtxml.common import pretty_xml
from ztui.libvirtxml.devices import has_address, with_ccw_address, with_user_alias
from ztui.model import CcwAddress, GuestDevice
from ztui.ops.attach.detach_plan import DetachPlan
from ztui.ops.attach.plan import (
    AttachPlan,
)
from ztui.ops.attach.prove import (
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
from ztui.ops.attach.settle import GuestHandle, image_in_use, settle_attach, settle_detach
from ztui.ops.attach.virsh import virsh_detach, virsh_reattach
from ztui.ops.safety.journal import Operation
from ztui.ops.safety.signals import SignalGuard

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


def carry_out_attach(link: HostLink, dom: libvirt.virDomain, plan: AttachPlan, *,
                     op: Operation | None = None, guard: SignalGuard | None = None) -> DeviceChange:
    """Create the image and the controller if the plan says so, attach, and prove it.

    A refused attach leaves things as they were: a new image is removed again (only when no process holds
    it open), a controller added for it is detached again. A qemu-img failure is REFUSED with qemu-img's
    reason. A connection lost on the way is re-opened and the guest read again (`settle_attach`); what
    stays UNKNOWN keeps every file. A signal (`guard`) stops it at the next step boundary and rolls back
    what was done: INTERRUPTED when that is proven, else UNKNOWN with the XML to check. The image is made by
    the guest's host (`ztui.host.storage`: qemu-img on this machine, a storage volume anywhere else)."""
    handle = GuestHandle.of(link, dom, plan.guest)
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

def carry_out_detach(link: HostLink, dom: libvirt.virDomain, plan: DetachPlan, *,
                     timeout: float = DEFAULT_DETACH_TIMEOUT, op: Operation | None = None,
                     guard: SignalGuard | None = None) -> DeviceChange:
    """Detach and prove it (`proof.detach`): REMOVED only when the live XML (config only: the persistent
    XML) no longer shows the device; PENDING after `timeout` with advice; REFUSED with libvirt's reason;
    a lost connection settled by re-connecting, else UNKNOWN with the device's XML.

    With live and config, the persistent config is checked as well once the live removal is proven. A
    signal (`guard`) stops it after the current step: a removed device is attached again (INTERRUPTED
    when proven); meanwhile a second signal prints the device's XML."""
    handle = GuestHandle.of(link, dom, plan.guest)
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


