"""Device XML builders: specs → XML → parsed devices, and round trips over the fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import DOMAIN_FIXTURES
from ztui.libvirtxml.devices import (
    DiskSpec,
    HostdevSpec,
    InterfaceSpec,
    SpecError,
    build_xml,
    parse_busid,
    parse_pci,
    spec_from_device,
)
from ztui.libvirtxml.domain import parse_device_xml, parse_domain
from ztui.model import CcwAddress, DeviceKind, GuestDevice, PciAddress, Zpci


def test_parse_busid() -> None:
    assert parse_busid("0.0.5c3f") == CcwAddress(0xFE, 0, 0x5C3F)
    assert parse_busid("0.1.0001") == CcwAddress(0xFE, 1, 1)
    assert parse_busid("5C3F") == CcwAddress(0xFE, 0, 0x5C3F)
    assert parse_busid("fe.0.0007") == CcwAddress(0xFE, 0, 7)
    for bad in ("0.0.10000", "0.4.0001", "x.y.z", "", "1.0.0001"):
        with pytest.raises(SpecError):
            parse_busid(bad)


def test_parse_pci() -> None:
    addr = parse_pci("0000:06:12.5")
    assert (addr.domain, addr.bus, addr.slot, addr.function) == (0, 6, 0x12, 5)
    assert parse_pci("06:12.5").text == "0000:06:12.5"
    for bad in ("06:12", "0000:06:40.0", "0000:06:12.8", "zz"):
        with pytest.raises(SpecError):
            parse_pci(bad)


def test_disk_xml_parses_back() -> None:
    spec = DiskSpec(source="/var/lib/images/a b'<c>.qcow2", target="vdb", format="qcow2",
                    ccw=parse_busid("0.0.0005"))
    dev = parse_device_xml(build_xml(spec))
    assert dev.kind is DeviceKind.DISK
    assert (dev.source, dev.target, dev.bus, dev.busid, dev.detail("format")) == (
        "/var/lib/images/a b'<c>.qcow2", "vdb", "virtio", "0.0.0005", "qcow2")
    assert spec_from_device(dev) == spec


def test_block_disk_and_lun() -> None:
    dev = parse_device_xml(build_xml(DiskSpec(source="/dev/disk/by-path/ccw-0.0.5c3f", target="vdc",
                                              source_type="block", format="raw", cache="none")))
    assert dev.source == "/dev/disk/by-path/ccw-0.0.5c3f" and dev.detail("cache") == "none"
    lun = parse_device_xml(build_xml(DiskSpec(source="/dev/mapper/36005", target="sda", source_type="block",
                                              device="lun", bus="scsi")))
    assert lun.kind is DeviceKind.LUN


def test_interfaces() -> None:
    ovs = parse_device_xml(build_xml(InterfaceSpec(type="bridge", source="ovsbr0", openvswitch=True)))
    assert ovs.kind is DeviceKind.NET_OVS and ovs.source == "ovsbr0"
    mac = parse_device_xml(build_xml(InterfaceSpec(type="direct", source="encbd00", mode="vepa",
                                                   mac="52:54:00:aa:bb:cc", ccw=parse_busid("0.0.0010"))))
    assert (mac.kind, mac.source, mac.detail("mode"), mac.target, mac.busid) == (
        DeviceKind.NET_DIRECT, "encbd00", "vepa", "52:54:00:aa:bb:cc", "0.0.0010")


def test_hostdevs() -> None:
    ccw = parse_device_xml(build_xml(HostdevSpec(type="mdev", model="vfio-ccw",
                                                 source="90C6C135-AD44-41D0-B1B7-BAE47DE48627")))
    assert ccw.kind is DeviceKind.MDEV_VFIO_CCW and ccw.source == "90c6c135-ad44-41d0-b1b7-bae47de48627"
    zpci = parse_device_xml(build_xml(HostdevSpec(type="pci", source="0001:00:00.0", zpci=Zpci(0x19, 0x1F))))
    assert zpci.kind is DeviceKind.HOSTDEV_PCI and zpci.source == "0001:00:00.0"
    assert zpci.address_text.endswith("uid=0x0019 fid=0x0000001f (guest 0019:00:00.0)")  # PCI domain = uid


@pytest.mark.parametrize("spec", [
    DiskSpec(source="/a", target=""),
    DiskSpec(source="/a", target="vdb", source_type="network"),
    InterfaceSpec(type="bridge"),
    InterfaceSpec(type="vhostuser", source="x"),
    HostdevSpec(type="mdev", source="not-a-uuid", model="vfio-ccw"),
    HostdevSpec(type="mdev", source="90c6c135-ad44-41d0-b1b7-bae47de48627", model="vfio-foo"),
    HostdevSpec(type="pci", source="nonsense"),
    HostdevSpec(type="usb", source="1:2"),
])
def test_bad_specs_raise_specerror(spec: DiskSpec | InterfaceSpec | HostdevSpec) -> None:
    with pytest.raises(SpecError):
        build_xml(spec)


ROUND_TRIP_KINDS = {DeviceKind.DISK, DeviceKind.CDROM, DeviceKind.LUN, DeviceKind.NET_NETWORK,
                    DeviceKind.NET_BRIDGE, DeviceKind.NET_DIRECT, DeviceKind.NET_ETHERNET, DeviceKind.NET_USER,
                    DeviceKind.NET_OVS, DeviceKind.MDEV_VFIO_CCW, DeviceKind.MDEV_VFIO_AP,
                    DeviceKind.MDEV_OTHER, DeviceKind.HOSTDEV_PCI}


DISK_KINDS = {DeviceKind.DISK, DeviceKind.CDROM, DeviceKind.LUN}


def _round_trippable(text: str) -> list[GuestDevice]:
    """Devices a spec can describe: file/block disks, the common NIC types, mdevs and PCI hostdevs."""
    devices = []
    for d in parse_domain(text).devices:
        if d.kind not in ROUND_TRIP_KINDS or d.warnings:
            continue
        if d.kind in DISK_KINDS and d.detail("type") not in ("file", "block"):
            continue
        devices.append(d)
    return devices


@pytest.mark.parametrize("path", DOMAIN_FIXTURES, ids=lambda p: p.name)
def test_round_trip_over_fixtures(path: Path) -> None:
    """Each fixture disk, interface and hostdev → spec → XML → device keeps what identifies it."""
    for device in _round_trippable(path.read_text()):
        spec = spec_from_device(device)
        assert spec is not None
        rebuilt = parse_device_xml(build_xml(spec))
        for attr in ("kind", "source", "target", "busid", "passthrough"):
            assert getattr(rebuilt, attr) == getattr(device, attr), (path.name, attr)
        if device.kind is DeviceKind.HOSTDEV_PCI and isinstance(device.address, PciAddress) \
                and device.address.zpci is not None:
            assert isinstance(rebuilt.address, PciAddress)
            assert rebuilt.address.zpci == device.address.zpci
        assert spec_from_device(rebuilt) == spec
