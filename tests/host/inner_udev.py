"""udev-level checks meant to run *inside* `umockdev-run` (launched by test_umockdev.py).

Not collected on its own (the name does not start with `test_`): outside umockdev it would read the real
machine. Each test looks at the fake host it finds and skips what does not apply.
"""

from __future__ import annotations

import os

import pytest

from ztui.host.inventory import build_inventory
from ztui.host.udev import read_device, udev_devices
from ztui.model import HostDeviceKind

Z_DASD = "/sys/devices/css0/0.0.0011/0.0.5c40"


def test_enumeration_never_raises_and_ids_are_unique() -> None:
    devices = udev_devices()
    assert devices, "umockdev gave no devices"
    keys = [d.key for d in devices]
    assert len(keys) == len(set(keys))
    inv = build_inventory(devices)
    for dev in devices:  # every lookup on damaged data works
        inv.parent(dev)
        inv.children(dev)


def test_odd_data_is_kept_not_raised() -> None:
    if not os.path.exists("/sys/devices/css0/0.0.0099"):
        pytest.skip("not the odd host")
    inv = build_inventory(udev_devices())
    odd = inv.get(HostDeviceKind.CCW, "0.0.9999")
    assert odd is not None and odd.driver == "some_future_driver" and odd.fact("online") == "garbage"
    assert inv.get(HostDeviceKind.CSS, "0.0.00zz") is None  # not a bus-ID: skipped
    pci = inv.get(HostDeviceKind.PCI, "0005:00:00.0")
    assert pci is not None and pci.iommu_group is None


def test_fresh_read_after_a_change() -> None:
    if not os.path.exists(Z_DASD):
        pytest.skip("not the Z host")
    before = read_device(Z_DASD)
    assert before is not None and before.fact("online") == "0"
    with open(os.path.join(Z_DASD, "online"), "w") as f:  # umockdev's /sys is writable
        f.write("1\n")
    after = read_device(Z_DASD)
    assert after is not None and after.fact("online") == "1"
    assert read_device("/sys/devices/css0/no-such-device") is None
