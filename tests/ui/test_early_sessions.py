"""Sessions started before the app: what they read while the TUI was being built reaches the tree, in order."""

from __future__ import annotations

import threading
import time

from tests.ui.conftest import wait_until
from ztui.libvirt.early import HeldSink, start_sessions
from ztui.libvirt.session_updates import HostUp
from ztui.ui.app import ZtuiApp


def test_held_updates_go_first_and_none_overtakes_them() -> None:
    sink = HeldSink()
    got: list[int] = []
    for i in range(100):
        sink(i)  # type: ignore[arg-type]  # any object stands for an update here
    feeder = threading.Thread(target=lambda: [sink(i) for i in range(100, 2000)])  # type: ignore[arg-type,func-returns-value]
    feeder.start()
    sink.attach(got.append)  # type: ignore[arg-type]
    feeder.join()
    assert got == list(range(2000))


async def test_a_host_read_before_the_app_was_built_shows_in_the_tree(testdriver_copy: str) -> None:
    sink = HeldSink()
    sessions = start_sessions([testdriver_copy], sink, udev=False)
    deadline = time.monotonic() + 10
    while not any(isinstance(u, HostUp) for u in sink._held) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert any(isinstance(u, HostUp) for u in sink._held), "the session read nothing before the app"
    app = ZtuiApp([testdriver_copy], host_udev=False, started=(sessions, sink))
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_until(pilot, lambda: app.fleet.hosts[testdriver_copy].connected)
        assert app.backend.hosts.sessions == sessions
        main = app.main
        assert main is not None
        assert await wait_until(pilot, lambda: len(main.guest_tree.root.children[0].children) == 9)
