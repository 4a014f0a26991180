"""The device XML rewrites that get an attach past what a killed daemon left in QEMU."""

from __future__ import annotations

import pytest

from ztui.libvirtxml.devices import SpecError, has_address, with_ccw_address, with_user_alias
from ztui.libvirtxml.domain import parse_device_xml
from ztui.model import CcwAddress

DISK = ("<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/x.img'/>"
        "<target dev='vdb' bus='virtio'/><alias name='virtio-disk1'/></disk>")


def test_user_alias_replaces_the_alias() -> None:
    device = parse_device_xml(with_user_alias(DISK, "ua-ztui-0a1b"))
    assert device.alias == "ua-ztui-0a1b" and device.target == "vdb" and device.source == "/x.img"
    for bad in ("virtio-disk9", "ua-", "ua-a b", "ua-<x>"):
        with pytest.raises(SpecError):
            with_user_alias(DISK, bad)


def test_ccw_address_set_and_replaced() -> None:
    assert not has_address(DISK)
    moved = with_ccw_address(DISK, CcwAddress(0xFE, 0, 0x0004))
    assert has_address(moved) and parse_device_xml(moved).busid == "0.0.0004"
    again = with_ccw_address(moved, CcwAddress(0xFE, 1, 0x0005))
    assert parse_device_xml(again).busid == "0.1.0005" and again.count("<address") == 1
