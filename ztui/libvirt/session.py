"""A live host: one connection, its events, and a reader thread that keeps the model current.

An event names one guest; the session re-reads only that guest (a fresh `XMLDesc`) in its own worker
thread and hands the new `Guest` to a sink (as the updates of `ztui.libvirt.session_updates`). Reads for
the same guest are coalesced: while one is queued, further events for it add nothing, so an event storm
costs one read per guest, not one per event. When the daemon goes away the close callback reports the host
down within milliseconds and the worker reconnects with back-off, re-registers the events and sends a full
snapshot again.

Nothing here touches the UI: the sink is any thread-safe callable (the TUI passes `App.post_message`).
"""

from __future__ import annotations

import contextlib
import enum
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace

import libvirt

from ztui.bounded import ordered_map
from ztui.host.facts_source import facts_source_for
from ztui.host.inventory import Inventory
from ztui.host.resolve import resolve_guest
from ztui.host.scan import refresh_files
from ztui.host.usage import held_keys, with_sharing_warnings
from ztui.libvirt.connection import ConnectError, answer_timeout, libvirt_reason, not_answering, open_connection
from ztui.libvirt.eventloop import ensure_event_loop
from ztui.libvirt.pipeline import read_resolved, with_chains
from ztui.libvirt.reader import (
    SpareConnection,
    close_spare,
    host_header,
    list_host,
    open_spare,
    read_guest,
    read_guest_summaries,
    read_hostname,
    spread_for,
)
from ztui.libvirt.session_updates import EventSeen, GuestGone, GuestUpdated, HostDown, HostUp, InventoryChanged, Sink
from ztui.model import Guest, GuestState, Host, HostDevice

log = logging.getLogger("ztui.libvirt.session")

RECONNECT_DELAYS: tuple[float, ...] = (0.5, 1, 2, 4, 8, 15, 30)
SUMMARY_FIRST = 200  # more guests than this: show the guest list first, devices a moment later


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


class Job(enum.Enum):
    """What the session's worker thread is asked to do next (with a guest's UUID, or a close reason)."""

    CONNECT = enum.auto()
    LOST = enum.auto()  # the close callback fired: its reason
    FULL = enum.auto()  # re-read every guest
    STATE = enum.auto()  # show a guest in the state its lifecycle event named
    GUEST = enum.auto()  # re-read one guest
    INVENTORY = enum.auto()  # re-scan the host's devices
    STOP = enum.auto()


class Events(enum.Enum):
    """The two kinds of libvirt event registration (each with its own deregistration call)."""

    DOMAIN = enum.auto()
    NODE_DEVICE = enum.auto()


_CLOSE_REASONS = {
    "0": "connection error", "1": "the daemon closed the connection", "2": "keepalive timed out",
    "3": "connection closed",
}


class HostSession:
    """Keeps one libvirt host's guests current and reports every change to `sink`."""

    def __init__(self, uri: str, sink: Sink, readonly: bool = False,
                 reconnect_delays: Sequence[float] = RECONNECT_DELAYS, backing: bool = True,
                 udev: bool = True) -> None:
        self.uri = uri
        self.readonly = readonly
        self.backing = backing
        self.udev = udev  # False: libvirt's node devices only, even for a local URI (fixed test data)
        self._inventory: Inventory | None = None
        self._raw: dict[str, Guest] = {}  # guests as read, before their chains were resolved
        self._sent: dict[str, Guest] = {}  # guests as last handed to the sink
        # the host devices each sent guest holds exclusively, remembered with the guest they were taken from
        self._held: dict[str, tuple[Guest, frozenset[str]]] = {}
        self._inventory_pending = False
        self._watch: object | None = None  # a ztui.host.udev.UdevWatch while connected to a local host
        self._sink = sink
        self._delays = tuple(reconnect_delays) or (1.0,)
        self._jobs: queue.Queue[tuple[Job, str]] = queue.Queue()
        self._pending: set[str] = set()
        self._handles: dict[str, libvirt.virDomain] = {}  # guests' handles from events, for their next read
        self._event_states: dict[str, GuestState] = {}  # the state the newest lifecycle event of a guest named
        self._pending_lock = threading.Lock()
        self._stop = threading.Event()
        self._conn: libvirt.virConnect | None = None
        self._callback_ids: list[tuple[Events, int]] = []
        self._generation = 0  # bumps on every (re)connect, so callbacks of a dead connection are ignored
        self._thread = threading.Thread(target=self._work, name=f"host {uri}", daemon=True)

    # --- public --------------------------------------------------------------------------------------

    def start(self) -> None:
        ensure_event_loop()
        self._jobs.put((Job.CONNECT, ""))
        self._thread.start()

    def resync(self) -> None:
        """Queue a full re-read of the host (the `r` key, and the slow safety net)."""
        self._jobs.put((Job.FULL, ""))

    def refresh_guest(self, uuid: str, dom: libvirt.virDomain | None = None) -> None:
        """Queue a re-read of one guest; a read already queued for it covers this one too. `dom`: the
        guest's handle on the session's connection when at hand (an event's), which spares the read a
        lookup (a round trip to a host far away)."""
        with self._pending_lock:
            if dom is not None:
                self._handles[uuid] = dom
            if uuid in self._pending:
                return
            self._pending.add(uuid)
        self._jobs.put((Job.GUEST, uuid))

    def _show_state(self, uuid: str, state: GuestState) -> None:
        """Queue showing a guest in the state an event names, ahead of the re-read that event queues."""
        with self._pending_lock:
            self._event_states[uuid] = state
        self._jobs.put((Job.STATE, uuid))

    def refresh_inventory(self) -> None:
        """Queue a re-scan of the host's devices; coalesced. The result arrives as `InventoryChanged`.
        Called after a node-device or udev event, and by the host devices view when it opens."""
        with self._pending_lock:
            if self._inventory_pending:
                return
            self._inventory_pending = True
        self._jobs.put((Job.INVENTORY, ""))

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._jobs.put((Job.STOP, ""))
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def connection(self) -> libvirt.virConnect | None:
        """The open connection, or None while disconnected (for actions run by other modules)."""
        return self._conn

    @property
    def inventory(self) -> Inventory | None:
        """The newest scan of the host's devices (None before the first one, or without backing chains).

        Read-only for everyone else: only the session's thread replaces it, always with a new frozen
        `Inventory`, so a reader on another thread sees either the old scan or the new one, whole."""
        return self._inventory

    # --- worker ----------------------------------------------------------------------------------------

    def _work(self) -> None:
        while not self._stop.is_set():
            kind, arg = self._jobs.get()
            if kind is Job.STOP:
                break
            try:
                if kind is Job.CONNECT:
                    self._connect_until_up()
                elif kind is Job.LOST:
                    self._lost(_CLOSE_REASONS.get(arg, "connection closed"))
                elif kind is Job.INVENTORY:
                    self._rescan_inventory()  # also while disconnected: whoever asked gets an answer
                elif self._conn is None:
                    continue  # a reconnect is under way and will send a full snapshot
                elif kind is Job.FULL:
                    self._sink(HostUp(self.uri, self._read_full(self._conn)))
                elif kind is Job.STATE:
                    self._state_seen(arg)
                elif kind is Job.GUEST:
                    self._read_guest(arg)
            except libvirt.libvirtError as exc:
                log.info("%s: %s failed: %s", self.uri, kind, libvirt_reason(exc))
                if self._conn is not None and not self._alive(self._conn):
                    self._lost(libvirt_reason(exc))
            except Exception as exc:  # a fault of ztui's own: said on the host's line, never a silent thread end
                log.exception("%s: %s failed", self.uri, kind)
                self._sink(HostDown(self.uri, f"ztui failed reading it: {type(exc).__name__}: {exc} (see the log)",
                                    0))
        self._close()

    def _state_seen(self, uuid: str) -> None:
        """Hand over a guest as last sent, in the state its newest lifecycle event named (the re-read queued
        behind this confirms it, with everything else that changed)."""
        with self._pending_lock:
            state = self._event_states.pop(uuid, None)
        sent = self._sent.get(uuid)
        raw = self._raw.get(uuid)
        if state is None or sent is None or raw is None or sent.state is state:
            return
        self._raw[uuid] = replace(raw, state=state)
        self._sent[uuid] = replace(sent, state=state)
        self._sink(GuestUpdated(self.uri, self._sent[uuid]))

    def _read_guest(self, uuid: str) -> None:
        with self._pending_lock:
            self._pending.discard(uuid)  # events from now on need a new read
            dom = self._handles.pop(uuid, None)
            # this read sees what every event delivered before it named: a state still waiting to be shown
            # is older than what it reads, and would be shown over it
            self._event_states.pop(uuid, None)
        assert self._conn is not None
        try:
            if dom is None:
                dom = self._conn.lookupByUUIDString(uuid)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                self._raw.pop(uuid, None)
                self._sent.pop(uuid, None)
                self._held.pop(uuid, None)
                self._sink(GuestGone(self.uri, uuid, ""))
                return
            raise
        guest = read_guest(dom, at_once=spread_for(self.uri, 0).overlap)
        if guest is None:
            self._raw.pop(uuid, None)
            self._sent.pop(uuid, None)
            self._held.pop(uuid, None)
            self._sink(GuestGone(self.uri, uuid, dom.name()))
        else:
            self._raw[uuid] = guest
            resolved = self._guest_with_backing(guest)
            self._sent[uuid] = resolved
            self._sink(GuestUpdated(self.uri, resolved))

    def _connect_until_up(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            conn: libvirt.virConnect | None = None
            try:
                answered = self._watch_answer()
                try:
                    conn = open_connection(self.uri, self.readonly)
                finally:  # not a `with`: ConnectError is frozen, and a context manager sets its traceback
                    answered()
                with ThreadPoolExecutor(1, thread_name_prefix="ztui-spare") as early:
                    spare = early.submit(self._spare_for, conn)
                    try:
                        self._register(conn)
                    except BaseException:
                        close_spare(spare.result(), wait=False)
                        raise
                    host = self._read_full(conn, summary_first=True, spare=spare)
            except ConnectError as exc:
                reason = exc.summary
            except libvirt.libvirtError as exc:
                reason = libvirt_reason(exc)
                if conn is not None:  # opened and registered, then the first read failed: let it go whole
                    self._conn = conn
                    self._drop_connection()
            else:
                self._conn = conn
                self._sink(HostUp(self.uri, host))
                return
            delay = self._delays[min(attempt, len(self._delays) - 1)]
            self._sink(HostDown(self.uri, reason, delay))
            attempt += 1
            if self._stop.wait(delay):
                return

    def _watch_answer(self) -> Callable[[], None]:
        """Start watching an open: one that gets no answer within `answer_timeout()` (libvirt waits for ever
        for a daemon that accepted and then says nothing, ssh for a host that drops its packets) shows the
        host as not answering meanwhile; the open goes on, and its answer, when it comes, is shown as usual.
        Returns what ends the watch (called once the open returned, whichever way)."""
        timeout = answer_timeout()
        lock = threading.Lock()
        answered = threading.Event()

        def silent() -> None:
            with lock:
                if not answered.is_set() and not self._stop.is_set():
                    self._sink(HostDown(self.uri, not_answering(self.uri, timeout).reason + "; still waiting", 0))

        timer = threading.Timer(timeout, silent)
        timer.daemon = True
        timer.start()

        def done() -> None:
            with lock:
                answered.set()
            timer.cancel()

        return done

    # --- backing chains --------------------------------------------------------------------------------

    def _spare_for(self, conn: libvirt.virConnect) -> list[SpareConnection]:
        """The extra connections of the first full read, as many as `spread_for` gives for the number of
        guests (two calls): opened while the events are registered and the host is listed, so that a host
        far away does not wait for their round trips after that."""
        try:
            count = conn.numOfDomains() + conn.numOfDefinedDomains()
        except libvirt.libvirtError:
            return []
        return open_spare(conn, spread_for(self.uri, count))

    def _read_full(self, conn: libvirt.virConnect, summary_first: bool = False,
                   spare: Future[list[SpareConnection]] | None = None) -> Host:
        """Every guest with its devices and chains (`ztui.libvirt.pipeline`). The host is listed once (three
        calls): on a big host that listing is handed over first when `summary_first`, so the tree is there at
        once and fills in. The guests' XML comes over extra connections when the spread asks for them
        (`spare` when already opening). The inventory is scanned once per (re)connect; a failure costs the
        chains, never the tree."""
        opened: list[SpareConnection] = []
        try:
            listing = list_host(conn)
            hostname = None
            if summary_first and len(listing) > SUMMARY_FIRST:
                hostname = read_hostname(conn)
                self._sink(HostUp(self.uri, replace(host_header(conn, self.uri, hostname),
                                                    guests=read_guest_summaries(conn, listing))))

            def extra() -> list[SpareConnection]:
                opened.extend(spare.result() if spare is not None
                              else open_spare(conn, spread_for(self.uri, len(listing))))
                return opened

            view = read_resolved(conn, self.uri, udev=self._udev_given, backing=self.backing, listing=listing,
                                 spare=extra, hostname=hostname)
        finally:  # also those opening when the read failed early
            close_spare(opened if opened else spare.result() if spare is not None else [], wait=False)
        self._raw = {g.uuid: g for g in view.read.guests}
        self._sent = {g.uuid: g for g in view.host.guests}
        if view.inventory is not None:
            self._inventory = view.inventory
        return view.host

    def _rescan_inventory(self) -> None:
        """A fresh inventory, an update for each guest whose chains changed, then the inventory itself (None
        when the scan failed: the previous one is kept meanwhile)."""
        with self._pending_lock:
            self._inventory_pending = False
        if self._conn is None:
            self._sink(InventoryChanged(self.uri, None))
            return
        # all guests at once, so a sharing conflict is warned on both guests' devices
        view = with_chains(self._conn, self.uri, Host(self.uri, guests=tuple(self._raw.values())),
                           udev=self._udev_given)
        if view.inventory is not None:
            self._inventory = view.inventory
            if self.backing:
                for resolved in view.host.guests:
                    if resolved != self._sent.get(resolved.uuid):
                        self._sent[resolved.uuid] = resolved
                        self._sink(GuestUpdated(self.uri, resolved))
        self._sink(InventoryChanged(self.uri, view.inventory))

    def _guest_with_backing(self, guest: Guest) -> Guest:
        """One guest's chains after an event: only its own image files are looked at again."""
        if self._inventory is None:
            return guest
        try:
            self._inventory = refresh_files(self._inventory, [guest])
        except OSError as exc:
            log.info("%s: files of %s not re-read: %s", self.uri, guest.name, exc)
        return self._with_sharing(resolve_guest(guest, self._inventory))

    def _with_sharing(self, resolved: Guest) -> Guest:
        """One guest with the sharing conflicts of its devices against the other guests as last sent (their
        own warnings follow at the next rescan). Per event this costs a set intersection per guest: what
        each guest holds is remembered until that guest changes."""
        mine = held_keys((resolved,))
        if not mine:
            return resolved
        sharing = []
        for uuid, other in self._sent.items():
            if uuid == resolved.uuid:
                continue
            known = self._held.get(uuid)
            if known is None or known[0] is not other:
                known = (other, frozenset(held_keys((other,))))
                self._held[uuid] = known
            if not mine.isdisjoint(known[1]):
                sharing.append(other)
        if not sharing:
            return resolved
        return with_sharing_warnings(Host(self.uri, guests=(resolved, *sharing))).guests[0]

    @property
    def _udev_given(self) -> tuple[HostDevice, ...] | None:
        """What the scan is given for udev's records: none at all without `udev` (fixed test data), else
        None: the host's facts source decides (a live walk for this machine's kernel)."""
        return None if self.udev else ()

    def _alive(self, conn: libvirt.virConnect) -> bool:
        try:
            return bool(conn.isAlive())
        except libvirt.libvirtError:
            return False

    def _lost(self, reason: str) -> None:
        """The connection died: forget it and reconnect (from the worker thread only)."""
        if self._conn is None:
            return
        self._drop_connection()
        self._sink(HostDown(self.uri, reason, self._delays[0]))
        if not self._stop.wait(self._delays[0]):
            self._connect_until_up()

    # --- callbacks (run in the libvirt event thread: no blocking calls here) ---------------------------

    def _register(self, conn: libvirt.virConnect) -> None:
        self._generation += 1
        generation = self._generation
        # the test driver has no keepalive; the close callback still works for real daemons
        with contextlib.suppress(libvirt.libvirtError):
            conn.setKeepAlive(5, 3)

        def on_domain(_conn: libvirt.virConnect, dom: libvirt.virDomain, *rest: object) -> None:
            if generation == self._generation:
                self.refresh_guest(dom.UUIDString(), dom)

        # far away, the state a lifecycle event names is shown a round trip before the guest's re-read lands
        early_states = spread_for(self.uri, 0).overlap

        def on_lifecycle(_conn: libvirt.virConnect, dom: libvirt.virDomain, event: int, detail: int,
                         _opaque: object) -> None:
            if generation != self._generation:
                return
            self._sink(EventSeen(self.uri, dom.name(), lifecycle_text(event, detail)))
            state = lifecycle_state(event, detail) if early_states else None
            if state is not None:
                self._show_state(dom.UUIDString(), state)
            self.refresh_guest(dom.UUIDString(), dom)

        def on_device(_conn: libvirt.virConnect, dom: libvirt.virDomain, alias: str, _opaque: object) -> None:
            if generation == self._generation:
                self.refresh_guest(dom.UUIDString(), dom)

        def on_close(_conn: libvirt.virConnect, reason: int, _opaque: object) -> None:
            if generation == self._generation and not self._stop.is_set():
                self._jobs.put((Job.LOST, str(reason)))

        def on_node_device(_conn: libvirt.virConnect, _dev: object, *_rest: object) -> None:
            if generation == self._generation:
                self.refresh_inventory()

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
        at_once = len(wanted) if spread_for(self.uri, 0).overlap else 1
        firsts = [next(e for e in wanted if e[0] == kind) for kind in Events]
        ids = [register(e) for e in firsts] + ordered_map(register, [e for e in wanted if e not in firsts], at_once)
        self._callback_ids = [cid for cid in ids if cid is not None]
        self._start_udev_watch()
        conn.registerCloseCallback(on_close, None)

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        self._generation += 1
        with self._pending_lock:
            self._handles.clear()  # they belong to the connection going away
            self._event_states.clear()
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
        with contextlib.suppress(libvirt.libvirtError):
            conn.close()

    def _start_udev_watch(self) -> None:
        """Local hosts only: udev sees device changes libvirt does not report (a DASD set offline)."""
        if self._watch is not None or not (self.backing and self.udev and facts_source_for(self.uri).same_machine):
            return
        try:  # only here: a host not on this machine's kernel never needs pyudev (11 ms to import)
            from ztui.host.udev import UdevWatch, udev_available  # noqa: PLC0415 - pyudev, only for this host

            if not udev_available():
                return
            watch = UdevWatch(lambda _action, _path: self.refresh_inventory())
            watch.start()
            self._watch = watch
        except (ImportError, OSError) as exc:
            log.info("%s: no udev watch: %s", self.uri, exc)

    def _stop_udev_watch(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.stop()  # type: ignore[attr-defined]

    def _close(self) -> None:
        self._drop_connection()

