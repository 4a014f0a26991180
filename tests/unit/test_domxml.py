"""Domain XML parsing on libvirt's own test files (../shared/fixtures/libvirt/domain)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import DOMAIN_FIXTURES, FIXTURES
from ztui.libvirtxml.common import XmlError, parse_int
from ztui.libvirtxml.domain import parse_device_xml, parse_domain
from ztui.model import (
    AddressType,
    CcwAddress,
    DeviceKind,
    GuestState,
    PciAddress,
)

DOMAIN = FIXTURES / "libvirt" / "domain"


def load(name: str):  # type: ignore[no-untyped-def]
    return parse_domain((DOMAIN / name).read_text())


@pytest.mark.parametrize("path", DOMAIN_FIXTURES, ids=lambda p: p.name)
def test_every_device_element_is_one_device(path: Path) -> None:
    guest = parse_domain(path.read_text())
    devices_elem = ET.fromstring(path.read_text()).find("devices")
    assert devices_elem is not None
    expected = [c.tag for c in devices_elem if c.tag != "emulator"]
    assert len(guest.devices) == len(expected)
    for device, tag in zip(guest.devices, expected, strict=True):
        assert ET.fromstring(device.xml).tag == tag
        assert device.kind is not DeviceKind.OTHER, f"<{tag}> should be a known kind"


def test_parse_int_reads_hex_and_decimal() -> None:
    assert parse_int("0xFe") == 254
    assert parse_int("254") == 254
    assert parse_int("0x0a") == 10
    assert parse_int(" 7 ") == 7
    assert parse_int("seven") is None
    assert parse_int("") is None
    assert parse_int(None) is None


def test_ccw_addresses_print_as_the_guest_sees_them() -> None:
    guest = load("disk-virtio-ccw-many.xml")
    by_target = {d.target: d for d in guest.devices}
    assert by_target["hda"].address == CcwAddress(cssid=0, ssid=0, devno=7)
    assert by_target["hda"].busid == "0.0.0007"
    hdd = by_target["hdd"]
    assert isinstance(hdd.address, CcwAddress)
    assert hdd.address.cssid == 254  # raw cssid kept
    assert hdd.busid == "0.2.f00f"  # shown as css 0, lower-case, 4 digits
    assert by_target["hdc"].address is None  # libvirt assigns one
    assert by_target["hdb"].address is None  # empty <address type='ccw'/>
    balloon = guest.devices[-1]
    assert balloon.kind is DeviceKind.BALLOON and balloon.busid == "0.0.000a"


def test_mixed_case_hex_cssid() -> None:
    balloon = load("disk-virtio-ccw.xml").devices[-1]
    assert isinstance(balloon.address, CcwAddress)
    assert balloon.address.cssid == 0xFE and balloon.busid == "0.0.000a"


def test_guest_facts() -> None:
    guest = load("s390x-ccw-headless.xml")
    assert guest.arch == "s390x"
    assert guest.machine == "s390-ccw-virtio"
    assert guest.vcpus == 4
    assert guest.memory_kib == 4194304
    assert guest.state is None  # no libvirt, no state
    assert [d.kind for d in guest.devices] == [DeviceKind.DISK, DeviceKind.NET_USER, DeviceKind.CONSOLE,
                                               DeviceKind.CHANNEL, DeviceKind.BALLOON, DeviceKind.RNG]
    disk = guest.devices[0]
    assert (disk.target, disk.bus, disk.source, disk.detail("format")) == (
        "vda", "virtio", "/var/lib/libvirt/images/guest.qcow2", "qcow2")
    console = guest.devices[2]
    assert console.bus == "sclp"


def test_vfio_ccw_mdev_blocks_migration() -> None:
    (dev,) = load("hostdev-subsys-mdev-vfio-ccw.xml").devices
    assert dev.kind is DeviceKind.MDEV_VFIO_CCW
    assert dev.source == "90c6c135-ad44-41d0-b1b7-bae47de48627"
    assert dev.passthrough and dev.migration_blocker
    assert "vfio-ccw" in dev.blocker_reason


def test_vfio_ap_mdev_blocks_migration_and_says_never_hotplug() -> None:
    (dev,) = load("hostdev-subsys-mdev-vfio-ap.xml").devices
    assert dev.kind is DeviceKind.MDEV_VFIO_AP
    assert dev.migration_blocker and "hotplug" in dev.blocker_reason


def test_vfio_ccw_with_pci_address_warns() -> None:
    (dev,) = load("hostdev-subsys-mdev-vfio-ccw-invalid-address.xml").devices
    assert any("only ccw" in w for w in dev.warnings)


def test_zpci_hostdev() -> None:
    dev = load("hostdev-vfio-zpci.xml").devices[1]
    assert dev.kind is DeviceKind.HOSTDEV_PCI
    assert dev.address_type is AddressType.ZPCI
    assert isinstance(dev.address, PciAddress) and dev.address.zpci is not None
    assert (dev.address.zpci.uid, dev.address.zpci.fid) == (0x19, 0x1F)
    assert dev.source == "0000:00:00.0"
    assert dev.detail("managed") == "no"
    assert dev.migration_blocker


def test_zpci_boundaries_and_invalid_uid() -> None:
    devs = load("hostdev-vfio-zpci-boundaries.xml").devices
    first = devs[1].address
    assert isinstance(first, PciAddress) and first.zpci is not None
    assert (first.zpci.uid, first.zpci.fid) == (0xFFFF, 0xFFFFFFFF)
    assert devs[1].source == "ffff:00:00.0"
    assert not devs[1].warnings
    bad = load("hostdev-vfio-zpci-invalid-uid-valid-fid.xml").devices[1]
    assert any("uid" in w for w in bad.warnings)


def test_teaming_transient_hostdev_does_not_block() -> None:
    devs = load("net-virtio-teaming-hostdev.xml").devices
    hostdevs = [d for d in devs if d.kind is DeviceKind.HOSTDEV_PCI]
    assert len(hostdevs) == 2
    assert all(d.passthrough and not d.migration_blocker for d in hostdevs)


def test_interface_hostdev_blocks() -> None:
    nic = next(d for d in load("net-hostdev-vfio.xml").devices if d.kind is DeviceKind.NET_HOSTDEV)
    assert nic.passthrough and nic.migration_blocker
    assert nic.source == "0000:06:12.1"
    assert nic.target == "00:11:22:33:44:55"


def test_scsi_and_scsi_host_hostdevs_block_usb_does_not() -> None:
    scsi = next(d for d in load("hostdev-scsi-virtio-scsi.xml").devices if d.kind is DeviceKind.HOSTDEV_SCSI)
    assert scsi.migration_blocker and scsi.source == "scsi_host0:0:0:0"
    vhost = next(d for d in load("hostdev-scsi-vhost-scsi-ccw.xml").devices
                 if d.kind is DeviceKind.HOSTDEV_SCSI_HOST)
    assert vhost.migration_blocker and vhost.source == "naa.5123456789abcde0"
    usb = parse_device_xml("<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/>"
                           "<product id='0xbeef'/></source></hostdev>")
    assert usb.kind is DeviceKind.HOSTDEV_USB and usb.passthrough and not usb.migration_blocker
    assert usb.source == "0x1234:0xbeef"


def test_interfaces_by_type() -> None:
    ovs = next(d for d in load("net-openvswitch.xml").devices if d.kind.category.value == "network")
    assert ovs.kind is DeviceKind.NET_OVS and ovs.source == "ovs-net"
    vdpa = next(d for d in load("net-vdpa.xml").devices if d.kind is DeviceKind.NET_VDPA)
    assert vdpa.source == "/dev/vhost-vdpa-0"
    nets = [d for d in load("net-virtio-network-portgroup.xml").devices if d.kind is DeviceKind.NET_NETWORK]
    assert [n.source for n in nets] == ["rednet", "blue", "blue"]
    direct = parse_device_xml("<interface type='direct'><mac address='52:54:00:00:00:01'/>"
                              "<source dev='encbd00' mode='bridge'/><model type='virtio'/></interface>")
    assert direct.kind is DeviceKind.NET_DIRECT and direct.source == "encbd00"
    assert direct.detail("mode") == "bridge"


def test_disks_of_every_source_type() -> None:
    nvme = load("disk-nvme.xml").devices[0]
    assert nvme.source == "nvme 0000:01:00.0 ns 1"
    iscsi = load("disk-network-iscsi.xml").devices
    assert iscsi[0].source.startswith("iscsi://example.org:6000/")
    lun = iscsi[4]
    assert lun.kind is DeviceKind.LUN and lun.bus == "scsi"
    passthrough_luns = [d for d in load("disk-scsi-lun-passthrough.xml").devices if d.kind is DeviceKind.LUN]
    assert [d.address_text for d in passthrough_luns] == ["0:0:0:0", "0:0:1:1"]


def test_virtio_devices_of_the_hypervisor() -> None:
    kinds = {d.kind for name in ("vhost-vsock-ccw.xml", "video-virtio-gpu-ccw.xml", "virtio-rng-ccw.xml",
                                 "watchdog-diag288.xml", "fs9p-ccw.xml", "input-virtio-ccw.xml")
             for d in load(name).devices}
    assert {DeviceKind.VSOCK, DeviceKind.VIDEO, DeviceKind.RNG, DeviceKind.WATCHDOG, DeviceKind.FILESYSTEM,
            DeviceKind.INPUT, DeviceKind.PANIC, DeviceKind.BALLOON, DeviceKind.GRAPHICS} <= kinds
    vsock = next(d for d in load("vhost-vsock-ccw.xml").devices if d.kind is DeviceKind.VSOCK)
    assert vsock.target == "cid 4" and vsock.busid == "0.0.0003"


def test_unknown_element_becomes_other_with_its_xml() -> None:
    guest = parse_domain("<domain type='kvm'><name>x</name><devices><emulator>/q</emulator>"
                         "<frobnicator speed='9'><x/></frobnicator></devices></domain>")
    (dev,) = guest.devices
    assert dev.kind is DeviceKind.OTHER and dev.model == "frobnicator"
    assert "frobnicator" in dev.xml and "speed" in dev.xml


def test_ivshmem_peer_blocks_master_does_not() -> None:
    peer = parse_device_xml("<shmem name='s'><model type='ivshmem-plain'/><size unit='M'>4</size></shmem>")
    master = parse_device_xml("<shmem name='s' role='master'><model type='ivshmem-plain'/></shmem>")
    assert peer.migration_blocker and not master.migration_blocker


def test_bad_numbers_become_warnings() -> None:
    dev = parse_device_xml("<disk type='file' device='disk'><source file='/a'/><target dev='vda' bus='virtio'/>"
                           "<address type='ccw' cssid='0xfe' ssid='9' devno='0x10000'/></disk>")
    assert len(dev.warnings) == 2
    dev = parse_device_xml("<disk type='file'><address type='ccw' cssid='zz' ssid='0' devno='1'/></disk>")
    assert any("not a number" in w for w in dev.warnings)


def test_state_and_persistence_come_from_the_caller() -> None:
    guest = parse_domain((DOMAIN / "console-sclp.xml").read_text(), state=GuestState.PAUSED, persistent=True)
    assert guest.state is GuestState.PAUSED and guest.persistent is True
    assert GuestState.from_libvirt(5) is GuestState.SHUTOFF
    assert GuestState.from_libvirt(99) is GuestState.UNKNOWN
    assert str(GuestState.SHUTOFF) == "shut off"


@pytest.mark.parametrize("text", ["", "<domain>", "not xml", "<node/>", b"\xff\xfe<"])
def test_not_a_domain_raises_xmlerror(text: str) -> None:
    with pytest.raises(XmlError):
        parse_domain(text)
