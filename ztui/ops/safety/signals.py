"""Signals during an action: SIGINT, SIGTERM and SIGHUP end it after its current step, never in the middle.

A signal that kills ztui between "device detached" and "device re-attached" loses the device in silence
(an SSH session that closes sends SIGHUP). Inside `SignalGuard` these signals are only noted; the action
calls `guard.check()` at each step boundary, which raises `Interrupted` so the action can roll back (or
complete), write its report and its journal, and exit 128 + the signal. Whatever is at risk meanwhile —
the XML of a detached device, the image being created — is registered with `guard.at_risk(text)`: a second
signal prints it at once on stderr, so even a user who then kills ztui with SIGKILL has it.

    with SignalGuard() as guard:
        do_step_1()
        guard.check()                      # Interrupted here if a signal came during step 1
        with guard.at_risk(device_xml):
            detach(...)
            guard.check()

Handlers can only be installed from the main thread; elsewhere the guard notes nothing and `check` never
raises (the TUI's workers are stopped through the app, not by signals).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType, TracebackType
from typing import Any

from ztui.errors import Interrupted

GUARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _say(text: str) -> None:
    """Write to stderr from a signal handler; a terminal that went away (SIGHUP) is no error."""
    with contextlib.suppress(OSError, ValueError):
        os.write(sys.stderr.fileno(), text.encode("utf-8", "replace"))


class SignalGuard:
    """Defers SIGINT, SIGTERM and SIGHUP to the next step boundary of an action (see the module)."""

    def __init__(self, what: str = "the action") -> None:
        self.what = what
        self.received: list[int] = []
        self._risk: list[str] = []
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> SignalGuard:
        if threading.current_thread() is threading.main_thread():
            for signum in GUARDED:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.received.append(signum)
        name = signal.Signals(signum).name
        if len(self.received) == 1:
            _say(f"ztui: {name}: {self.what} stops after its current step\n")
        else:
            _say(f"ztui: {name} again: {self.what} still finishes its current step; what is at risk:\n")
            for text in self._risk:
                _say(text.rstrip("\n") + "\n")

    @property
    def signum(self) -> int | None:
        """The first signal received, or None."""
        return self.received[0] if self.received else None

    def check(self, where: str = "") -> None:
        """Raise `Interrupted` when a signal came; call it between steps."""
        if self.received:
            name = signal.Signals(self.received[0]).name
            raise Interrupted(f"{name}: {self.what} stopped" + (f" after {where}" if where else ""),
                              self.received[0])

    @contextlib.contextmanager
    def at_risk(self, text: str) -> Iterator[None]:
        """While the block runs, a second signal prints `text` (e.g. a detached device's XML)."""
        self._risk.append(text)
        try:
            yield
        finally:
            with contextlib.suppress(ValueError):
                self._risk.remove(text)
