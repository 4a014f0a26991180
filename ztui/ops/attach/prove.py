"""Attach and detach with proof: a device counts as added or removed only when libvirt shows it.

`detachDeviceFlags` returns success on x86 while the device stays (the guest never released it), and
DEVICE_REMOVAL_FAILED may never come (docs/ARCHITECTURE.md §4). So every change is followed by re-reading the
guest's live XML until the device is there (attach) or gone (detach); the DEVICE_REMOVED event only
wakes the wait early. After the timeout a detach is reported as *removal failed*, never as done.

A connection that dies between asking and proof makes the outcome UNKNOWN, never REFUSED: the request may
have reached QEMU. The caller re-connects and decides from the live XML (`ops/settle.py`).

Blocking functions: call them from a worker thread or a command, never from the UI loop.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import libvirt

from ztui.libvirt.connection import libvirt_reason
from ztui.libvirtxml.domain import parse_device_xml, parse_domain
from ztui.model import DeviceCategory, Guest, GuestDevice

DEFAULT_DETACH_TIMEOUT = 15.0
DEFAULT_ATTACH_TIMEOUT = 5.0
POLL_INTERVAL = 0.05


class Outcome(StrEnum):
    """How an attach or detach ended."""

    ATTACHED = "attached"  # proven present in the live (or persistent) XML
    REMOVED = "removed"  # proven gone
    REFUSED = "refused"  # libvirt said no; nothing changed
    PENDING = "removal pending"  # libvirt accepted, the guest has not released it yet (timed out)
    NOT_SEEN = "not seen"  # libvirt accepted an attach but the device never appeared
    UNKNOWN = "unknown"  # asked, then the connection was lost (or the proof could not be read)
    INTERRUPTED = "interrupted"  # a signal stopped it; what had been done is proven undone


class Step(StrEnum):
    """The moments of one attach or detach that a journal records and a fault test strikes at."""

    ASKING = "asking"  # the request is about to be sent
    RETURNED = "returned"  # libvirt answered; the proof is next


@dataclass(frozen=True)
class DeviceChange:
    """The result of one attach or detach, with what is needed to explain or redo it."""

    outcome: Outcome
    guest: str
    xml: str
    message: str
    seconds: float = 0.0
    error_code: int | None = None
    device: GuestDevice | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.ATTACHED, Outcome.REMOVED)


def same_device(a: GuestDevice, b: GuestDevice) -> bool:
    """Whether two parsed devices are the same device of one guest.

    libvirt's alias decides when both have one; otherwise the kind and what names the device to the
    guest and the host (target, source, and the guest address when both have one)."""
    if a.alias and b.alias:
        return a.alias == b.alias
    if a.kind.category is DeviceCategory.NETWORK and b.kind.category is DeviceCategory.NETWORK \
            and a.target and b.target:
        return a.target == b.target  # the MAC; the live XML may show a network's interface as its bridge
    if a.kind is not b.kind:
        return False
    if a.target or b.target:
        if a.target != b.target:
            return False
    elif a.source != b.source:
        return False
    if a.address is not None and b.address is not None:
        return a.address_text == b.address_text
    return True


def find_device(guest: Guest, wanted: GuestDevice) -> GuestDevice | None:
    for device in guest.devices:
        if same_device(device, wanted):
            return device
    return None


StepCallback = Callable[[Step], None]

# libvirt error codes that mean "the conversation with the daemon broke", not "the daemon said no"
_LOST_CODES = frozenset(getattr(libvirt, name) for name in (
    "VIR_ERR_SYSTEM_ERROR", "VIR_ERR_RPC", "VIR_ERR_NO_CONNECT", "VIR_ERR_INVALID_CONN", "VIR_ERR_AUTH_CANCELLED",
    "VIR_ERR_OPERATION_TIMEOUT") if hasattr(libvirt, name))
_LOST_DOMAINS = frozenset(getattr(libvirt, name) for name in ("VIR_FROM_RPC", "VIR_FROM_REMOTE", "VIR_FROM_STREAMS")
                          if hasattr(libvirt, name))


def connection_lost(exc: libvirt.libvirtError, conn: libvirt.virConnect | None = None) -> bool:
    """Whether a libvirt error says the connection broke (so the request may or may not have been carried
    out) rather than that libvirt refused it."""
    if exc.get_error_code() in _LOST_CODES or exc.get_error_domain() in _LOST_DOMAINS:
        return True
    text = (exc.get_error_message() or "").lower()
    if any(s in text for s in ("end of file while reading", "client socket is closed", "broken pipe",
                               "connection reset", "connection closed")):
        return True
    if conn is not None:
        try:
            return not conn.isAlive()
        except libvirt.libvirtError:
            return True
    return False


def _lost(name: str, xml: str, exc: libvirt.libvirtError, started: float, when: str,
          device: GuestDevice | None = None) -> DeviceChange:
    return DeviceChange(Outcome.UNKNOWN, name, xml,
                        f"the connection to the host was lost {when}: {libvirt_reason(exc)}",
                        time.monotonic() - started, exc.get_error_code(), device)


def _flags(live: bool, config: bool) -> int:
    flags = 0
    if live:
        flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
    if config:
        flags |= libvirt.VIR_DOMAIN_AFFECT_CONFIG
    return flags


def read_live(dom: libvirt.virDomain) -> Guest:
    return parse_domain(dom.XMLDesc(0), what=f"XML of guest {dom.name()}")


def read_config(dom: libvirt.virDomain) -> Guest:
    return parse_domain(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), what=f"config of guest {dom.name()}")


class _RemovalWaiter:
    """Wakes a waiting thread when libvirt reports DEVICE_REMOVED for one domain (needs the event loop)."""

    def __init__(self, conn: libvirt.virConnect, dom: libvirt.virDomain) -> None:
        self.event = threading.Event()
        self._conn = conn
        self._id: int | None = None
        with contextlib.suppress(libvirt.libvirtError):
            self._id = conn.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
                                                   self._removed, None)

    def _removed(self, _conn: object, _dom: object, _alias: str, _opaque: object) -> None:
        self.event.set()

    def close(self) -> None:
        if self._id is not None:
            with contextlib.suppress(libvirt.libvirtError):
                self._conn.domainEventDeregisterAny(self._id)
            self._id = None


def attach(conn: libvirt.virConnect, dom: libvirt.virDomain, xml: str, *, live: bool, config: bool,
           timeout: float = DEFAULT_ATTACH_TIMEOUT, on_step: StepCallback | None = None,
           name: str = "") -> DeviceChange:
    """Attach device XML and wait until the live XML (or, config only, the persistent XML) shows it.

    UNKNOWN when the connection breaks after the request was made: the device may be attached."""
    name = name or dom.name()
    wanted = parse_device_xml(xml)
    started = time.monotonic()
    if on_step is not None:
        on_step(Step.ASKING)
    try:
        dom.attachDeviceFlags(xml, _flags(live, config))
    except libvirt.libvirtError as exc:
        if connection_lost(exc, conn):
            return _lost(name, xml, exc, started, "while asking to attach")
        return DeviceChange(Outcome.REFUSED, name, xml, libvirt_reason(exc), time.monotonic() - started,
                            exc.get_error_code())
    if on_step is not None:
        on_step(Step.RETURNED)
    reader = read_live if live else read_config
    deadline = started + timeout
    while True:
        try:
            found = find_device(reader(dom), wanted)
        except libvirt.libvirtError as exc:
            return _lost(name, xml, exc, started, "before the attach was proven")
        if found is not None:
            return DeviceChange(Outcome.ATTACHED, name, xml, f"attached to {name}", time.monotonic() - started,
                                device=found)
        if time.monotonic() >= deadline:
            return DeviceChange(Outcome.NOT_SEEN, name, xml,
                                f"libvirt accepted the device but {name} does not show it after {timeout:g} s",
                                time.monotonic() - started)
        time.sleep(POLL_INTERVAL)


def detach(conn: libvirt.virConnect, dom: libvirt.virDomain, device: GuestDevice, *, live: bool, config: bool,
           timeout: float = DEFAULT_DETACH_TIMEOUT, on_step: StepCallback | None = None,
           name: str = "") -> DeviceChange:
    """Detach a device and wait for proof: gone from the live XML (DEVICE_REMOVED wakes the wait early).

    A config-only detach is proven by the persistent XML. A live detach that the guest does not complete
    within `timeout` is PENDING ("removal failed: the guest did not release the device"), never success.
    UNKNOWN when the connection breaks after the request was made.
    """
    name = name or dom.name()
    started = time.monotonic()
    if on_step is not None:
        on_step(Step.ASKING)
    waiter = _RemovalWaiter(conn, dom) if live else None
    try:
        # the call itself may block (libvirt waits ~5 s for an x86 guest that never answers), so it runs
        # beside the clock: the timeout covers the call and the wait for proof together
        refused: list[libvirt.libvirtError] = []
        returned = threading.Event()

        def call() -> None:
            try:
                dom.detachDeviceFlags(device.xml, _flags(live, config))
            except libvirt.libvirtError as exc:
                refused.append(exc)
            finally:
                returned.set()

        threading.Thread(target=call, name=f"detach {name}", daemon=True).start()
        deadline = started + timeout
        returned.wait(max(0.0, deadline - time.monotonic()))
        if refused:
            exc = refused[0]
            if connection_lost(exc, conn):
                return _lost(name, device.xml, exc, started, "while asking to detach", device)
            return DeviceChange(Outcome.REFUSED, name, device.xml, libvirt_reason(exc),
                                time.monotonic() - started, exc.get_error_code(), device)
        if on_step is not None:
            on_step(Step.RETURNED)
        reader = read_live if live else read_config
        while True:
            try:
                present = find_device(reader(dom), device) is not None
            except libvirt.libvirtError as exc:
                return _lost(name, device.xml, exc, started, "before the detach was proven", device)
            if not present:
                return DeviceChange(Outcome.REMOVED, name, device.xml, f"removed from {name}",
                                    time.monotonic() - started, device=device)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return DeviceChange(
                    Outcome.PENDING, name, device.xml,
                    f"removal failed: the guest did not release the device within {timeout:g} s",
                    time.monotonic() - started, device=device,
                    notes=("a guest releases a device only when its OS cooperates: check that it runs and "
                           "handles hot-unplug (x86 PCI needs ACPI and a Linux guest), then retry or detach "
                           "from the persistent config and restart the guest",))
            if waiter is not None:
                waiter.event.wait(min(POLL_INTERVAL * 4, remaining))
                waiter.event.clear()
            else:
                time.sleep(min(POLL_INTERVAL, remaining))
    finally:
        if waiter is not None:
            waiter.close()
