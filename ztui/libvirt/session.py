"""A live host: one connection, its events, and a reader thread that keeps the model current.

An event names one guest; the session re-reads only that guest (a fresh `XMLDesc`) in its own worker
thread and hands the new `Guest` to a sink. When the daemon goes away the close callback reports the host
down within milliseconds and the worker reconnects with back-off, re-registers the events and sends a full
snapshot again. Its parts, each in a module of its own: the updates it sends (`session_updates`), the
queue of its thread's jobs, coalesced per guest (`session_jobs`), the events it subscribes to
(`session_events`), what it knows of its host (`session_copy`), and the watch on an open that gets no
answer (`open_watch`).

Nothing here touches the UI: the sink is any thread-safe callable (the TUI passes `App.post_message`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace

import libvirt

from ztui.host.inventory import Inventory
from ztui.libvirt.connection import ConnectError, libvirt_reason, open_connection
from ztui.libvirt.eventloop import ensure_event_loop
from ztui.libvirt.link import HostLink
from ztui.libvirt.open_watch import watch_open
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
from ztui.libvirt.session_copy import HostCopy
from ztui.libvirt.session_events import EventSubscription
from ztui.libvirt.session_jobs import Job, SessionJobs
from ztui.libvirt.session_updates import GuestGone, GuestUpdated, HostDown, HostUp, InventoryChanged, Sink
from ztui.model import Host, HostDevice

log = logging.getLogger("ztui.libvirt.session")

RECONNECT_DELAYS: tuple[float, ...] = (0.5, 1, 2, 4, 8, 15, 30)
SUMMARY_FIRST = 200  # more guests than this: show the guest list first, devices a moment later


class HostSession:
    """Keeps one libvirt host's guests current and reports every change to `sink`: its thread connects,
    reconnects and runs the jobs its events and its callers queue."""

    def __init__(self, uri: str, sink: Sink, readonly: bool = False,
                 reconnect_delays: Sequence[float] = RECONNECT_DELAYS, backing: bool = True,
                 udev: bool = True) -> None:
        self.uri = uri
        self.readonly = readonly
        self.backing = backing
        self.udev = udev  # False: libvirt's node devices only, even for a local URI (fixed test data)
        self._sink = sink
        self._delays = tuple(reconnect_delays) or (1.0,)
        self._stop = threading.Event()
        self._jobs = SessionJobs()
        self._copy = HostCopy(uri)
        self._events = EventSubscription(uri, self._jobs, sink, self._stop, watch_udev=backing and udev)
        self._conn: libvirt.virConnect | None = None
        self._thread = threading.Thread(target=self._work, name=f"host {uri}", daemon=True)

    # --- public --------------------------------------------------------------------------------------

    def start(self) -> None:
        ensure_event_loop()
        self._jobs.put(Job.CONNECT)
        self._thread.start()

    def resync(self) -> None:
        """Queue a full re-read of the host (the `r` key, and the slow safety net)."""
        self._jobs.put(Job.FULL)

    def refresh_guest(self, uuid: str, dom: libvirt.virDomain | None = None) -> None:
        """Queue a re-read of one guest; a read already queued for it covers this one too. `dom`: the
        guest's handle on the session's connection when at hand (an event's), which spares the read a
        lookup (a round trip to a host far away)."""
        self._jobs.ask_guest(uuid, dom)

    def refresh_inventory(self) -> None:
        """Queue a re-scan of the host's devices; coalesced. The result arrives as `InventoryChanged`.
        Called after a node-device or udev event, and by the host devices view when it opens."""
        self._jobs.ask_inventory()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._jobs.put(Job.STOP)
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
        return self._copy.inventory

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
                    self._lost(arg)
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
        state = self._jobs.take_state(uuid)
        shown = self._copy.in_state(uuid, state) if state is not None else None
        if shown is not None:
            self._sink(GuestUpdated(self.uri, shown))

    def _read_guest(self, uuid: str) -> None:
        dom = self._jobs.take_guest(uuid)
        assert self._conn is not None
        try:
            if dom is None:
                dom = self._conn.lookupByUUIDString(uuid)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                self._copy.gone(uuid)
                self._sink(GuestGone(self.uri, uuid, ""))
                return
            raise
        guest = read_guest(dom, at_once=spread_for(self.uri, 0).overlap)
        if guest is None:
            self._copy.gone(uuid)
            self._sink(GuestGone(self.uri, uuid, dom.name()))
        else:
            self._sink(GuestUpdated(self.uri, self._copy.read_one(uuid, guest)))

    # --- connection --------------------------------------------------------------------------------------

    def _connect_until_up(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            conn: libvirt.virConnect | None = None
            try:
                answered = watch_open(self.uri, self._sink, self._stop)
                try:
                    conn = open_connection(self.uri, self.readonly)
                finally:  # not a `with`: ConnectError is frozen, and a context manager sets its traceback
                    answered()
                with ThreadPoolExecutor(1, thread_name_prefix="ztui-spare") as early:
                    spare = early.submit(self._spare_for, conn)
                    try:
                        self._events.subscribe(conn, far=spread_for(self.uri, 0).overlap)
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

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        self._events.unsubscribe(conn)
        self._jobs.forget_connection()  # the handles its events left belong to it
        if conn is not None:
            with contextlib.suppress(libvirt.libvirtError):
                conn.close()

    def _close(self) -> None:
        self._drop_connection()

    # --- reads -----------------------------------------------------------------------------------------

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

            view = read_resolved(HostLink(self.uri, conn), udev=self._udev_given, backing=self.backing, listing=listing,
                                 spare=extra, hostname=hostname)
        finally:  # also those opening when the read failed early
            close_spare(opened if opened else spare.result() if spare is not None else [], wait=False)
        self._copy.read_whole(view)
        return view.host

    def _rescan_inventory(self) -> None:
        """A fresh inventory, an update for each guest whose chains changed, then the inventory itself (None
        when the scan failed: the previous one is kept meanwhile)."""
        self._jobs.take_inventory()
        if self._conn is None:
            self._sink(InventoryChanged(self.uri, None))
            return
        view = with_chains(HostLink(self.uri, self._conn), self._copy.as_read(), udev=self._udev_given)
        for resolved in self._copy.rescanned(view, chains=self.backing):
            self._sink(GuestUpdated(self.uri, resolved))
        self._sink(InventoryChanged(self.uri, view.inventory))

    @property
    def _udev_given(self) -> tuple[HostDevice, ...] | None:
        """What the scan is given for udev's records: none at all without `udev` (fixed test data), else
        None: the host's facts source decides (a live walk for this machine's kernel)."""
        return None if self.udev else ()
