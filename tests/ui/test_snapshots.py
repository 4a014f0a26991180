"""How the screens look, as SVG snapshots (pytest-textual-snapshot) at 80x24 and 120x40.

Deterministic: the data is the project's test-driver file (tests/fixtures/testdriver/zhost.xml) copied to
a fixed path (the URI is on screen), there is no clock on screen, and the cursor does not blink in Pilot
runs. Update with `--snapshot-update` after an intended change, and look at the SVGs before committing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.conftest import TESTDRIVER
from tests.ui.conftest import wait_until
from ztui.ui.app import ZtuiApp

SNAPSHOT_DIR = Path("/tmp/ztui-snapshot-host")
URI = f"test://{SNAPSHOT_DIR}/host.xml"


@pytest.fixture(autouse=True)
def fixed_host_file() -> None:
    SNAPSHOT_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copy(TESTDRIVER, SNAPSHOT_DIR / "host.xml")


def _app() -> ZtuiApp:
    return ZtuiApp([URI], host_udev=False)  # this machine's own udev devices would differ elsewhere


async def _ready(pilot: Pilot[object]) -> None:
    app = pilot.app
    assert isinstance(app, ZtuiApp)
    assert await wait_until(pilot, lambda: app.fleet.hosts[URI].connected)
    await pilot.pause(0.1)


async def _on_a_device(pilot: Pilot[object]) -> None:
    await _ready(pilot)
    await pilot.press("j", "j", "j", "j", "j", "j", "l", "j", "j")  # template → its second disk
    await pilot.pause(0.1)


async def _host_devices(pilot: Pilot[object]) -> None:
    await _ready(pilot)
    await pilot.press("H")
    app = pilot.app
    status = lambda: str(app.screen.query_one("#status").render())  # noqa: E731
    assert await wait_until(pilot, lambda: "host devices and objects on" in status())
    await pilot.press("j", "j", "j")
    await pilot.pause(0.1)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_main_screen(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(), terminal_size=size, run_before=_on_a_device)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_host_devices(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(), terminal_size=size, run_before=_host_devices)


def test_filter_by_path(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run(pilot: Pilot[object]) -> None:
        await _ready(pilot)
        await pilot.press("slash", *"golden-data", "enter")
        await pilot.pause(0.1)

    assert snap_compare(_app(), terminal_size=(120, 40), run_before=run)
