"""Questions to several hosts within one deadline (`ztui.bounded`): a host that hangs costs the deadline
once and holds up no one; a question that fails has no answer, and says nothing on the terminal."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from ztui.bounded import answers_within


def test_one_deadline_for_all_and_a_failed_question_is_no_answer() -> None:
    hung = threading.Event()

    def fails() -> int:
        raise ValueError("a fault of the question's own")

    started = time.monotonic()
    answers = answers_within({"hangs": lambda: hung.wait(30), "fails": fails, "answers": lambda: 1,
                              "another": lambda: 2}, 0.5)
    elapsed = time.monotonic() - started
    hung.set()
    assert answers == {"answers": 1, "another": 2}
    assert 0.5 <= elapsed < 2


def test_a_question_that_fails_prints_no_traceback() -> None:
    """In a process of its own: pytest catches threads' exceptions before they reach the terminal."""
    code = ("from ztui.bounded import answers_within\n"
            "def fails():\n    raise ValueError('a fault of the question of its own')\n"
            "print(answers_within({'fails': fails, 'answers': lambda: 1}, 1.0))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout, done.stderr) == (0, "{'answers': 1}\n", "")
