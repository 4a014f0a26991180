"""Helpers for driving the app with Pilot against libvirt's test driver."""

from __future__ import annotations

import gc
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.conftest import TESTDRIVER

pytest.importorskip("libvirt", reason="libvirt-python is not installed")


async def wait_until(pilot: Pilot[object], predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Let the app run until `predicate()` holds (events arrive from other threads)."""
    steps = int(timeout / 0.02)
    for _ in range(steps):
        if predicate():
            return True
        await pilot.pause(0.02)
    return predicate()


@pytest.fixture(autouse=True)
def _private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A state directory of the test's own: the user's journal must not show up in a snapshot."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture(autouse=True)
def _unfreeze_heap() -> Iterator[None]:
    """The app freezes its loaded model out of the collector (`settle_heap`); no test keeps that."""
    yield
    gc.unfreeze()


@pytest.fixture
def testdriver_copy(tmp_path: Path) -> str:
    """A private copy of the test-driver file, as a URI (each test gets a fresh in-memory host)."""
    path = tmp_path / "host.xml"
    shutil.copy(TESTDRIVER, path)
    return f"test://{path}"


def screen_text(pilot: Pilot[object]) -> list[str]:
    """The lines on the terminal as a user reads them (every widget composed, borders included)."""
    strips = pilot.app.screen._compositor.render_strips()
    return ["".join(segment.text for segment in strip) for strip in strips]
