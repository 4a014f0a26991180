"""Questions to several hosts at once, answered within one deadline.

A host that does not answer — a hung daemon, a network that swallows packets, an SSH session that waits —
must cost a check its timeout once, never once per host, and must never hold up the rest. So each question
runs in a daemon thread of its own and they are all waited for until one deadline; a question still
waiting then has no answer (its thread is left to end when its connection does: libvirt offers no way to
cancel an open or a call).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

log = logging.getLogger("ztui.ops.bounded")


def answers_within(questions: Mapping[K, Callable[[], V]], timeout: float) -> dict[K, V]:
    """Ask every question at once; the answers that came within `timeout` seconds of the start, by key. A
    question that raised has no answer either: the caller says what a missing answer means."""
    answers: dict[K, V] = {}

    def ask(key: K, question: Callable[[], V]) -> None:
        try:
            answers[key] = question()
        except Exception:  # never a traceback on the terminal (a thread's default hook prints one)
            log.debug("%s: no answer", key, exc_info=True)

    threads = [threading.Thread(target=ask, args=(k, q), name=f"ask {k}", daemon=True) for k, q in questions.items()]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return {k: answers[k] for k in questions if k in answers}  # a copy: late answers do not change it
