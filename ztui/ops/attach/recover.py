"""Resolving an unfinished journal entry: `finish` completes what it was doing, `rollback` undoes it.

Each decision is read from the guest as it is now (never from the step the entry reached: the process
that wrote it may have died just after a step it had not yet recorded), and each change is proven like
any attach or detach. The entry is taken over under the guest's lock, so an entry whose process still
runs (and holds the lock) cannot be resolved behind its back. Migration entries are resolved by the
migration code, which registers its functions here (`register`).

    change = resolve("20261129T…-attach-1a2b3c", Resolution.ROLLBACK)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from enum import StrEnum

import libvirt

from ztui import faults
from ztui.errors import Refused
from ztui.host.storage import HostFileKind, HostFilesError, host_files
from ztui.libvirt.connection import ConnectError, libvirt_reason, open_connection
from ztui.libvirtxml.domain import parse_device_xml
from ztui.model import GuestDevice
from ztui.ops.attach.guarded import end_entry
from ztui.ops.attach.prove import (
    DEFAULT_DETACH_TIMEOUT,
    DeviceChange,
    Outcome,
    attach,
    detach,
    find_device,
    read_config,
    read_live,
)
from ztui.ops.attach.settle import GuestHandle, image_in_use, settle_attach, settle_detach
from ztui.ops.safety.audit import record
from ztui.ops.safety.guestlock import guest_lock
from ztui.ops.safety.journal import Entry, JournalAction, Operation, load, resume
from ztui.ops.safety.signals import SignalGuard


class Resolution(StrEnum):
    FINISH = "finish"
    ROLLBACK = "rollback"


Resolver = Callable[[Entry, GuestHandle, Operation], DeviceChange]

_RESOLVERS: dict[tuple[JournalAction, Resolution], Resolver] = {}


def register(action: JournalAction, how: Resolution, resolver: Resolver) -> None:
    """Let another action's module (the migration) resolve its own entries."""
    _RESOLVERS[(action, how)] = resolver


def resolve(entry_id: str, how: Resolution) -> tuple[Entry, DeviceChange, Operation]:
    """Finish or roll back one entry (see the module); the audit log records the outcome, the entry goes
    when it is settled. `Refused` when the host or guest cannot be reached or another process holds it."""
    entry = load(entry_id)
    resolver = _RESOLVERS.get((entry.action, how))
    if resolver is None:
        raise Refused(f"ztui cannot {how.value} a {entry.action.value} entry yet; resolve {entry.guest} by hand "
                      f"(see {entry.id} in the journal)")
    try:
        conn = open_connection(entry.uri)
    except ConnectError as exc:
        raise Refused(f"{exc}; {entry.id} stays in the journal") from None
    try:
        try:
            dom = conn.lookupByUUIDString(entry.uuid)
        except libvirt.libvirtError as exc:
            raise Refused(f"{entry.guest} ({entry.uuid}) is not on {entry.uri}: {libvirt_reason(exc)}; "
                          f"{entry.id} stays in the journal") from None
        with SignalGuard(f"the {how.value} of {entry.id}") as guard, \
                guest_lock(entry.uri, entry.uuid, guest=entry.guest, action=f"journal {how.value}"):
            op = resume(entry)
            handle = GuestHandle(entry.uri, entry.uuid, entry.guest, conn, dom)
            try:
                faults.reached(f"journal-{how.value}", "start")
                change = resolver(entry, handle, op)
            except libvirt.libvirtError as exc:
                change = DeviceChange(Outcome.UNKNOWN, entry.guest, entry.device_xml,
                                      f"unknown: {libvirt_reason(exc)}; check with {handle.check_command()}")
            finally:
                handle.close()
            record(f"journal-{how.value}", entry.uri, entry.guest, change.outcome.value, journal=entry.id,
                   of=entry.action.value, xml=entry.device_xml, message=change.message)
            end_entry(op, change, guard)
            return entry, change, op
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            conn.close()


def _where(entry: Entry) -> tuple[bool, bool]:
    return bool(entry.plan.get("live", True)), bool(entry.plan.get("config", False))


def _present(handle: GuestHandle, device: GuestDevice, live: bool) -> GuestDevice | None:
    return find_device(read_live(handle.dom) if live else read_config(handle.dom), device)


def _attach_proven(handle: GuestHandle, xml: str, live: bool, config: bool, image: str = "") -> DeviceChange:
    change = attach(handle.conn, handle.dom, xml, live=live, config=config, name=handle.name)
    if change.outcome is Outcome.UNKNOWN:
        change = settle_attach(handle, xml, change, live=live, image=image)
    return change


def _detach_proven(handle: GuestHandle, device: GuestDevice, live: bool, config: bool,
                   timeout: float = DEFAULT_DETACH_TIMEOUT) -> DeviceChange:
    change = detach(handle.conn, handle.dom, device, live=live, config=config, timeout=timeout, name=handle.name)
    if change.outcome is Outcome.UNKNOWN:
        change = settle_detach(handle, device, change, live=live, timeout=timeout)
    return change


def _new_image(entry: Entry) -> tuple[str, int, str] | None:
    made = entry.plan.get("create_image")
    if not made:
        return None
    path, size, fmt = made
    return str(path), int(size), str(fmt)


def finish_attach(entry: Entry, handle: GuestHandle, op: Operation) -> DeviceChange:
    """The device attached (proven): already there, or attached now (its image and controller first)."""
    live, config = _where(entry)
    xml = str(entry.plan.get("xml") or entry.device_xml)
    wanted = parse_device_xml(str(entry.facts.get("attached_xml") or xml))
    found = _present(handle, wanted, live)
    if found is not None:
        return DeviceChange(Outcome.ATTACHED, handle.name, xml, f"{handle.name} already has it", device=found)
    image = _new_image(entry)
    files = host_files(handle.conn, handle.uri)  # the guest's host's: a volume of its pool unless it is this machine
    if image is not None and files.examine(image[0]).kind is HostFileKind.MISSING:
        try:
            files.create(*image)
        except HostFilesError as exc:
            return DeviceChange(Outcome.REFUSED, handle.name, xml, str(exc))
        op.step("image-created", image=image[0])
    controller_xml = str(entry.plan.get("controller_xml") or "")
    if controller_xml and _present(handle, parse_device_xml(controller_xml), live) is None:
        controller = _attach_proven(handle, controller_xml, live, config)
        if not controller.ok:
            return controller
        op.step("controller-attached", controller_xml=controller.device.xml if controller.device else "")
    change = _attach_proven(handle, xml, live, config, image[0] if image else "")
    if change.ok:
        op.step("device-attached", attached_xml=change.device.xml if change.device else xml)
    return change


def rollback_attach(entry: Entry, handle: GuestHandle, op: Operation) -> DeviceChange:
    """Nothing of the attach left: the device and its controller detached (proven), a new image removed
    when nothing holds it."""
    live, config = _where(entry)
    xml = str(entry.plan.get("xml") or entry.device_xml)
    wanted = parse_device_xml(str(entry.facts.get("attached_xml") or xml))
    found = _present(handle, wanted, live)
    if found is not None:
        change = _detach_proven(handle, found, live, config)
        if change.outcome is not Outcome.REMOVED:
            return change
        op.step("device-removed")
    controller_xml = str(entry.facts.get("controller_xml") or "")
    if controller_xml:
        controller = _present(handle, parse_device_xml(controller_xml), live)
        if controller is not None:
            change = _detach_proven(handle, controller, live, config)
            if change.outcome is not Outcome.REMOVED:
                return change
    image = _new_image(entry)
    if image is not None and "image" in entry.facts:
        in_use = image_in_use(image[0], handle)
        if in_use:
            return DeviceChange(Outcome.UNKNOWN, handle.name, xml,
                                f"{image[0]} is kept: {in_use}; check with {handle.check_command()}")
        host_files(handle.conn, handle.uri).remove(image[0])
        op.step("image-removed")
    return DeviceChange(Outcome.REMOVED, handle.name, xml, f"rolled back: {handle.name} does not have it")


def finish_detach(entry: Entry, handle: GuestHandle, op: Operation) -> DeviceChange:
    """The device gone (proven): already gone, or detached now."""
    live, config = _where(entry)
    device = parse_device_xml(entry.device_xml)
    found = _present(handle, device, live)
    if found is None:
        return DeviceChange(Outcome.REMOVED, handle.name, entry.device_xml, f"{handle.name} no longer has it",
                            device=device)
    timeout = float(entry.plan.get("timeout", DEFAULT_DETACH_TIMEOUT))
    change = _detach_proven(handle, found, live, config, timeout)
    if change.outcome is Outcome.REMOVED:
        op.step("device-removed")
    return change


def rollback_detach(entry: Entry, handle: GuestHandle, op: Operation) -> DeviceChange:
    """The device back on the guest (proven): still there, or attached again from its XML."""
    live, config = _where(entry)
    device = parse_device_xml(entry.device_xml)
    found = _present(handle, device, live)
    if found is not None:
        return DeviceChange(Outcome.ATTACHED, handle.name, entry.device_xml, f"{handle.name} still has it",
                            device=found)
    change = _attach_proven(handle, entry.device_xml, live, config)
    if change.ok:
        op.step("device-attached")
    return change


register(JournalAction.ATTACH, Resolution.FINISH, finish_attach)
register(JournalAction.ATTACH, Resolution.ROLLBACK, rollback_attach)
register(JournalAction.DETACH, Resolution.FINISH, finish_detach)
register(JournalAction.DETACH, Resolution.ROLLBACK, rollback_detach)
