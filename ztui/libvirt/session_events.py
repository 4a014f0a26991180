"""The events a host session subscribes to on its connection, and what each one asks of the session.

Every callback runs in libvirt's one event thread (`ztui.libvirt.eventloop`), so none of them blocks: each
only queues a job for the session's thread (`ztui.libvirt.session_jobs`) or hands a line of text to the
sink. A generation counter, bumped on every subscription and unsubscription, makes the callbacks of a
connection that went away harmless. A host on this machine's kernel is also watched through udev, which
sees device changes libvirt does not report (a DASD set offline).
"""

from __future__ import annotations

import contextlib
import enum
import logging
import threading
from collections.abc import Callable

import libvirt

from ztui.bounded import ordered_map
from ztui.host.facts_source import facts_source_for
from ztui.libvirt.connection import libvirt_reason
from ztui.libvirt.session_jobs import Job, SessionJobs
from ztui.libvirt.session_updates import EventSeen, Sink
from ztui.model import GuestState

log = logging.getLogger("ztui.libvirt.session")

_LIFECYCLE = {
    0: "defined", 1: "undefined", 2: "started", 3: "suspended", 4: "resumed", 5: "stopped",
    6: "shut down", 7: "pmsuspended", 8: "crashed",
}


def lifecycle_text(event: int, detail: int) -> str:
    """A lifecycle event in words; a migration says so (a guest that left is not "stopped")."""
    if event == libvirt.VIR_DOMAIN_EVENT_STOPPED and detail == libvirt.VIR_DOMAIN_EVENT_STOPPED_MIGRATED:
        return "migrated away"
    if event == libvirt.VIR_DOMAIN_EVENT_STARTED and detail == libvirt.VIR_DOMAIN_EVENT_STARTED_MIGRATED:
        return "arrived by migration"
    if event == libvirt.VIR_DOMAIN_EVENT_RESUMED and detail == libvirt.VIR_DOMAIN_EVENT_RESUMED_MIGRATED:
        return "resumed after migration"
    if event == libvirt.VIR_DOMAIN_EVENT_SUSPENDED and detail == libvirt.VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED:
        return "paused for migration"
    return _LIFECYCLE.get(event, f"event {event}")


_STATE_AFTER = {
    libvirt.VIR_DOMAIN_EVENT_STARTED: GuestState.RUNNING, libvirt.VIR_DOMAIN_EVENT_SUSPENDED: GuestState.PAUSED,
    libvirt.VIR_DOMAIN_EVENT_RESUMED: GuestState.RUNNING, libvirt.VIR_DOMAIN_EVENT_STOPPED: GuestState.SHUTOFF,
    libvirt.VIR_DOMAIN_EVENT_CRASHED: GuestState.CRASHED,
    libvirt.VIR_DOMAIN_EVENT_PMSUSPENDED: GuestState.PMSUSPENDED,
}


def lifecycle_state(event: int, detail: int) -> GuestState | None:
    """The state a guest is in after this lifecycle event; None when the event does not say (defined,
    shut down, or a migration's stop: the guest may be gone rather than shut off)."""
    if event == libvirt.VIR_DOMAIN_EVENT_STOPPED and detail == libvirt.VIR_DOMAIN_EVENT_STOPPED_MIGRATED:
        return None
    return _STATE_AFTER.get(event)


class Events(enum.Enum):
    """The two kinds of libvirt event registration (each with its own deregistration call)."""

    DOMAIN = enum.auto()
    NODE_DEVICE = enum.auto()


_CLOSE_REASONS = {
    0: "connection error", 1: "the daemon closed the connection", 2: "keepalive timed out",
    3: "connection closed",
}


class EventSubscription:
    """A session's events on its current connection, and the udev watch beside them (`watch_udev`: the
    session resolves chains and reads udev, so a local host's device changes are worth a rescan)."""

    def __init__(self, uri: str, jobs: SessionJobs, sink: Sink, stopping: threading.Event, *,
                 watch_udev: bool) -> None:
        self.uri = uri
        self._jobs = jobs
        self._sink = sink
        self._stopping = stopping
        self._watch_udev = watch_udev
        self._watch: object | None = None  # a ztui.host.udev.UdevWatch while connected to a local host
        self._callback_ids: list[tuple[Events, int]] = []
        self._generation = 0  # bumps on every (un)subscription, so callbacks of a dead connection are ignored

    def subscribe(self, conn: libvirt.virConnect, *, far: bool) -> None:
        """Register the events on `conn`, keepalive and the close callback. `far`: a host far away, whose
        registrations go out at once and whose lifecycle events show a guest's new state a round trip before
        its re-read lands."""
        self._generation += 1
        generation = self._generation
        # the test driver has no keepalive; the close callback still works for real daemons
        with contextlib.suppress(libvirt.libvirtError):
            conn.setKeepAlive(5, 3)

        def on_domain(_conn: libvirt.virConnect, dom: libvirt.virDomain, *rest: object) -> None:
            if generation == self._generation:
                self._jobs.ask_guest(dom.UUIDString(), dom)

        def on_lifecycle(_conn: libvirt.virConnect, dom: libvirt.virDomain, event: int, detail: int,
                         _opaque: object) -> None:
            if generation != self._generation:
                return
            self._sink(EventSeen(self.uri, dom.name(), lifecycle_text(event, detail)))
            state = lifecycle_state(event, detail) if far else None
            if state is not None:
                self._jobs.ask_state(dom.UUIDString(), state)
            self._jobs.ask_guest(dom.UUIDString(), dom)

        def on_device(_conn: libvirt.virConnect, dom: libvirt.virDomain, alias: str, _opaque: object) -> None:
            if generation == self._generation:
                self._jobs.ask_guest(dom.UUIDString(), dom)

        def on_close(_conn: libvirt.virConnect, reason: int, _opaque: object) -> None:
            if generation == self._generation and not self._stopping.is_set():
                self._jobs.put(Job.LOST, _CLOSE_REASONS.get(reason, "connection closed"))

        def on_node_device(_conn: libvirt.virConnect, _dev: object, *_rest: object) -> None:
            if generation == self._generation:
                self._jobs.ask_inventory()

        wanted: list[tuple[Events, int, Callable[..., None]]] = [
            (Events.DOMAIN, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, on_lifecycle),
            (Events.DOMAIN, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, on_device),
            (Events.DOMAIN, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, on_device),
            (Events.DOMAIN, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED, on_device),
            (Events.DOMAIN, libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, on_domain),
            (Events.NODE_DEVICE, libvirt.VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE, on_node_device),
            (Events.NODE_DEVICE, libvirt.VIR_NODE_DEVICE_EVENT_ID_UPDATE, on_node_device),
        ]

        def register(event: tuple[Events, int, Callable[..., None]]) -> tuple[Events, int] | None:
            kind, event_id, callback = event
            if kind is Events.DOMAIN:
                return kind, conn.domainEventRegisterAny(None, event_id, callback, None)
            try:
                return kind, conn.nodeDeviceEventRegisterAny(None, event_id, callback, None)
            except libvirt.libvirtError as exc:  # older daemons: the udev watch and resync still cover it
                log.info("%s: no node-device events: %s", self.uri, libvirt_reason(exc))
                return None

        # each registration is a round trip: a host far away gets them all at once (see `spread_for`); but
        # libvirt-python makes a connection's table of callbacks at its first registration of each kind,
        # unlocked, so the first of each kind goes alone
        at_once = len(wanted) if far else 1
        firsts = [next(e for e in wanted if e[0] == kind) for kind in Events]
        ids = [register(e) for e in firsts] + ordered_map(register, [e for e in wanted if e not in firsts], at_once)
        self._callback_ids = [cid for cid in ids if cid is not None]
        self._start_udev_watch()
        conn.registerCloseCallback(on_close, None)

    def unsubscribe(self, conn: libvirt.virConnect | None) -> None:
        """From now on no callback of the connection going away acts; `conn`'s events deregistered and the udev
        watch stopped (nothing to deregister when `conn` is None). The connection itself is the caller's."""
        self._generation += 1
        if conn is None:
            return
        for kind, cid in self._callback_ids:
            try:
                if kind is Events.DOMAIN:
                    conn.domainEventDeregisterAny(cid)
                elif kind is Events.NODE_DEVICE:
                    conn.nodeDeviceEventDeregisterAny(cid)
            except libvirt.libvirtError:
                pass
        self._stop_udev_watch()
        self._callback_ids = []
        with contextlib.suppress(libvirt.libvirtError):
            conn.unregisterCloseCallback()

    def _start_udev_watch(self) -> None:
        """Local hosts only: udev sees device changes libvirt does not report (a DASD set offline)."""
        if self._watch is not None or not (self._watch_udev and facts_source_for(self.uri).same_machine):
            return
        try:  # only here: a host not on this machine's kernel never needs pyudev (11 ms to import)
            from ztui.host.udev import UdevWatch, udev_available  # noqa: PLC0415 - pyudev, only for this host

            if not udev_available():
                return
            watch = UdevWatch(lambda _action, _path: self._jobs.ask_inventory())
            watch.start()
            self._watch = watch
        except (ImportError, OSError) as exc:
            log.info("%s: no udev watch: %s", self.uri, exc)

    def _stop_udev_watch(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.stop()  # type: ignore[attr-defined]
