"""The daily actions' plan (`ztui.ops.lifecycle.plan`): which state allows which action, what virsh does the
same, what asks first. Pure: no daemon."""

from __future__ import annotations

import pytest

from ztui.model import GuestState
from ztui.ops.lifecycle import Action, plan, start_or_resume, virsh_command, virsh_console

URI = "qemu+ssh://zhost/system"


@pytest.mark.parametrize(("action", "state", "allowed"), [
    (Action.START, GuestState.SHUTOFF, True),
    (Action.START, GuestState.CRASHED, True),
    (Action.START, GuestState.RUNNING, False),
    (Action.START, GuestState.PAUSED, False),
    (Action.RESUME, GuestState.PAUSED, True),
    (Action.RESUME, GuestState.RUNNING, False),
    (Action.SHUTDOWN, GuestState.RUNNING, True),
    (Action.SHUTDOWN, GuestState.PAUSED, False),
    (Action.SHUTDOWN, GuestState.SHUTOFF, False),
    (Action.REBOOT, GuestState.RUNNING, True),
    (Action.REBOOT, GuestState.SHUTOFF, False),
    (Action.DESTROY, GuestState.RUNNING, True),
    (Action.DESTROY, GuestState.PAUSED, True),
    (Action.DESTROY, GuestState.SHUTOFF, False),
    (Action.SUSPEND, GuestState.RUNNING, True),
    (Action.SUSPEND, GuestState.PAUSED, False),
    (Action.SUSPEND, GuestState.SHUTOFF, False),
])
def test_which_state_allows_which_action(action: Action, state: GuestState, allowed: bool) -> None:
    planned = plan(action, URI, "lnx01", state)
    assert planned.ok is allowed, planned.refused
    assert bool(planned.refused) is not allowed
    if not allowed:
        assert "lnx01" in planned.refused and state.value in planned.refused


def test_an_unknown_state_leaves_the_decision_to_libvirt() -> None:
    assert all(plan(a, URI, "g", None).ok for a in Action)


def test_only_what_loses_state_asks_first() -> None:
    assert {a for a in Action if plan(a, URI, "g", GuestState.RUNNING).confirm} == {
        Action.SHUTDOWN, Action.REBOOT, Action.DESTROY}


def test_the_virsh_equivalent_names_host_action_and_guest() -> None:
    assert plan(Action.DESTROY, URI, "my guest", GuestState.RUNNING).virsh == \
        "virsh -c qemu+ssh://zhost/system destroy 'my guest'"
    assert virsh_command(URI, "g", Action.SUSPEND) == "virsh -c qemu+ssh://zhost/system suspend g"
    assert virsh_console(URI, "g") == ["virsh", "-c", URI, "console", "g"]


def test_the_question_names_the_host_and_says_what_is_lost() -> None:
    question = plan(Action.DESTROY, URI, "lnx01", GuestState.RUNNING).question("zhost")
    assert question.startswith("Force off lnx01 on zhost?") and "lost" in question


def test_s_resumes_a_paused_guest_and_starts_any_other() -> None:
    assert start_or_resume(GuestState.PAUSED) is Action.RESUME
    assert start_or_resume(GuestState.SHUTOFF) is Action.START
    assert start_or_resume(None) is Action.START
