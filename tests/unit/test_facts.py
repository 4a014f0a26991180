"""The shared answers about host-device facts: one function per question, tested on the cases that used to
disagree between modules."""

from __future__ import annotations

import pytest

from ztui.facts import CcwRole, card_kind, ccw_role, is_linux_bridge, is_local_uri, is_loopback_host, wwn
from ztui.model import Fact, HostDevice, HostDeviceKind


@pytest.mark.parametrize(("uri", "local"), [
    ("qemu:///system", True),
    ("qemu:///session", True),
    ("qemu+unix:///system?socket=/run/x.sock", True),
    ("test:///default", True),
    ("qemu+tcp://localhost/system", False),  # may be a tunnel to another machine
    ("qemu+tcp://127.0.0.1:16509/system", False),
    ("qemu://localhost/system", False),  # TLS
    ("qemu+ssh://root@kvm02/system", False),
    ("qemu+ssh://localhost/system", False),
])
def test_is_local_uri(uri: str, local: bool) -> None:
    assert is_local_uri(uri) is local


def test_loopback_host_is_about_the_address_only() -> None:
    assert is_loopback_host(None) and is_loopback_host("localhost") and is_loopback_host("::1")
    assert not is_loopback_host("kvm02")


def _ccw(driver: str, role: str = "") -> HostDevice:
    facts = (Fact("role", role, "udev"),) if role else ()
    return HostDevice(HostDeviceKind.CCW, "0.0.1900", "0.0.1900", driver=driver, facts=facts, source="libvirt")


def test_ccw_role_from_the_recorded_fact_or_the_driver() -> None:
    assert ccw_role(_ccw("dasd-eckd")) is CcwRole.DASD
    assert ccw_role(_ccw("dasd-fba")) is CcwRole.DASD
    assert ccw_role(_ccw("zfcp")) is CcwRole.FCP  # the resolver used to miss this one
    assert ccw_role(_ccw("qeth")) is CcwRole.QETH
    assert ccw_role(_ccw("")) is CcwRole.OTHER
    assert ccw_role(_ccw("", role="fcp")) is CcwRole.FCP


@pytest.mark.parametrize(("card_type", "kind"), [
    ("OSD_1000", "OSA"), ("OSD_10GIG", "OSA"), ("OSM_1000", "OSA"), ("OSX_10GIG", "OSA"),
    ("Virt.NIC QDIO", "OSA"), ("HiperSockets", "HiperSockets"), ("Virt.NIC Hiper", "HiperSockets"),
    ("IQD", "HiperSockets"), ("", ""), ("unknown", "unknown"),
])
def test_card_kind(card_type: str, kind: str) -> None:
    assert card_kind(card_type) == kind


@pytest.mark.parametrize(("text", "norm"), [
    ("0x500507630303c562", "0x500507630303c562"),
    ("500507630303C562", "0x500507630303c562"),  # libvirt's fc_host notation
    ("0x4001400000000000", "0x4001400000000000"),
    ("0x1", "0x0000000000000001"),
    ("", ""),
    ("not-a-wwn", "not-a-wwn"),
    ("0x10000000000000000", "0x10000000000000000"),  # too wide: kept as it is
])
def test_wwn(text: str, norm: str) -> None:
    assert wwn(text) == norm


def test_a_linux_bridge_is_an_interface_whose_bridge_fact_says_yes() -> None:
    def dev(kind: HostDeviceKind, bridge: str) -> HostDevice:
        facts = (Fact("bridge", bridge, "udev"),) if bridge else ()
        return HostDevice(kind, "br0", "br0", facts=facts, source="udev")

    assert is_linux_bridge(dev(HostDeviceKind.NET, "yes"))
    assert not is_linux_bridge(dev(HostDeviceKind.NET, ""))
    assert not is_linux_bridge(dev(HostDeviceKind.PCI, "pci-bridge"))  # a PCI bridge capability, no interface
