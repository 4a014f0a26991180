"""Host sessions started before the screen that shows them exists.

Importing and starting the TUI takes a good part of a second; the connections and the first reads of the
hosts need not wait for it. The command starts the sessions first, with a `HeldSink`, and the app attaches
to them once it is up: the updates that came meanwhile are handed over first, in order, then every later
one goes straight through. Whatever waits on the daemon (and libvirt's own parsing of a test-driver file)
runs while the app is being built.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from ztui.libvirt.session import RECONNECT_DELAYS, HostSession
from ztui.libvirt.session_updates import Sink, Update


class HeldSink:
    """A sink that holds updates until `attach` gives it where they go."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: list[Update] = []
        self._target: Sink | None = None

    def __call__(self, update: Update) -> None:
        with self._lock:
            if self._target is None:
                self._held.append(update)
                return
            target = self._target
        target(update)

    def attach(self, target: Sink) -> None:
        """From now on updates go to `target`; the held ones first (under the lock, so none overtakes them)."""
        with self._lock:
            for update in self._held:
                target(update)
            self._held.clear()
            self._target = target


def start_sessions(uris: Iterable[str], sink: Sink, *, readonly: bool = False, udev: bool = True,
                   reconnect_delays: Sequence[float] | None = None) -> dict[str, HostSession]:
    """A started live session for each URI (once each), all reporting to `sink`."""
    sessions = {}
    for uri in dict.fromkeys(uris):
        session = HostSession(uri, sink, readonly=readonly, udev=udev,
                              reconnect_delays=reconnect_delays or RECONNECT_DELAYS)
        session.start()
        sessions[uri] = session
    return sessions
