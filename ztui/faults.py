"""Named steps of an action, and the hook that fault tests and `make faults` use to strike at one.

Every attach, detach and migration calls `reached(action, step)` at each step boundary (the journal
records the same names). A test — or the fault bench — chooses a step and what to do there:

    ZTUI_FAULT_STEP=attach:device-asked     the step (`ACTION:STEP`, or `STEP` for any action;
                                            `…#N` for its N-th occurrence in the process)
    ZTUI_FAULT_RUN='kill -9 1234'           shell command run when that step is reached, synchronously;
                                            it sees ZTUI_STEP, ZTUI_ACTION and ZTUI_PID (ztui's pid), so
                                            `kill -TERM $ZTUI_PID` signals ztui itself
    ZTUI_STEP_LOG=/path/steps.log           every step reached, one line each: `ACTION STEP PID`

In-process callers (tests) register a callback with `add_hook`. Without any of these a step costs one
dictionary lookup. Step names are constants of the action's module (e.g. `hotplug.AttachStep`).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections import Counter
from collections.abc import Callable

ENV_STEP = "ZTUI_FAULT_STEP"
ENV_RUN = "ZTUI_FAULT_RUN"
ENV_LOG = "ZTUI_STEP_LOG"

Hook = Callable[[str, str], None]

_hooks: list[Hook] = []
_seen: Counter[str] = Counter()


def add_hook(hook: Hook) -> Callable[[], None]:
    """Call `hook(action, step)` at every step; returns the function that removes it again."""
    _hooks.append(hook)
    return lambda: _hooks.remove(hook) if hook in _hooks else None


def _matches(wanted: str, action: str, step: str) -> bool:
    name, _, nth = wanted.partition("#")
    if name not in (step, f"{action}:{step}"):
        return False
    return not nth or (nth.isdigit() and _seen[f"{action}:{step}"] == int(nth))


def reached(action: str, step: str) -> None:
    """`action` has reached `step`: log it and run the hooks that strike here."""
    _seen[f"{action}:{step}"] += 1
    log = os.environ.get(ENV_LOG)
    if log:
        with contextlib.suppress(OSError), open(log, "a", encoding="utf-8") as handle:
            handle.write(f"{action} {step} {os.getpid()}\n")
    wanted = os.environ.get(ENV_STEP, "")
    command = os.environ.get(ENV_RUN, "")
    if wanted and command and _matches(wanted, action, step):
        env = {**os.environ, "ZTUI_STEP": step, "ZTUI_ACTION": action, "ZTUI_PID": str(os.getpid())}
        for name in (ENV_STEP, ENV_RUN):
            env.pop(name, None)
        subprocess.run(["/bin/sh", "-c", command], env=env, check=False, stdin=subprocess.DEVNULL)
    for hook in list(_hooks):
        hook(action, step)
