"""Questions to several hosts, or many to one host, asked at the same time: all of them within one deadline
(`answers_within`), or each in order with a few under way (`ordered_map`).

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
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger("ztui.bounded")


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


def ordered_map(fn: Callable[[T], R], items: Sequence[T], in_flight: int) -> list[R]:
    """`fn` of each item, in order, with up to `in_flight` calls under way (one by one when 1): each call
    a round trip in which this process only waits."""
    if in_flight <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    pool = ThreadPoolExecutor(min(in_flight, len(items)), thread_name_prefix="ztui-read")
    try:
        return list(pool.map(fn, items))
    finally:  # after a failed call, the calls not yet started are cancelled
        pool.shutdown(wait=True, cancel_futures=True)
