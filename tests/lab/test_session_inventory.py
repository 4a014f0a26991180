"""A live session re-reads the host's devices when udev reports a change (real uevent, real lab host)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from tests.lab.support import Lab
from ztui.libvirt.session import HostSession
from ztui.libvirt.session_updates import HostUp, InventoryChanged, Update

LO_UEVENT = Path("/sys/class/net/lo/uevent")


@pytest.mark.skipif(os.geteuid() != 0 or not LO_UEVENT.exists(), reason="needs root and /sys/class/net/lo")
def test_udev_change_rescans_the_inventory(lab: Lab) -> None:
    uri = lab.uris["zlab-a"]
    updates: list[Update] = []
    arrived = threading.Event()

    def sink(update: Update) -> None:
        updates.append(update)
        arrived.set()

    session = HostSession(uri, sink)
    session.start()
    try:
        deadline = time.monotonic() + 20
        while not any(isinstance(u, HostUp) for u in updates) and time.monotonic() < deadline:
            arrived.wait(0.1)
        assert any(isinstance(u, HostUp) for u in updates)
        assert session._events._watch is not None  # a local host: udev is watched
        deadline = time.monotonic() + 5
        while not any(isinstance(u, InventoryChanged) for u in updates) and time.monotonic() < deadline:
            LO_UEVENT.write_text("change")
            time.sleep(0.2)
        assert any(isinstance(u, InventoryChanged) and u.uri == uri for u in updates)
    finally:
        session.stop()
    assert session._events._watch is None
