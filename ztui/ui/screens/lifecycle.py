"""A guest's daily actions from the tree: `s` start/resume, `S` shut down, `R` reboot, `D` destroy, `P` pause,
`c` console.

The keys act on the selected guest (or the guest of the selected device). What may lose state asks first,
showing the virsh command that does the same; every attempt goes to the audit log; the result shown is the
proven one from `ztui.ops.lifecycle` (the lifecycle event and a re-read state), and the tree follows from
the host's own events, not from this screen. `c` suspends the app and runs `virsh console` in the terminal
until ctrl+] ends it.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
from typing import TYPE_CHECKING

from textual.binding import Binding

from ztui.errors import ZtuiError
from ztui.model import Guest
from ztui.ops.audit import record
from ztui.ops.lifecycle import (
    Action,
    LifecyclePlan,
    LifecycleResult,
    audit_refused,
    carry_out_recorded,
    plan,
    start_or_resume,
    virsh_console,
)

if TYPE_CHECKING:
    from ztui.ops.other_copies import CopyCheck
    from ztui.ui.screens.main import MainScreen

CLEAR_SCREEN = "\x1b[H\x1b[2J"  # cursor home, erase the screen (ECMA-48 CUP, ED 2)

LIFECYCLE_BINDINGS = [
    Binding("s", "lifecycle('start')", "Start/resume", show=False, id="start",
            tooltip="start the selected guest (resume it when paused); asks first when it runs on another host"),
    Binding("S", "lifecycle('shutdown')", "Shut down", show=False, id="shutdown",
            tooltip="shut the selected guest down (graceful: its OS is asked), after a confirmation"),
    Binding("R", "lifecycle('reboot')", "Reboot", show=False, id="reboot",
            tooltip="reboot the selected guest (its OS is asked), after a confirmation"),
    Binding("D", "lifecycle('destroy')", "Destroy", show=False, id="destroy",
            tooltip="destroy: force the selected guest off at once, after a confirmation"),
    Binding("P", "lifecycle('suspend')", "Pause", show=False, id="pause",
            tooltip="pause the selected guest (`s` resumes it)"),
    Binding("c", "console", "Console", show=False, id="console",
            tooltip="the selected guest's console (`virsh console`, ztui suspended; `ctrl+]` returns)"),
]
"""The keys, declared once: MainScreen adds them to its BINDINGS (help and footer are built from them)."""


def _target(screen: MainScreen) -> tuple[str, Guest] | None:
    """The selected guest (a device's guest when a device is selected), on a host that accepts changes."""
    selected = screen.selected()
    if selected is None:
        screen.notify("Select a guest.", severity="warning")
        return None
    ref, guest = selected
    if not screen.writable(ref.uri):
        return None
    return ref.uri, guest


def request_lifecycle(screen: MainScreen, name: str) -> None:
    """Plan the action for the selected guest; confirm it when it loses state, or when the guest to start runs
    on another host (asked in a worker first); then run it in a worker."""
    from ztui.ui.screens.confirm import ConfirmScreen

    target = _target(screen)
    if target is None:
        return
    uri, guest = target
    action = Action(name)
    if action is Action.START:
        action = start_or_resume(guest.state)
    planned = plan(action, uri, guest.name, guest.state)
    if not planned.ok:
        problem = audit_refused(planned, via="tui")
        screen.notify(planned.refused + (f" ({problem})" if problem else ""), severity="warning")
        return
    if action.starts_guest:
        screen.status(f"{guest.name}: asking the other hosts whether it runs there…")
        screen.app.run_worker(lambda: _look_elsewhere(screen, guest.uuid, planned), thread=True, group="lifecycle",
                              name=f"checking {guest.name} on the other hosts", exit_on_error=False)
        return
    if not planned.confirm:
        _start(screen, guest.uuid, planned)
        return

    def answered(yes: bool | None) -> None:
        if yes:
            _start(screen, guest.uuid, planned)

    host = screen.app.host_name(uri)
    screen.app.push_screen(ConfirmScreen(planned.question(host), planned.virsh, "", host=host), answered)


def _look_elsewhere(screen: MainScreen, uuid: str, planned: LifecyclePlan) -> None:
    """In a worker: ask every host ztui knows (`ops.other_copies`) before the guest starts or resumes here."""
    from ztui.ops.other_copies import check_before_start, lock_notes

    app = screen.app
    conns = {u: s.connection for u, s in app.sessions.items() if s.connection is not None}
    conn = conns.get(planned.uri)
    if conn is None:
        app.call_from_thread(screen.notify, f"{planned.guest}: the host is disconnected; nothing was done",
                             severity="error")
        return
    check = check_before_start(conn, conn.lookupByUUIDString(uuid), planned.uri, session=list(app.fleet.hosts),
                               conns=conns)
    notes = lock_notes(check, planned.uri)
    app.call_from_thread(_after_look, screen, uuid, planned, check, notes)


def _after_look(screen: MainScreen, uuid: str, planned: LifecyclePlan, check: CopyCheck,
                notes: dict[str, str]) -> None:
    """No other copy: start. Otherwise ask, naming both hosts and the devices both copies would write."""
    from ztui.ui.screens.confirm import ConfirmScreen

    screen.status("")
    if check.clear:
        _start(screen, uuid, planned)
        return
    app = screen.app
    here = app.named(check.here)
    question = (f"{planned.action.verb.capitalize()} {planned.guest} on {here} anyway? "
                + app.named(check.reason()) + ". Two copies writing the same disks destroy their file systems.")
    for host, note in notes.items():  # once per host and session: what makes libvirt refuse a second copy
        if host not in app.lock_advice_given:
            app.lock_advice_given.add(host)
            question += "\n\n" + note

    def answered(yes: bool | None) -> None:
        if yes:
            _start(screen, uuid, planned, forced=check.reason())

    screen.app.push_screen(ConfirmScreen(question, planned.virsh, "", host=here), answered)


def _start(screen: MainScreen, uuid: str, planned: LifecyclePlan, forced: str = "") -> None:
    screen.status(f"{planned.guest}: {planned.action.verb}…  {planned.virsh}")
    # on the app, so that its one failure handler sees it; a failure must not end the app
    screen.app.run_worker(lambda: _run(screen, uuid, planned, forced), thread=True, group="lifecycle",
                          name=f"{planned.action.value} {planned.guest}", exit_on_error=False)


def _run(screen: MainScreen, uuid: str, planned: LifecyclePlan, forced: str = "") -> None:
    """In a worker thread: carry it out on the session's connection, audit it, say what was proven."""
    app = screen.app
    session = app.sessions.get(planned.uri)
    conn = session.connection if session is not None else None
    if conn is None:
        app.call_from_thread(screen.notify, f"{planned.guest}: the host is disconnected; nothing was done",
                             severity="error")
        return
    try:
        result, problem = carry_out_recorded(planned.uri, conn, conn.lookupByUUIDString(uuid), planned,
                                             timeout=app.lifecycle_timeout, via="tui", forced=forced)
    except ZtuiError as exc:  # another action holds the guest, or no state directory: nothing was done
        app.call_from_thread(screen.notify, f"{planned.guest}: {exc}", severity="error")
        return
    except Exception as exc:  # the guest vanished or the host went away mid-way: nothing is claimed
        with contextlib.suppress(ZtuiError):
            record(f"lifecycle-{planned.action.value}", planned.uri, planned.guest, "not proven",
                   virsh=planned.virsh, message=str(exc), via="tui")
        app.call_from_thread(screen.notify, f"{planned.guest}: {planned.action.verb} not proven: {exc}",
                             severity="error")
        return
    app.call_from_thread(screen.status, "")
    if _ignored(result):
        # the guest's OS did not act on it: the next step is offered at once, as its own confirmation
        app.call_from_thread(offer_destroy, screen, uuid, result, problem)
        return
    app.call_from_thread(screen.notify, result.message + (f"\n{problem}" if problem else ""),
                         severity="information" if result.ok else "error", timeout=8)


def _ignored(result: LifecycleResult) -> bool:
    """A shutdown asked of the guest's OS, accepted by libvirt, and not done: the guest still runs."""
    return (result.plan.action is Action.SHUTDOWN and result.requested and not result.ok
            and result.state is not None and result.state.is_active)


def offer_destroy(screen: MainScreen, uuid: str, result: LifecycleResult, problem: str) -> None:
    """After a shutdown the guest ignored: ask whether to force it off (`D`), saying why it is asked."""
    from ztui.ui.screens.confirm import ConfirmScreen

    if problem:
        screen.notify(problem, severity="error", timeout=8)
    planned = plan(Action.DESTROY, result.plan.uri, result.plan.guest, result.state)
    if not planned.ok:
        screen.notify(result.message, severity="error", timeout=8)
        return
    host = screen.app.host_name(result.plan.uri)
    question = f"{result.message.removesuffix(' — destroy forces it off')}.\n{planned.question(host)} (D)"

    def answered(yes: bool | None) -> None:
        if yes:
            _start(screen, uuid, planned)
        else:
            screen.notify(result.message, severity="warning", timeout=8)

    screen.app.push_screen(ConfirmScreen(question, planned.virsh, "", host=host), answered)


def open_console(screen: MainScreen) -> None:
    """Hand the terminal to `virsh console` (ctrl+] returns); the app resumes where it was."""
    from textual.app import SuspendNotSupported

    target = _target(screen)
    if target is None:
        return
    uri, guest = target
    if guest.state is None or not guest.state.is_active:
        screen.notify(f"{guest.name} is not running: it has no console", severity="warning")
        return
    command = virsh_console(uri, guest.name)
    try:
        with screen.app.suspend(), tempfile.TemporaryFile("w+") as errors:
            # a clean terminal first: what it showed before ztui (or the last console) is not the guest's
            sys.stdout.write(CLEAR_SCREEN)
            print(f"{' '.join(command)}   (ctrl+] returns to ztui)", flush=True)
            # virsh's errors are kept for the notification: the terminal they would go to is redrawn at once
            code = subprocess.call(command, stderr=errors)
            errors.seek(0)
            why = next((line.strip() for line in reversed(errors.read().splitlines()) if line.strip()), "")
    except SuspendNotSupported:
        screen.notify("this terminal cannot hand over to the console; run: " + " ".join(command),
                      severity="warning", timeout=10)
        return
    except OSError as exc:
        screen.notify(f"cannot run virsh: {exc}", severity="error")
        return
    with contextlib.suppress(ZtuiError):  # the console is not a change: a full state directory does not matter
        record("console", uri, guest.name, "ended" if code == 0 else f"exit {code}", virsh=" ".join(command),
               via="tui")
    if code != 0:
        screen.notify(f"virsh console ended with exit status {code}" + (f": {why}" if why else ""),
                      severity="warning", timeout=10)
