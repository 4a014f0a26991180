"""A guest's daily actions from the tree: `s` start/resume, `S` shut down, `R` reboot, `D` destroy, `P` pause,
`c` console (the keys: `ztui.ui.bindings.LIFECYCLE_BINDINGS`).

The keys act on the selected guest (or the guest of the selected device). What may lose state asks first,
showing the virsh command that does the same; every attempt goes to the audit log; the result shown is the
proven one from the backend (the lifecycle event and a re-read state), and the tree follows from the
host's own events, not from here. `c` suspends the app and runs `virsh console` in the terminal until
ctrl+] ends it.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile

from textual.app import SuspendNotSupported

from ztui.backend.lifecycle import (
    Action,
    CopyCheck,
    LifecycleDone,
    LifecyclePlan,
    LifecycleResult,
    audit_refused,
    plan,
    start_or_resume,
    virsh_console,
)
from ztui.model import Guest
from ztui.ui.messages import Status
from ztui.ui.screens.confirm import ConfirmScreen
from ztui.ui.shell import ZtuiShell

CLEAR_SCREEN = "\x1b[H\x1b[2J"  # cursor home, erase the screen (ECMA-48 CUP, ED 2)


def request_lifecycle(app: ZtuiShell, uri: str, guest: Guest, name: str) -> None:
    """Plan the action for the guest; confirm it when it loses state; a start or resume asks the other hosts
    first, in its worker, and asks the user only when the guest runs elsewhere."""
    action = Action(name)
    if action is Action.START:
        action = start_or_resume(guest.state)
    planned = plan(action, uri, guest.name, guest.state)
    if not planned.ok:
        problem = audit_refused(planned, via="tui")
        app.notify(planned.refused + (f" ({problem})" if problem else ""), severity="warning")
        return
    if action.starts_guest or not planned.confirm:
        _start(app, guest.uuid, planned)
        return

    def answered(yes: bool | None) -> None:
        if yes:
            _start(app, guest.uuid, planned)

    host = app.host_name(uri)
    app.push_screen(ConfirmScreen(planned.question(host), planned.virsh, "", host=host), answered)


def _ask_anyway(app: ZtuiShell, uuid: str, planned: LifecyclePlan, check: CopyCheck, notes: dict[str, str]) -> None:
    """The guest runs elsewhere (or a host did not answer): ask, naming both hosts and the devices both
    copies would write. Yes starts it — if the hosts then say nothing this question did not."""
    app.post_message(Status(""))
    here = app.named(check.here)
    question = (f"{planned.action.verb.capitalize()} {planned.guest} on {here} anyway? "
                + app.named(check.reason()) + ". Two copies writing the same disks destroy their file systems.")
    for host, note in notes.items():  # once per host and session: what makes libvirt refuse a second copy
        if host not in app.lock_advice_given:
            app.lock_advice_given.add(host)
            question += "\n\n" + note

    def answered(yes: bool | None) -> None:
        if yes:
            _start(app, uuid, planned, accepted=check)

    app.push_screen(ConfirmScreen(question, planned.virsh, "", host=here), answered)


def _start(app: ZtuiShell, uuid: str, planned: LifecyclePlan, accepted: CopyCheck | None = None) -> None:
    doing = (f"asking the other hosts whether it runs there, then {planned.action.verb}"
             if planned.action.starts_guest else planned.action.verb)
    app.post_message(Status(f"{planned.guest}: {doing}…  {planned.virsh}"))
    # on the app, so that its one failure handler sees it; a failure must not end the app
    app.run_worker(lambda: _run(app, uuid, planned, accepted), thread=True, group="lifecycle",
                   name=f"{planned.action.value} {planned.guest}", exit_on_error=False)


def _run(app: ZtuiShell, uuid: str, planned: LifecyclePlan, accepted: CopyCheck | None) -> None:
    """In a worker thread: carried out by the backend, then what it proved is said on the app's thread."""
    done = app.backend.lifecycle(planned, uuid, app.shown, accepted, app.lifecycle_timeout)
    app.call_from_thread(_ended, app, uuid, planned, done)


def _ended(app: ZtuiShell, uuid: str, planned: LifecyclePlan, done: LifecycleDone) -> None:
    if done.error:
        app.notify(done.error, severity="error")
        app.post_message(Status(""))
        return
    if done.asked is not None:
        _ask_anyway(app, uuid, planned, done.asked, done.notes)
        return
    app.post_message(Status(""))
    result = done.result
    if result is None:  # pragma: no cover - a LifecycleDone has a result, an error or a question
        return
    if _ignored(result):
        # the guest's OS did not act on it: the next step is offered at once, as its own confirmation
        offer_destroy(app, uuid, result, done.problem)
        return
    app.notify(result.message + (f"\n{done.problem}" if done.problem else ""),
               severity="information" if result.ok else "error", timeout=8)


def _ignored(result: LifecycleResult) -> bool:
    """A shutdown asked of the guest's OS, accepted by libvirt, and not done: the guest still runs."""
    return (result.plan.action is Action.SHUTDOWN and result.requested and not result.ok
            and result.state is not None and result.state.is_active)


def offer_destroy(app: ZtuiShell, uuid: str, result: LifecycleResult, problem: str) -> None:
    """After a shutdown the guest ignored: ask whether to force it off (`D`), saying why it is asked."""
    if problem:
        app.notify(problem, severity="error", timeout=8)
    planned = plan(Action.DESTROY, result.plan.uri, result.plan.guest, result.state)
    if not planned.ok:
        app.notify(result.message, severity="error", timeout=8)
        return
    host = app.host_name(result.plan.uri)
    question = f"{result.message.removesuffix(' — destroy forces it off')}.\n{planned.question(host)} (D)"

    def answered(yes: bool | None) -> None:
        if yes:
            _start(app, uuid, planned)
        else:
            app.notify(result.message, severity="warning", timeout=8)

    app.push_screen(ConfirmScreen(question, planned.virsh, "", host=host), answered)


def open_console(app: ZtuiShell, uri: str, guest: Guest) -> None:
    """Hand the terminal to `virsh console` (ctrl+] returns); the app resumes where it was."""
    if guest.state is None or not guest.state.is_active:
        app.notify(f"{guest.name} is not running: it has no console", severity="warning")
        return
    command = virsh_console(uri, guest.name)
    try:
        with app.suspend(), tempfile.TemporaryFile("w+") as errors:
            # a clean terminal first: what it showed before ztui (or the last console) is not the guest's
            sys.stdout.write(CLEAR_SCREEN)
            print(f"{' '.join(command)}   (ctrl+] returns to ztui)", flush=True)
            # virsh's errors are kept for the notification: the terminal they would go to is redrawn at once
            code = subprocess.call(command, stderr=errors)
            errors.seek(0)
            why = next((line.strip() for line in reversed(errors.read().splitlines()) if line.strip()), "")
    except SuspendNotSupported:
        app.notify("this terminal cannot hand over to the console; run: " + " ".join(command),
                   severity="warning", timeout=10)
        return
    except OSError as exc:
        app.notify(f"cannot run virsh: {exc}", severity="error")
        return
    app.backend.console_ended(uri, guest.name, code, command)
    if code != 0:
        app.notify(f"virsh console ended with exit status {code}" + (f": {why}" if why else ""),
                   severity="warning", timeout=10)
