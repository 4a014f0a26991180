"""The udev watch hears a real uevent of this machine (a `change` written to the loopback device)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ztui.host.udev import UdevWatch

LO_UEVENT = Path("/sys/class/net/lo/uevent")


@pytest.mark.skipif(os.geteuid() != 0 or not LO_UEVENT.exists(), reason="needs root and /sys/class/net/lo")
def test_a_uevent_reaches_the_callback() -> None:
    seen: list[tuple[str, str]] = []
    watch = UdevWatch(lambda action, path: seen.append((action, path)), subsystems=("net",))
    watch.start()
    try:
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            LO_UEVENT.write_text("change")  # the kernel sends a uevent for lo; harmless
            time.sleep(0.1)
    finally:
        watch.stop()
    assert ("change", "/sys/devices/virtual/net/lo") in seen
