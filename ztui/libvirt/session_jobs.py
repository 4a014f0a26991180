"""The work a host session's thread is asked for, queued from any thread and coalesced.

Events arrive on libvirt's event thread, requests on the UI's; all of them only queue a job here, and the
session's own thread does the work. Reads for the same guest are coalesced: while one is queued, further
asks for it add nothing, so an event storm costs one read per guest, not one per event. Inventory scans
are coalesced the same way.
"""

from __future__ import annotations

import enum
import queue
import threading

import libvirt

from ztui.model import GuestState


class Job(enum.Enum):
    """What the session's worker thread is asked to do next (with a guest's UUID, or a close reason)."""

    CONNECT = enum.auto()
    LOST = enum.auto()  # the close callback fired: its reason
    FULL = enum.auto()  # re-read every guest
    STATE = enum.auto()  # show a guest in the state its lifecycle event named
    GUEST = enum.auto()  # re-read one guest
    INVENTORY = enum.auto()  # re-scan the host's devices
    STOP = enum.auto()


class SessionJobs:
    """A session's queue of jobs. The `ask_*` methods are called from any thread; the `take_*` methods by the
    session's thread when it runs the job, and they say what the job is to work with. One lock guards what
    the coalescing remembers."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Job, str]] = queue.Queue()
        self._lock = threading.Lock()
        self._pending: set[str] = set()  # guests whose read is queued
        self._handles: dict[str, libvirt.virDomain] = {}  # guests' handles from events, for their next read
        self._event_states: dict[str, GuestState] = {}  # the state the newest lifecycle event of a guest named
        self._inventory_pending = False

    def put(self, kind: Job, arg: str = "") -> None:
        """Queue a job that is never coalesced (connect, a lost connection, a full read, stop)."""
        self._queue.put((kind, arg))

    def get(self) -> tuple[Job, str]:
        """The next job (blocks until there is one)."""
        return self._queue.get()

    def empty(self) -> bool:
        return self._queue.empty()

    def ask_guest(self, uuid: str, dom: libvirt.virDomain | None = None) -> None:
        """Queue a re-read of one guest; a read already queued for it covers this one too. `dom`: the guest's
        handle on the session's connection, kept for that read."""
        with self._lock:
            if dom is not None:
                self._handles[uuid] = dom
            if uuid in self._pending:
                return
            self._pending.add(uuid)
        self._queue.put((Job.GUEST, uuid))

    def take_guest(self, uuid: str) -> libvirt.virDomain | None:
        """A guest's read begins: asks from now on need a new read. The handle an event left for it, if any.

        A state still waiting to be shown is dropped: this read sees what every event delivered before it
        named, so that state is older than what it reads, and would be shown over it."""
        with self._lock:
            self._pending.discard(uuid)
            self._event_states.pop(uuid, None)
            return self._handles.pop(uuid, None)

    def ask_state(self, uuid: str, state: GuestState) -> None:
        """Queue showing a guest in the state an event names, ahead of the re-read that event queues."""
        with self._lock:
            self._event_states[uuid] = state
        self._queue.put((Job.STATE, uuid))

    def take_state(self, uuid: str) -> GuestState | None:
        """The state the newest lifecycle event of a guest named, unless a read took it meanwhile."""
        with self._lock:
            return self._event_states.pop(uuid, None)

    def ask_inventory(self) -> None:
        """Queue a re-scan of the host's devices, unless one is queued already."""
        with self._lock:
            if self._inventory_pending:
                return
            self._inventory_pending = True
        self._queue.put((Job.INVENTORY, ""))

    def take_inventory(self) -> None:
        """A scan begins: asks from now on need a new one."""
        with self._lock:
            self._inventory_pending = False

    def forget_connection(self) -> None:
        """The connection went away: the handles and states its events left are of no use any more."""
        with self._lock:
            self._handles.clear()
            self._event_states.clear()
