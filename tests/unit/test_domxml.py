"""Domain XML parsing on the project's fixtures (tests/fixtures/domain) and on inline pieces."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import DOMAIN_FIXTURES, domain_fixture
from ztui.libvirtxml.common import XmlError, parse_int
from ztui.libvirtxml.domain import parse_device_xml, parse_domain
from ztui.model import (
    AddressType,
    CcwAddress,
    DeviceKind,
    DriveAddress,
    GuestState,
    PciAddress,
    Zpci,
)


def load(name: str):  # type: ignore[no-untyped-def]
    return parse_domain(domain_fixture(name).read_text())


def test_the_fixtures_are_there() -> None:
    """A glob over a missing directory is empty and every parametrized test below would vanish."""
    assert len(DOMAIN_FIXTURES) >= 20


@pytest.mark.parametrize("path", DOMAIN_FIXTURES, ids=lambda p: p.name)
def test_every_device_element_is_one_device(path: Path) -> None:
    guest = parse_domain(path.read_text())
    devices_elem = ET.fromstring(path.read_text()).find("devices")
    assert devices_elem is not None
    expected = [c.tag for c in devices_elem if c.tag != "emulator"]
    assert len(guest.devices) == len(expected)
    for device, tag in zip(guest.devices, expected, strict=True):
        assert ET.fromstring(device.xml).tag == tag
        if not path.name.startswith("damaged-"):
            assert device.kind is not DeviceKind.OTHER, f"<{tag}> should be a known kind"


def test_parse_int_reads_hex_and_decimal() -> None:
    assert parse_int("0xFe") == 254
    assert parse_int("254") == 254
    assert parse_int("0x0a") == 10
    assert parse_int(" 7 ") == 7
    assert parse_int("seven") is None
    assert parse_int("") is None
    assert parse_int(None) is None


def test_ccw_addresses_in_decimal_hex_and_mixed_case_print_as_the_guest_sees_them() -> None:
    guest = load("ccw-addresses.xml")
    by_target = {d.target: d for d in guest.devices}
    assert by_target["vda"].address == CcwAddress(cssid=0xFE, ssid=0, devno=7)  # written in decimal
    assert by_target["vda"].busid == "0.0.0007"
    vdd = by_target["vdd"]
    assert isinstance(vdd.address, CcwAddress)
    assert vdd.address.cssid == 254  # raw cssid kept
    assert vdd.busid == "0.2.f00f"  # shown as css 0, lower-case, 4 digits
    assert by_target["vdb"].address is None  # empty <address type='ccw'/>: libvirt assigns one
    assert by_target["vdc"].address is None  # no address at all
    balloon = guest.devices[-1]
    assert balloon.kind is DeviceKind.BALLOON and balloon.busid == "0.0.000a"
    assert isinstance(balloon.address, CcwAddress) and balloon.address.cssid == 0xFE  # cssid='0xFe'
    assert not any(d.warnings for d in guest.devices)


def test_guest_facts() -> None:
    guest = load("s390x-headless.xml")
    assert (guest.name, guest.uuid) == ("zlnx-headless", "3f6e2a90-5b1c-4d7e-9a42-1c8e0f5d2b71")
    assert guest.arch == "s390x"
    assert guest.machine == "s390-ccw-virtio"
    assert guest.vcpus == 4
    assert guest.memory_kib == 4194304
    assert guest.state is None  # no libvirt, no state
    assert [d.kind for d in guest.devices] == [DeviceKind.DISK, DeviceKind.NET_NETWORK, DeviceKind.CONSOLE,
                                               DeviceKind.CHANNEL, DeviceKind.BALLOON, DeviceKind.RNG]
    disk = guest.devices[0]
    assert (disk.target, disk.bus, disk.source, disk.detail("format")) == (
        "vda", "virtio", "/var/lib/libvirt/images/zlnx-headless.qcow2", "qcow2")
    assert disk.busid == "0.0.0000"
    console = guest.devices[2]
    assert console.bus == "sclp"


def test_memory_in_other_units() -> None:
    assert load("damaged-values.xml").memory_kib == 1024 * 1024  # <memory unit='MiB'>1024</memory>


def test_dasd_fcp_luns_and_ccw_controllers() -> None:
    guest = load("dasd-fcp-controllers.xml")
    by_target = {d.target: d for d in guest.devices}
    assert by_target["vda"].source == "/dev/disk/by-path/ccw-0.0.5c3f" and by_target["vda"].detail("boot") == "1"
    assert by_target["vdb"].source == "/dev/dasdb"
    luns = [d for d in guest.devices if d.kind is DeviceKind.LUN]
    assert [d.target for d in luns] == ["vdc", "sda", "sdb"]
    assert by_target["vdc"].busid == "0.0.0002"  # a virtio-blk LUN sits on ccw
    assert [d.address for d in luns[1:]] == [DriveAddress(0, 0, 0, 0), DriveAddress(0, 0, 1, 1)]
    assert [d.address_text for d in luns[1:]] == ["0:0:0:0", "0:0:1:1"]
    assert "fc-0x500507680b2155e4-lun-0x4001400000000000" in by_target["sdb"].source
    scsi, serial = (d for d in guest.devices if d.kind is DeviceKind.CONTROLLER)
    assert (scsi.target, scsi.model, scsi.busid) == ("scsi0", "virtio-scsi", "0.0.0003")
    assert (scsi.detail("iothread"), scsi.detail("queues")) == ("2", "4")
    assert (serial.target, serial.busid) == ("virtio-serial0", "0.0.0004")
    assert not any(d.migration_blocker for d in guest.devices)


def test_vfio_ccw_mdev_blocks_migration() -> None:
    (dev, balloon) = load("hostdev-vfio-ccw.xml").devices
    assert dev.kind is DeviceKind.MDEV_VFIO_CCW
    assert dev.source == "6f2c9d41-8b3a-4e7f-a015-c4d8e2b9f760"
    assert dev.address is None  # libvirt assigns a ccw address
    assert dev.passthrough and dev.migration_blocker
    assert "vfio-ccw" in dev.blocker_reason
    assert balloon.kind is DeviceKind.BALLOON and not balloon.passthrough


def test_vfio_ccw_boot_device_keeps_its_ccw_address_and_boot_order() -> None:
    dev = load("hostdev-vfio-ccw-boot.xml").devices[0]
    assert dev.kind is DeviceKind.MDEV_VFIO_CCW and dev.busid == "0.0.0009"
    assert dev.detail("boot") == "1"
    assert not dev.warnings


def test_vfio_ap_mdev_blocks_migration_and_says_how_it_moves() -> None:
    dev = load("hostdev-vfio-ap.xml").devices[0]
    assert dev.kind is DeviceKind.MDEV_VFIO_AP
    assert dev.source == "2b8d4f61-0e7c-4a39-95d2-c1f6a3e8b047"
    assert dev.migration_blocker and "same APQNs" in dev.blocker_reason


def test_vfio_ccw_with_pci_address_warns() -> None:
    (dev,) = load("hostdev-vfio-ccw-pci-address.xml").devices
    assert dev.kind is DeviceKind.MDEV_VFIO_CCW
    assert any("only ccw" in w for w in dev.warnings)


def test_zpci_hostdev() -> None:
    guest = load("hostdev-zpci.xml")
    dev = guest.devices[2]
    assert dev.kind is DeviceKind.HOSTDEV_PCI
    assert dev.address_type is AddressType.ZPCI
    assert isinstance(dev.address, PciAddress) and dev.address.zpci is not None
    assert (dev.address.zpci.uid, dev.address.zpci.fid) == (0x0A01, 0x10)
    assert dev.source == "0001:00:00.0"
    assert (dev.detail("managed"), dev.model) == ("no", "vfio")
    assert dev.migration_blocker
    assert [d.busid for d in guest.devices if d.busid] == ["0.0.0000", "0.0.0001"]  # ccw devices beside it


def test_zpci_boundaries_and_invalid_uid() -> None:
    devs = load("hostdev-zpci-boundaries.xml").devices
    first, second = devs[1].address, devs[2].address
    assert isinstance(first, PciAddress) and isinstance(second, PciAddress)
    assert first.zpci == Zpci(uid=0xFFFF, fid=0xFFFFFFFF)
    assert second.zpci == Zpci(uid=0x0001, fid=0)
    assert devs[1].source == "ffff:00:00.0"
    assert not devs[1].warnings and not devs[2].warnings
    bad = load("hostdev-zpci-invalid-uid.xml").devices[1]
    assert [w for w in bad.warnings if "uid" in w] == ["zPCI uid 0x0000 is outside 0x0001..0xffff"]


def test_zpci_partial_and_missing_addresses() -> None:
    devs = [d for d in load("hostdev-zpci-partial.xml").devices if d.kind is DeviceKind.HOSTDEV_PCI]
    assert [d.source for d in devs] == ["0003:00:00.0", "0004:00:00.0", "0005:00:00.0", "0006:00:00.0"]
    uid_only, fid_only, empty, none = (d.address for d in devs)
    assert isinstance(uid_only, PciAddress) and uid_only.zpci == Zpci(uid=0x31, fid=None)
    assert isinstance(fid_only, PciAddress) and fid_only.zpci == Zpci(uid=None, fid=0x41)
    assert empty is None and none is None  # libvirt generates both
    assert not any(d.warnings for d in devs)


def test_virtio_disk_on_zpci() -> None:
    disk = load("disk-virtio-zpci.xml").devices[0]
    assert disk.kind is DeviceKind.DISK and not disk.passthrough
    assert isinstance(disk.address, PciAddress) and disk.address.zpci == Zpci(uid=0x19, fid=0x1F)
    assert disk.busid == ""  # not a ccw device


def test_x86_pci_hostdevs_mdev_and_usb() -> None:
    managed, unmanaged, mdev, usb = load("hostdev-pci-x86.xml").devices
    assert (managed.kind, managed.source, managed.detail("managed")) == (DeviceKind.HOSTDEV_PCI, "0000:65:00.0", "yes")
    assert managed.address == PciAddress(0, 5, 0, 0, None)
    assert (unmanaged.source, unmanaged.detail("managed"), unmanaged.address) == ("0000:65:00.1", "no", None)
    assert managed.migration_blocker and unmanaged.migration_blocker
    assert (mdev.kind, mdev.model, mdev.source) == (DeviceKind.MDEV_OTHER, "vfio-pci",
                                                    "d3e7a1c9-5f28-4b06-8c4e-a9b2f0d6e713")
    assert mdev.migration_blocker and mdev.detail("display") == "off"
    assert usb.kind is DeviceKind.HOSTDEV_USB and usb.passthrough and not usb.migration_blocker
    assert usb.source == "0x0529:0x0001"


def test_teaming_transient_hostdev_does_not_block() -> None:
    devs = load("net-teaming.xml").devices
    backup0, vf_nic, backup1, vf_hostdev, plain = devs
    assert (backup0.detail("teaming"), backup0.alias) == ("persistent", "ua-backup0")
    assert vf_nic.kind is DeviceKind.NET_HOSTDEV and vf_nic.detail("teaming") == "transient"
    assert vf_hostdev.kind is DeviceKind.HOSTDEV_PCI and vf_hostdev.detail("teaming") == "transient"
    assert all(d.passthrough and not d.migration_blocker for d in (vf_nic, vf_hostdev))
    assert plain.passthrough and plain.migration_blocker  # the same kind of device without teaming blocks
    assert not backup1.passthrough


def test_interface_hostdev_blocks() -> None:
    (nic,) = load("net-hostdev-vf.xml").devices
    assert nic.kind is DeviceKind.NET_HOSTDEV
    assert nic.passthrough and nic.migration_blocker
    assert nic.source == "0000:3b:02.3"
    assert nic.target == "52:54:00:6d:90:01"
    assert (nic.detail("vlan"), nic.detail("driver")) == ("42", "vfio")


def test_scsi_and_scsi_host_hostdevs_block_usb_does_not() -> None:
    devs = load("hostdev-scsi-ccw.xml").devices
    scsi = next(d for d in devs if d.kind is DeviceKind.HOSTDEV_SCSI)
    assert scsi.migration_blocker and scsi.source == "scsi_host2:0:1:3"
    assert scsi.detail("readonly") == "yes" and scsi.address_text == "0:0:0:0"
    vhost = next(d for d in devs if d.kind is DeviceKind.HOSTDEV_SCSI_HOST)
    assert vhost.migration_blocker and vhost.source == "naa.5001405c3a7ef621" and vhost.busid == "0.0.0001"
    usb = parse_device_xml("<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/>"
                           "<product id='0xbeef'/></source></hostdev>")
    assert usb.kind is DeviceKind.HOSTDEV_USB and usb.passthrough and not usb.migration_blocker
    assert usb.source == "0x1234:0xbeef"


def test_interfaces_by_type() -> None:
    nets = load("net-ccw.xml").devices[:-1]
    assert [(d.kind, d.source) for d in nets] == [
        (DeviceKind.NET_USER, ""),
        (DeviceKind.NET_NETWORK, "zvlan"),
        (DeviceKind.NET_BRIDGE, "br0"),
        (DeviceKind.NET_OVS, "ovsbr0"),
        (DeviceKind.NET_DIRECT, "encbd00"),
        (DeviceKind.NET_DIRECT, "encbd00.300"),
        (DeviceKind.NET_NETWORK, "macvtap-net"),
    ]
    assert [d.busid for d in nets] == [f"0.0.000{i}" for i in range(7)]
    ovs = nets[3]
    assert (ovs.detail("virtualport"), ovs.detail("vlan")) == ("openvswitch", "100,200")
    assert [d.detail("mode") for d in nets[4:6]] == ["bridge", "vepa"]
    assert nets[1].detail("portgroup") == "prod"
    assert nets[6].detail("boot") == "2"
    (vdpa,) = load("net-vdpa.xml").devices
    assert vdpa.kind is DeviceKind.NET_VDPA and vdpa.source == "/dev/vhost-vdpa-1"
    direct = parse_device_xml("<interface type='direct'><mac address='52:54:00:00:00:01'/>"
                              "<source dev='encbd00' mode='passthrough'/><model type='virtio'/></interface>")
    assert direct.kind is DeviceKind.NET_DIRECT and direct.detail("mode") == "passthrough"


def test_disks_of_every_source_type() -> None:
    nvme = load("disk-nvme.xml").devices
    assert [d.source for d in nvme] == ["nvme 0000:02:00.0 ns 1", "nvme 0000:03:00.0 ns 2"]
    net = load("disk-network.xml").devices
    assert [d.source for d in net[:4]] == [
        "iscsi://san.example.org:3260/iqn.2024-03.org.example:storage/1",
        "rbd://ceph-mon.example.org:6789/pool/zimage",
        "iscsi://san.example.org:3260/iqn.2024-03.org.example:storage/2",
        "images/data.qcow2",
    ]
    lun = net[2]
    assert lun.kind is DeviceKind.LUN and lun.bus == "scsi"
    cdrom = net[4]
    assert cdrom.kind is DeviceKind.CDROM and cdrom.address_text == "0:0:0:1"


def test_virtio_devices_of_the_hypervisor() -> None:
    devs = load("s390x-virtio-devices.xml").devices
    kinds = {d.kind for d in devs}
    assert {DeviceKind.VSOCK, DeviceKind.VIDEO, DeviceKind.RNG, DeviceKind.WATCHDOG, DeviceKind.FILESYSTEM,
            DeviceKind.INPUT, DeviceKind.PANIC, DeviceKind.BALLOON, DeviceKind.GRAPHICS,
            DeviceKind.CONSOLE} == kinds
    vsock = next(d for d in devs if d.kind is DeviceKind.VSOCK)
    assert vsock.target == "cid 4" and vsock.busid == "0.0.0003"
    fs = next(d for d in devs if d.kind is DeviceKind.FILESYSTEM)
    assert (fs.target, fs.source) == ("export", "/srv/export")
    rng = next(d for d in devs if d.kind is DeviceKind.RNG)
    assert rng.source == "/dev/hwrng"


def test_damaged_values_become_warnings_and_unknown_elements_other() -> None:
    vda, vdb, nic, frob_hostdev, frobnicator, balloon = load("damaged-values.xml").devices
    assert vda.warnings == ("ssid='9' is outside 0x0..0x3", "devno='0x10000' is outside 0x0..0xffff")
    assert vdb.warnings == ("cssid='zz' is not a number",)
    assert nic.kind is DeviceKind.NET_NETWORK and not nic.warnings  # devno='  ' is as good as absent
    assert frob_hostdev.kind is DeviceKind.HOSTDEV_OTHER and frob_hostdev.warnings == ("unknown hostdev type 'frob'",)
    assert frobnicator.kind is DeviceKind.OTHER and frobnicator.model == "frobnicator"
    assert "speed='9'" in frobnicator.xml and "<gear" in frobnicator.xml
    assert balloon.busid == "0.0.0002" and not balloon.warnings


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
    text = domain_fixture("s390x-headless.xml").read_text()
    guest = parse_domain(text, state=GuestState.PAUSED, persistent=True)
    assert guest.state is GuestState.PAUSED and guest.persistent is True
    assert GuestState.from_libvirt(5) is GuestState.SHUTOFF
    assert GuestState.from_libvirt(99) is GuestState.UNKNOWN
    assert str(GuestState.SHUTOFF) == "shut off"


@pytest.mark.parametrize("text", ["", "<domain>", "not xml", "<node/>", b"\xff\xfe<"])
def test_not_a_domain_raises_xmlerror(text: str) -> None:
    with pytest.raises(XmlError):
        parse_domain(text)
