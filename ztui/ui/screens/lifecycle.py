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
    """Plan the action for the selected guest; confirm it when it loses state; a start or resume asks the
    other hosts first, in its worker, and asks the user only when the guest runs elsewhere."""
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
    if action.starts_guest or not planned.confirm:
        _start(screen, guest.uuid, planned)
        return

    def answered(yes: bool | None) -> None:
        if yes:
            _start(screen, guest.uuid, planned)

    host = screen.app.host_name(uri)
    screen.app.push_screen(ConfirmScreen(planned.question(host), planned.virsh, "", host=host), answered)


def _ask_anyway(screen: MainScreen, uuid: str, planned: LifecyclePlan, check: CopyCheck,
                notes: dict[str, str]) -> None:
    """The guest runs elsewhere (or a host did not answer): ask, naming both hosts and the devices both
    copies would write. Yes starts it — if the hosts then say nothing this question did not."""
    from ztui.ui.screens.confirm import ConfirmScreen

    screen.status("")
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
            _start(screen, uuid, planned, accepted=check)

    screen.app.push_screen(ConfirmScreen(question, planned.virsh, "", host=here), answered)


def _start(screen: MainScreen, uuid: str, planned: LifecyclePlan, accepted: CopyCheck | None = None) -> None:
    doing = (f"asking the other hosts whether it runs there, then {planned.action.verb}"
             if planned.action.starts_guest else planned.action.verb)
    screen.status(f"{planned.guest}: {doing}…  {planned.virsh}")
    # on the app, so that its one failure handler sees it; a failure must not end the app
    screen.app.run_worker(lambda: _run(screen, uuid, planned, accepted), thread=True, group="lifecycle",
                          name=f"{planned.action.value} {planned.guest}", exit_on_error=False)


def _run(screen: MainScreen, uuid: str, planned: LifecyclePlan, accepted: CopyCheck | None = None) -> None:
    """In a worker thread: carry it out on the session's connection — a start or resume only when no other
    host runs the guest, or `accepted` (what the user confirmed) covers what they say now (`ops.other_copies`)
    —, audit it, say what was proven."""
    from ztui.ops.other_copies import lock_notes, start_one_copy

    app = screen.app
    conns = {u: s.connection for u, s in app.sessions.items() if s.connection is not None}
    conn = conns.get(planned.uri)
    if conn is None:
        app.call_from_thread(screen.notify, f"{planned.guest}: the host is disconnected; nothing was done",
                             severity="error")
        app.call_from_thread(screen.status, "")
        return
    try:
        dom = conn.lookupByUUIDString(uuid)
        if planned.action.starts_guest:
            started = start_one_copy(conn, dom, planned.uri, planned, session=list(app.fleet.hosts), conns=conns,
                                     accepted=accepted, timeout=app.lifecycle_timeout, via="tui")
            if started.result is None:
                app.call_from_thread(_ask_anyway, screen, uuid, planned, started.check,
                                     lock_notes(started.check, planned.uri))
                return
            result, problem = started.result, started.problem
        else:
            result, problem = carry_out_recorded(planned.uri, conn, dom, planned, timeout=app.lifecycle_timeout,
                                                 via="tui")
    except ZtuiError as exc:  # another action holds the guest, or no state directory: nothing was done
        app.call_from_thread(screen.notify, f"{planned.guest}: {exc}", severity="error")
        app.call_from_thread(screen.status, "")
        return
    except Exception as exc:  # the guest vanished or the host went away mid-way: nothing is claimed
        with contextlib.suppress(ZtuiError):
            record(f"lifecycle-{planned.action.value}", planned.uri, planned.guest, "not proven",
                   virsh=planned.virsh, message=str(exc), via="tui")
        app.call_from_thread(screen.notify, f"{planned.guest}: {planned.action.verb} not proven: {exc}",
                             severity="error")
        app.call_from_thread(screen.status, "")
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
