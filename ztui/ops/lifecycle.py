"""A guest's daily actions — start, resume, shut down, reboot, destroy, pause — each planned, shown as virsh,
carried out and proven.

`plan` is pure: from the guest's state it says whether the action applies, the virsh command that does
the same, and whether it loses state (then the caller asks first). `carry_out` makes the libvirt call and
does not believe its return: a graceful shutdown or a reboot is only a *request* the guest may ignore, and
even `destroy` returns before the daemon has emitted its event. So the action counts as done only when
libvirt's lifecycle event for it arrived (REBOOT for a reboot) and a fresh read of the guest's state
agrees; after the timeout it is reported as requested but not seen, never as done.

Blocking functions: call them from a worker thread or a command, never from the UI loop. Events need
libvirt's event loop (`ztui.libvirt.eventloop.ensure_event_loop`) to run before the connection opened;
without it the state is re-read until the timeout instead.
"""

from __future__ import annotations

import contextlib
import logging
import shlex
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import libvirt

from ztui.host.resolve import resolve_guest
from ztui.libvirt.connection import libvirt_reason
from ztui.libvirt.link import HostLink
from ztui.libvirt.pipeline import scan_host
from ztui.libvirtxml.domain import parse_domain
from ztui.model import GuestState
from ztui.ops.missing_storage import missing_path, missing_storage_text
from ztui.ops.safety.audit import record, record_outcome
from ztui.ops.safety.guestlock import guest_lock
from ztui.ops.safety.other_copies import EVERY_HOST, CopyCheck, check_before_start

POLL_INTERVAL = 0.1  # the state is re-read this often while no event arrived
DEFAULT_TIMEOUT = 10.0  # start, resume, pause, destroy: the daemon acts at once
SHUTDOWN_TIMEOUT = 60.0  # a graceful shutdown or a reboot waits for the guest's operating system


class Action(StrEnum):
    """The actions, spelled as the virsh commands that do the same."""

    START = "start"
    RESUME = "resume"
    SHUTDOWN = "shutdown"
    REBOOT = "reboot"
    DESTROY = "destroy"
    SUSPEND = "suspend"

    @property
    def loses_state(self) -> bool:
        """Whether what runs in the guest is lost (or the guest's OS is asked to end it): confirm first."""
        return self in (Action.SHUTDOWN, Action.REBOOT, Action.DESTROY)

    @property
    def starts_guest(self) -> bool:
        """Whether the guest's CPUs run afterwards where they did not: first ask whether it runs elsewhere
        (`ztui.ops.safety.other_copies`)."""
        return self in (Action.START, Action.RESUME)

    @property
    def verb(self) -> str:
        return {Action.START: "start", Action.RESUME: "resume", Action.SHUTDOWN: "shut down",
                Action.REBOOT: "reboot", Action.DESTROY: "force off", Action.SUSPEND: "pause"}[self]

    @property
    def done(self) -> str:
        return {Action.START: "started", Action.RESUME: "resumed", Action.SHUTDOWN: "shut down",
                Action.REBOOT: "rebooted", Action.DESTROY: "forced off", Action.SUSPEND: "paused"}[self]


# virDomainEventType numbers (libvirt.VIR_DOMAIN_EVENT_*) that prove each action
_PROVING_EVENT = {
    Action.START: libvirt.VIR_DOMAIN_EVENT_STARTED,
    Action.RESUME: libvirt.VIR_DOMAIN_EVENT_RESUMED,
    Action.SHUTDOWN: libvirt.VIR_DOMAIN_EVENT_STOPPED,
    Action.DESTROY: libvirt.VIR_DOMAIN_EVENT_STOPPED,
    Action.SUSPEND: libvirt.VIR_DOMAIN_EVENT_SUSPENDED,
}

_STOPPED_STATES = (GuestState.SHUTOFF, GuestState.CRASHED)  # crashed + on_crash=preserve also stops QEMU


def start_or_resume(state: GuestState | None) -> Action:
    """The one key for "make it run": a paused guest is resumed, anything else started."""
    return Action.RESUME if state in (GuestState.PAUSED, GuestState.PMSUSPENDED) else Action.START


def virsh_command(uri: str, guest: str, action: Action) -> str:
    return shlex.join(["virsh", "-c", uri, action.value, guest])


def virsh_console(uri: str, guest: str) -> list[str]:
    """The console command (ctrl+] leaves it); a list because the caller runs it."""
    return ["virsh", "-c", uri, "console", guest]


@dataclass(frozen=True)
class LifecyclePlan:
    """One action on one guest: what virsh would run, and why it cannot be done (`refused`), if so."""
    action: Action
    uri: str
    guest: str
    state: GuestState | None
    refused: str = ""

    @property
    def ok(self) -> bool:
        return not self.refused

    @property
    def confirm(self) -> bool:
        return self.action.loses_state

    @property
    def virsh(self) -> str:
        return virsh_command(self.uri, self.guest, self.action)

    def question(self, host: str) -> str:
        """The confirmation's question, naming the guest's host (`host`: its name as people say it)."""
        consequence = {
            Action.SHUTDOWN: "its operating system is asked to shut down",
            Action.REBOOT: "its operating system is asked to reboot; what runs in it ends",
            Action.DESTROY: "it is powered off at once, like pulling the plug; unsaved data in the guest is lost",
        }.get(self.action, "")
        return f"{self.action.verb.capitalize()} {self.guest} on {host}?" + (f" — {consequence}" if consequence
                                                                             else "")


def plan(action: Action, uri: str, guest: str, state: GuestState | None) -> LifecyclePlan:
    """Whether `action` applies to a guest in `state` (None: state unknown, then libvirt decides)."""
    refused = ""
    active = state is not None and state.is_active
    if state is None:
        pass
    elif action is Action.START and active:
        refused = f"{guest} is already {state.value}"
    elif action is Action.RESUME and state is not GuestState.PAUSED:
        refused = f"{guest} is {state.value}, not paused"
    elif action in (Action.SHUTDOWN, Action.REBOOT, Action.DESTROY, Action.SUSPEND) and not active:
        refused = f"{guest} is {state.value}: nothing to {action.verb}"
    elif action is Action.SUSPEND and state is GuestState.PAUSED:
        refused = f"{guest} is already paused"
    elif action in (Action.SHUTDOWN, Action.REBOOT) and state is GuestState.PAUSED:
        refused = f"{guest} is paused: resume it first (a paused guest cannot react to a {action.verb} request)"
    return LifecyclePlan(action, uri, guest, state, refused)


@dataclass(frozen=True)
class LifecycleResult:
    """How an action ended. `ok` only with proof: the event arrived and the re-read state agrees."""
    plan: LifecyclePlan
    ok: bool
    state: GuestState | None  # as re-read at the end; None when the guest no longer exists (transient)
    message: str
    seconds: float
    event: str = ""  # the proving event, as seen ("" when none arrived)
    requested: bool = True  # False: libvirt refused the call itself, nothing was changed

    def to_json(self) -> dict[str, Any]:
        return {"type": "lifecycle", "action": self.plan.action.value, "uri": self.plan.uri,
                "guest": self.plan.guest, "ok": self.ok, "requested": self.requested,
                "state": self.state.value if self.state is not None else "gone", "event": self.event,
                "message": self.message, "seconds": round(self.seconds, 3), "virsh": self.plan.virsh}


class _Watch:
    """Lifecycle (and reboot) events of one guest, registered before the call so none is missed."""
    def __init__(self, conn: libvirt.virConnect, dom: libvirt.virDomain) -> None:
        self.events: list[tuple[int, int]] = []
        self.rebooted = False
        self.arrived = threading.Event()
        self._conn = conn
        self._ids: list[int] = []
        with contextlib.suppress(libvirt.libvirtError):
            self._ids.append(conn.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                         self._lifecycle, None))
            self._ids.append(conn.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT,
                                                         self._reboot, None))

    def _lifecycle(self, _conn: object, _dom: object, event: int, detail: int, _opaque: object) -> None:
        self.events.append((event, detail))
        self.arrived.set()

    def _reboot(self, _conn: object, _dom: object, _opaque: object) -> None:
        self.rebooted = True
        self.arrived.set()

    @property
    def listening(self) -> bool:
        """Whether events can arrive at all (registration fails on a connection without an event loop)."""
        return bool(self._ids)

    def seen(self, action: Action) -> bool:
        if action is Action.REBOOT:
            return self.rebooted
        return any(event == _PROVING_EVENT[action] for event, _ in self.events)

    def close(self) -> None:
        for cid in self._ids:
            with contextlib.suppress(libvirt.libvirtError):
                self._conn.domainEventDeregisterAny(cid)
        self._ids = []


def read_state(conn: libvirt.virConnect, uuid: str) -> GuestState | None:
    """The guest's state now; None when it no longer exists (a transient guest that stopped)."""
    try:
        return GuestState.from_libvirt(conn.lookupByUUIDString(uuid).state()[0])
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return None
        raise


def _state_proves(action: Action, state: GuestState | None) -> bool:
    if action in (Action.START, Action.RESUME, Action.REBOOT):
        return state in (GuestState.RUNNING, GuestState.BLOCKED)
    if action is Action.SUSPEND:
        return state is GuestState.PAUSED
    return state is None or state in _STOPPED_STATES  # shutdown, destroy


def _call(dom: libvirt.virDomain, action: Action) -> None:
    if action is Action.START:
        dom.create()
    elif action is Action.RESUME:
        dom.resume()
    elif action is Action.SHUTDOWN:
        dom.shutdown()
    elif action is Action.REBOOT:
        dom.reboot(0)
    elif action is Action.DESTROY:
        dom.destroy()
    elif action is Action.SUSPEND:
        dom.suspend()


def carry_out(conn: libvirt.virConnect, dom: libvirt.virDomain, lifecycle: LifecyclePlan,
              timeout: float | None = None) -> LifecycleResult:
    """Make the call, then wait for the proving event and re-read the state. Never raises for libvirt's
    refusal (that is a result with `requested=False`); a daemon that goes away mid-way does raise."""
    action = lifecycle.action
    if timeout is None:
        timeout = SHUTDOWN_TIMEOUT if action in (Action.SHUTDOWN, Action.REBOOT) else DEFAULT_TIMEOUT
    uuid = dom.UUIDString()
    started = time.monotonic()
    watch = _Watch(conn, dom)
    try:
        try:
            _call(dom, action)
        except libvirt.libvirtError as exc:
            state = read_state(conn, uuid)
            reason = libvirt_reason(exc)
            if action is Action.START:
                reason = explain_start_refusal(HostLink(lifecycle.uri, conn), dom, reason)
            return LifecycleResult(lifecycle, False, state, f"{lifecycle.guest}: {action.verb} refused: {reason}",
                                   time.monotonic() - started, requested=False)
        deadline = started + timeout
        state = read_state(conn, uuid)
        while True:
            seen = watch.seen(action)
            if seen and _state_proves(action, state):
                break
            # without an event loop no event comes: a state that already proves it (not for a reboot,
            # whose state does not change) is then the proof
            if not watch.listening and action is not Action.REBOOT and _state_proves(action, state):
                break
            left = deadline - time.monotonic()
            if left <= 0:
                break
            watch.arrived.wait(min(POLL_INTERVAL, left))
            watch.arrived.clear()
            state = read_state(conn, uuid)
        seconds = time.monotonic() - started
        seen = watch.seen(action) or (not watch.listening and action is not Action.REBOOT)
        event = _event_text(watch, action)
    finally:
        watch.close()
    now = state.value if state is not None else "gone (transient guest)"
    if seen and _state_proves(action, state):
        return LifecycleResult(lifecycle, True, state, f"{lifecycle.guest} {action.done} ({now}, {seconds:.1f} s)",
                               seconds, event)
    hint = ""
    if action is Action.SHUTDOWN:
        hint = "; the guest's OS may ignore the request — destroy forces it off"
    elif action is Action.REBOOT:
        hint = "; the guest's OS may ignore the request — destroy, then start, restarts it"
    return LifecycleResult(lifecycle, False, state, f"{lifecycle.guest}: {action.verb} requested, not seen within "
                           f"{timeout:g} s (now {now}){hint}", seconds, event)


def explain_start_refusal(link: HostLink, dom: libvirt.virDomain, reason: str) -> str:
    """libvirt's reason for a refused start, led by which disk and host device is missing when that is why
    (`ztui.ops.missing_storage`, from ztui's own backing chain); libvirt's reason alone when it is not, or
    when the host's facts cannot be read."""
    path = missing_path(reason)
    if not path:
        return reason
    try:
        guest = parse_domain(dom.XMLDesc(0), what=f"XML of guest {dom.name()}")
        text = missing_storage_text(resolve_guest(guest, scan_host(link, [guest])), path,
                                    str(link.conn.getHostname()))
    except Exception:  # the explanation is extra: libvirt's reason is never lost for it
        logging.getLogger("ztui.ops").debug("no explanation for %s", reason, exc_info=True)
        return reason
    return f"{text} — libvirt: {reason}" if text else reason


_EVENT_NAMES = {
    libvirt.VIR_DOMAIN_EVENT_STARTED: "started", libvirt.VIR_DOMAIN_EVENT_RESUMED: "resumed",
    libvirt.VIR_DOMAIN_EVENT_STOPPED: "stopped", libvirt.VIR_DOMAIN_EVENT_SUSPENDED: "suspended",
    libvirt.VIR_DOMAIN_EVENT_SHUTDOWN: "shutdown",
}


def _event_text(watch: _Watch, action: Action) -> str:
    if action is Action.REBOOT:
        return "reboot" if watch.rebooted else ""
    return ", ".join(_EVENT_NAMES.get(event, f"event {event}") for event, _ in watch.events)


def carry_out_recorded(link: HostLink, dom: libvirt.virDomain, lifecycle: LifecyclePlan, *,
                       timeout: float | None = None, via: str = "cli", forced: str = "") -> tuple[LifecycleResult, str]:
    """`carry_out` under the guest's action lock (`Busy` before any change while another ztui process acts
    on it, e.g. a detach still waiting for its proof), then audited. Returns the result and '' or why the
    audit record could not be written (the outcome is shown all the same). `forced` is why the user had to
    insist (the guest ran elsewhere), kept in the audit record."""
    with guest_lock(link.uri, dom.UUIDString(), guest=lifecycle.guest, action=lifecycle.action.value):
        result = carry_out(link.conn, dom, lifecycle, timeout)
    return result, record_outcome(lambda: audit(result, via, forced))


def audit_refused(lifecycle: LifecyclePlan, via: str) -> str:
    """The refusal of a plan (the guest is not in a state for it) on record; '' or why it could not be."""
    return record_outcome(lambda: record(f"lifecycle-{lifecycle.action.value}", lifecycle.uri, lifecycle.guest,
                                         "refused", virsh=lifecycle.virsh, message=lifecycle.refused, via=via))


def audit(result: LifecycleResult, via: str, forced: str = "") -> dict[str, Any]:
    """One audit record for the attempt, with the proof or its absence (and why the user had to insist)."""
    outcome = "done" if result.ok else ("refused" if not result.requested else "not proven")
    extra = {"forced": forced} if forced else {}
    return record(f"lifecycle-{result.plan.action.value}", result.plan.uri, result.plan.guest, outcome,
                  virsh=result.plan.virsh, state=result.state.value if result.state is not None else "gone",
                  event=result.event, seconds=round(result.seconds, 3), message=result.message, via=via, **extra)


@dataclass(frozen=True)
class Start:
    """A start or resume under the one-copy rule: what the other hosts said, and how the action ended."""
    check: CopyCheck
    result: LifecycleResult | None = None  # None: not carried out, `check` says why
    problem: str = ""  # why the audit record could not be written
    forced: str = ""  # carried out although another copy runs or a host did not answer: that, for the record


def start_one_copy(link: HostLink, dom: libvirt.virDomain, planned: LifecyclePlan, *,
                   session: Sequence[str] = (), conns: Mapping[str, libvirt.virConnect] | None = None,
                   force: bool = False, accepted: CopyCheck | None = None, timeout: float | None = None,
                   via: str = "cli") -> Start:
    """Start or resume the guest `dom` of `link` (`planned`) when no other host ztui knows runs it and every
    one answered — or when the user insists: `force`, or `accepted`, the check the user confirmed, names
    every host this one finds. Otherwise nothing is done. The check and the start hold the guest's lock for
    every host (`Busy` while another ztui process starts or resumes it), then its lock on this host."""
    with guest_lock(EVERY_HOST, dom.UUIDString(), guest=planned.guest, action=planned.action.value):
        check = check_before_start(link, dom, session, conns)
        if not (check.clear or force or check.within(accepted)):
            return Start(check)
        forced = "" if check.clear else check.reason()
        result, problem = carry_out_recorded(link, dom, planned, timeout=timeout, via=via, forced=forced)
    return Start(check, result, problem, forced)
