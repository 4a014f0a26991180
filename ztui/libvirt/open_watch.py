"""A live session's open that gets no answer is shown as not answering while it goes on.

libvirt waits for ever for a daemon that accepted and then says nothing, and ssh for a host that drops its
packets (docs/ARCHITECTURE.md §3). A session must not give such an open up (the answer may still come, and
is then shown as usual), but the user must not look at a host that seems to be connecting for ever either.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ztui.libvirt.connection import answer_timeout, not_answering
from ztui.libvirt.session_updates import HostDown, Sink


def watch_open(uri: str, sink: Sink, stopping: threading.Event) -> Callable[[], None]:
    """Start watching an open of `uri`: no answer within `answer_timeout()` sends `sink` a `HostDown` that
    says so (unless the session is `stopping`). Returns what ends the watch (called once the open returned,
    whichever way)."""
    timeout = answer_timeout()
    lock = threading.Lock()
    answered = threading.Event()

    def silent() -> None:
        with lock:
            if not answered.is_set() and not stopping.is_set():
                sink(HostDown(uri, not_answering(uri, timeout).reason + "; still waiting", 0))

    timer = threading.Timer(timeout, silent)
    timer.daemon = True
    timer.start()

    def done() -> None:
        with lock:
            answered.set()
        timer.cancel()

    return done
