"""libvirt node-device XML → HostDevice: every upstream fixture, the test driver's devices, and fuzzing."""

from __future__ import annotations

import collections
import contextlib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES, NODEDEV_FIXTURES
from tests.xml_mutation import mutated_xml, odd_values
from ztui.libvirtxml.common import XmlError
from ztui.libvirtxml.nodedev import (
    _INTERNAL_ERROR,
    parse_nodedev,
    parse_nodedev_text,
    parse_nodedevs,
    split_concatenated_devices,
)
from ztui.model import HostDevice, HostDeviceKind, MdevType

MDEVCTL_MULTIPLE = FIXTURES / "libvirt" / "mdevctl" / "mdevctl-list-multiple.out.xml"
K = HostDeviceKind

# file stem → (kind, id), read from the fixture files by hand.
EXPECTED: dict[str, tuple[HostDeviceKind, str]] = {
    "ap_07_0038": (K.AP_QUEUE, "0x07.0x0038"),
    "ap_card07": (K.AP_CARD, "0x07"),
    "ap_matrix": (K.AP_MATRIX, "ap_matrix"),
    "ap_matrix_mdev_types": (K.AP_MATRIX, "ap_matrix"),
    "ccw_0_0_10000-invalid": (K.CCW, "0.0.10000"),
    "ccw_0_0_ff02_ccwgroup": (K.CCW, "0.0.ff02"),
    "ccw_0_0_ffff": (K.CCW, "0.0.ffff"),
    "ccwgroup_0_0_bd00": (K.CCWGROUP, "0.0.bd00"),
    "computer": (K.SYSTEM, "computer"),
    "css_0_0_10000-invalid": (K.CSS, "0.0.10000"),
    "css_0_0_fffe_mdev_types": (K.CSS, "0.0.fffe"),
    "css_0_0_fffe_mdev_types_channel_dev_addr": (K.CSS, "0.0.fffe"),
    "css_0_0_ffff": (K.CSS, "0.0.ffff"),
    "css_0_0_ffff_channel_dev_addr-invalid": (K.CSS, "0.0.ffff"),
    "css_0_0_ffff_channel_dev_addr": (K.CSS, "0.0.ffff"),
    "drm_renderD129": (K.DRM, "drm_renderD129"),
    "mdev_3627463d_b7f0_4fea_b468_f1da537d301b": (K.MDEV, "3627463d-b7f0-4fea-b468-f1da537d301b"),
    "mdev_autostart": (K.MDEV, "9c4954d2-fa39-4973-9d66-d61c6c4d0100"),
    "mdev_c60cc60c_c60c_c60c_c60c_c60cc60cc60c": (K.MDEV, "c60cc60c-c60c-c60c-c60c-c60cc60cc60c"),
    "mdev_cc000052_9b13_9b13_9b13_cc23009b1326": (K.MDEV, "cc000052-9b13-9b13-9b13-cc23009b1326"),
    "mdev_d069d019_36ea_4111_8f0a_8c9a70e21366": (K.MDEV, "d069d019-36ea-4111-8f0a-8c9a70e21366"),
    "mdev_d2441d39_495e_4243_ad9f_beb3f14c23d9": (K.MDEV, "d2441d39-495e-4243-ad9f-beb3f14c23d9"),
    "mdev_ee0b88c4_f554_4dc1_809d_b2a01e8e48ad": (K.MDEV, "ee0b88c4-f554-4dc1-809d-b2a01e8e48ad"),
    "mdev_fedc4916_1ca8_49ac_b176_871d16c13076": (K.MDEV, "fedc4916-1ca8-49ac-b176-871d16c13076"),
    "mdev_manual": (K.MDEV, "9c4954d2-fa39-4973-9d66-d61c6c4d0100"),
    "net_00_13_02_b9_f9_d3": (K.NET, "eth0"),
    "pci_0000_00_02_0_header_type": (K.PCI, "0000:00:02.0"),
    "pci_0000_02_10_7_mdev_types": (K.PCI, "0000:02:10.7"),
    "pci_0000_02_10_7_sriov_vfs": (K.PCI, "0000:02:10.7"),
    "pci_8086_10c9_sriov_pf": (K.PCI, "0000:02:00.0"),
    "pci_8086_27c5_scsi_host": (K.SCSI_HOST, "host0"),
    "pci_8086_27c5_scsi_host_0": (K.SCSI_HOST, "host1"),
    "pci_8086_27c5_scsi_host_0_unique_id": (K.SCSI_HOST, "host1"),
    "pci_8086_27c5_scsi_host_scsi_device_lun0": (K.SCSI, "0:0:0:0"),
    "pci_8086_27c5_scsi_host_scsi_host": (K.SCSI_HOST, "host0"),
    "scsi_target0_0_0": (K.SCSI_TARGET, "target0:0:0"),
    "scsi_target1_0_0": (K.SCSI_TARGET, "target1:0:0"),
    "storage_serial_3600c0ff000d7a2a5d463ff4902000000": (K.STORAGE, "/dev/sdj"),
    "storage_serial_SATA_HTS721010G9SA00_MPCZ12Y0GNGWSE": (K.STORAGE, "/dev/sda"),
}


def fixture(stem: str) -> HostDevice:
    return parse_nodedev((FIXTURES / "libvirt" / "nodedev" / f"{stem}.xml").read_text())


def facts(dev: HostDevice) -> dict[str, str]:
    return {f.key: f.value for f in dev.facts}


# ----------------------------------------------------------------------------------------- every fixture


@pytest.mark.parametrize("path", NODEDEV_FIXTURES, ids=lambda p: p.stem)
def test_every_fixture_parses_to_a_record(path: Path) -> None:
    text = path.read_text()
    dev = parse_nodedev(text)
    root = ET.fromstring(text)
    assert dev.name == root.findtext("name")
    assert dev.id
    assert dev.xml == text.strip()
    assert dev.kind is not K.OTHER, dev.warnings
    assert all(f.source == "libvirt" for f in dev.facts)
    assert not any(_INTERNAL_ERROR in w for w in dev.warnings)
    if "-invalid" in path.stem:
        assert dev.warnings, "an invalid fixture must leave a warning"
    else:
        assert dev.warnings == () or path.stem == "pci_0000_00_02_0_header_type"


@pytest.mark.parametrize("path", NODEDEV_FIXTURES, ids=lambda p: p.stem)
def test_every_fixture_has_its_expected_kind_and_id(path: Path) -> None:
    if path.stem not in EXPECTED:
        pytest.fail(f"new fixture {path.name}: add its kind and id to EXPECTED")
    kind, dev_id = EXPECTED[path.stem]
    dev = parse_nodedev(path.read_text())
    assert (dev.kind, dev.id) == (kind, dev_id)


# -------------------------------------------------------------------------------------- IBM Z devices


def test_css_offers_the_vfio_ccw_mdev_type() -> None:
    dev = fixture("css_0_0_fffe_mdev_types")
    assert dev.parent == "computer"
    assert dev.sysfs_path == "/sys/devices/css0/0.0.fffe"
    assert dev.mdev_types == (MdevType("vfio_ccw-io", "I/O subchannel (Non-QDIO)", "vfio-ccw", 1),)


def test_css_names_the_ccw_device_on_it() -> None:
    dev = fixture("css_0_0_fffe_mdev_types_channel_dev_addr")
    assert dev.fact("channel_dev_addr") == "0.0.0815"
    assert [t.id for t in dev.mdev_types] == ["vfio_ccw-io"]


@pytest.mark.parametrize(
    "stem", ["ccw_0_0_10000-invalid", "css_0_0_10000-invalid", "css_0_0_ffff_channel_dev_addr-invalid"]
)
def test_invalid_devno_warns_and_keeps_the_rest(stem: str) -> None:
    dev = fixture(stem)
    assert any("0x10000" in w and "out of range" in w for w in dev.warnings)
    assert dev.parent
    assert dev.sysfs_path


def test_invalid_channel_dev_addr_is_kept_as_read() -> None:
    assert fixture("css_0_0_ffff_channel_dev_addr-invalid").fact("channel_dev_addr") == "0.0.10000"


def test_ccwgroup_member_names_its_group() -> None:
    dev = fixture("ccw_0_0_ff02_ccwgroup")
    assert (dev.fact("group_device"), dev.fact("group_busid")) == ("ccwgroup_0_0_ff00", "0.0.ff00")


def test_qeth_ccwgroup_card_type_chpid_and_members() -> None:
    dev = fixture("ccwgroup_0_0_bd00")
    assert dev.sysfs_path == "/sys/devices/qeth/0.0.bd00"
    f = facts(dev)
    assert f["card_type"] == "OSD_10GIG"
    assert f["chpid"] == "BD"
    assert f["state"] == "online"
    assert f["ccwgroup_type"] == "qeth_generic"
    assert f["members"] == "ccw_0_0_bd00,ccw_0_0_bd01,ccw_0_0_bd02"
    assert f["member_busids"] == "0.0.bd00,0.0.bd01,0.0.bd02"


def test_ap_card_and_queue() -> None:
    card, queue = fixture("ap_card07"), fixture("ap_07_0038")
    assert card.fact("ap_adapter") == "0x07"
    assert queue.parent == "ap_card07"
    assert (queue.fact("ap_adapter"), queue.fact("ap_domain")) == ("0x07", "0x0038")


def test_ap_matrix_offers_vfio_ap() -> None:
    assert fixture("ap_matrix").mdev_types == ()
    (mtype,) = fixture("ap_matrix_mdev_types").mdev_types
    assert mtype == MdevType("vfio_ap-passthrough", "VFIO AP Passthrough Device", "vfio-ap", 65536)


def test_vfio_ccw_mdev() -> None:
    dev = fixture("mdev_c60cc60c_c60c_c60c_c60c_c60cc60cc60c")
    assert dev.driver == "vfio_ccw_mdev"
    assert dev.iommu_group == 4
    assert dev.parent == "css_0_0_0052"
    assert dev.fact("mdev_type") == "vfio_ccw-io"
    assert dev.fact("parent_addr") == "0.0.0052"


def test_mdev_uuid_from_the_name_when_no_uuid_element() -> None:
    dev = fixture("mdev_ee0b88c4_f554_4dc1_809d_b2a01e8e48ad")
    assert dev.iommu_group == 0
    assert dev.fact("mdev_type") == "vfio_ap-passthrough"
    assert dev.fact("uuid") == dev.id


def test_mdev_attrs_and_start() -> None:
    dev = fixture("mdev_autostart")
    assert dev.fact("attr.example-attribute") == "attribute-value"
    assert dev.fact("start") == "auto"
    assert fixture("mdev_manual").fact("start") == "manual"
    two = fixture("mdev_d2441d39_495e_4243_ad9f_beb3f14c23d9")
    assert two.fact("attr.example-attribute-2") == "attribute-value-2"


def test_scsi_target_behind_an_fc_remote_port() -> None:
    dev = fixture("scsi_target1_0_0")
    assert (dev.fact("rport"), dev.fact("wwpn")) == ("rport-1:0-0", "0x9d73bc45f0e21a86")


# ----------------------------------------------------------------------------------------- the others


def test_pci_with_iommu_group_ids_link_and_mdev_types() -> None:
    dev = fixture("pci_0000_02_10_7_mdev_types")
    assert dev.iommu_group == 31
    f = facts(dev)
    assert (f["vendor_id"], f["product_id"]) == ("0x8086", "0x10ca")
    assert f["vendor"] == "Intel Corporation"
    assert f["link_cap"] == "2.5 GT/s x4"
    assert f["link_sta"] == "x0"
    assert f["numa_node"] == "0"
    assert [(t.id, t.available) for t in dev.mdev_types] == [("foo1", 1), ("foo2", 2)]


def test_pci_sriov_relations_and_group_members() -> None:
    vfs = fixture("pci_0000_02_10_7_sriov_vfs").fact("virt_functions")
    assert vfs == "0000:02:00.2,0000:02:00.3,0000:02:00.4,0000:02:00.5"
    pf = fixture("pci_8086_10c9_sriov_pf")
    assert pf.iommu_group == 12
    assert pf.fact("iommu_group_members") == "0000:02:00.0,0000:02:00.1"


def test_pci_garbage_bus_falls_back_to_the_name_with_a_warning() -> None:
    dev = fixture("pci_0000_00_02_0_header_type")
    assert dev.id == "0000:00:02.0"
    assert any("4294967295" in w for w in dev.warnings)
    assert dev.iommu_group == 1


def test_pci_zpci_when_present() -> None:
    xml = """<device><name>pci_0001_00_00_0</name><capability type='pci'>
      <domain>1</domain><bus>0</bus><slot>0</slot><function>0</function>
      <product id='0x1016'/><vendor id='0x15b3'/><zpci uid='0x1f' fid='16'/></capability></device>"""
    dev = parse_nodedev(xml)
    assert (dev.id, dev.fact("uid"), dev.fact("fid")) == ("0001:00:00.0", "0x001f", "0x00000010")


def test_net_storage_scsi_drm_and_system() -> None:
    net = fixture("net_00_13_02_b9_f9_d3")
    assert (net.fact("address"), net.fact("net_type")) == ("00:13:02:b9:f9:d3", "80211")
    disk = fixture("storage_serial_3600c0ff000d7a2a5d463ff4902000000")
    assert disk.devnodes == ("/dev/sdj",)
    assert (disk.fact("serial"), disk.fact("model"), disk.fact("vendor")) == (
        "3600c0ff000d7a2a5d463ff4902000000", "MSA2012fc", "HP")
    assert fixture("pci_8086_27c5_scsi_host_scsi_device_lun0").fact("scsi_type") == "disk"
    assert fixture("pci_8086_27c5_scsi_host_0_unique_id").fact("unique_id") == "2"
    drm = fixture("drm_renderD129")
    assert drm.devnodes == ("/dev/dri/renderD129", "/dev/dri/by-path/pci-0000:00:02.0-render")
    assert fixture("computer").fact("uuid") == "12345678-1234-1234-9596-a088b277d677"


def test_fc_host_wwpn_and_vport_ops() -> None:
    xml = """<device><name>scsi_host4</name><capability type='scsi_host'><host>4</host>
      <capability type='fc_host'><wwnn>20000000c9848141</wwnn><wwpn>10000000c9848141</wwpn></capability>
      <capability type='vport_ops'><max_vports>127</max_vports><vports>0</vports></capability>
      </capability></device>"""
    f = facts(parse_nodedev(xml))
    assert (f["wwnn"], f["wwpn"], f["max_vports"]) == ("0x20000000c9848141", "0x10000000c9848141", "127")


def test_vdpa_and_vpd() -> None:
    vdpa = parse_nodedev("<device><name>vdpa_vdpa0</name><capability type='vdpa'>"
                         "<chardev>/dev/vhost-vdpa-0</chardev></capability></device>")
    assert (vdpa.kind, vdpa.id, vdpa.devnodes) == (K.VDPA, "vdpa_vdpa0", ("/dev/vhost-vdpa-0",))
    pci = parse_nodedev("""<device><name>pci_0000_82_00_0</name><capability type='pci'>
      <domain>0</domain><bus>130</bus><slot>0</slot><function>0</function><product id='0xa2d6'/>
      <vendor id='0x15b3'/><capability type='vpd'><name>BlueField-2</name>
      <fields access='readonly'><serial_number>MT2113X00000</serial_number>
      <vendor_field index='0'>PCIeGen4 x8</vendor_field></fields></capability></capability></device>""")
    assert pci.id == "0000:82:00.0"
    f = facts(pci)
    assert (f["vpd_name"], f["vpd_serial_number"], f["vpd_vendor_field_0"]) == (
        "BlueField-2", "MT2113X00000", "PCIeGen4 x8")


def test_unknown_capability_is_other_with_its_xml() -> None:
    xml = "<device><name>thing_1</name><capability type='quantum'><qubits>7</qubits></capability></device>"
    dev = parse_nodedev(xml)
    assert (dev.kind, dev.id, dev.xml) == (K.OTHER, "thing_1", xml)
    assert dev.fact("capability") == "quantum"
    assert dev.warnings


@pytest.mark.parametrize("text", ["", "<device>", "not xml", "<device><name>a</name></device><device/>"])
def test_not_well_formed_raises_xml_error(text: str) -> None:
    with pytest.raises(XmlError):
        parse_nodedev(text)


def test_parse_nodedevs_keeps_order() -> None:
    texts = [p.read_text() for p in NODEDEV_FIXTURES[:3]]
    assert [d.xml for d in parse_nodedevs(texts)] == [t.strip() for t in texts]


# --------------------------------------------------------------------------------- concatenated files


def test_mdevctl_concatenated_devices_split_into_five() -> None:
    text = MDEVCTL_MULTIPLE.read_text()
    assert len(split_concatenated_devices(text)) == 5
    devs = parse_nodedev_text(text)
    assert [d.kind for d in devs] == [K.MDEV] * 5
    assert [d.id for d in devs] == [
        "200f228a-c80a-4d50-bfb7-f5a0e4e34045",
        "de807ffc-1923-4d5f-b6c9-b20ecebc6d4b",
        "435722ea-5f43-468a-874f-da34f1217f13",
        "783e6dbb-ea0e-411f-94e2-717eaad438bf",
        "cc000052-9b13-9b13-9b13-cc23009b1326",
    ]
    ap = devs[3]
    assert ap.parent == "ap_matrix"
    assert (ap.fact("attr.assign_adapter"), ap.fact("attr.assign_domain")) == ("5,6", "0xab,4")
    assert devs[4].fact("parent_addr") == "0.0.0052"


def test_split_handles_declarations_and_a_node_wrapper() -> None:
    text = "<?xml version='1.0'?>\n<device><name>a</name></device>\n<node><device><name>b</name></device></node>"
    assert [parse_nodedev(x).name for x in split_concatenated_devices(text)] == ["a", "b"]
    with pytest.raises(XmlError):
        split_concatenated_devices("<device><name>a</name>")


# ------------------------------------------------------------------------------------------ test driver


def test_all_node_devices_of_the_test_driver(testdriver_uri: str) -> None:
    libvirt = pytest.importorskip("libvirt", reason="libvirt-python is not installed")
    conn = libvirt.open(testdriver_uri)
    try:
        devs = [parse_nodedev(d.XMLDesc(0)) for d in conn.listAllDevices(0)]
    finally:
        conn.close()
    assert len(devs) == 92
    counts = collections.Counter(d.kind for d in devs)
    assert counts == {
        K.PCI: 36, K.USB_DEVICE: 13, K.USB_INTERFACE: 10, K.SCSI_HOST: 8, K.NET: 7, K.STORAGE: 7,
        K.MDEV: 5, K.SCSI: 2, K.CSS: 1, K.AP_MATRIX: 1, K.DRM: 1, K.SYSTEM: 1,
    }
    by_name = {d.name: d for d in devs}
    assert by_name["css_0_0_0023"].mdev_types[0].available == 0
    mdev = by_name["mdev_8e37ee90_2b51_45e3_9b25_bf8283c03110"]
    assert (mdev.id, mdev.parent) == ("8e37ee90-2b51-45e3-9b25-bf8283c03110", "css_0_0_0023")
    assert by_name["pci_10df_fe00_0_scsi_host"].fact("wwpn") == "0x10000000c9848141"
    assert not any(_INTERNAL_ERROR in w for d in devs for w in d.warnings)


# --------------------------------------------------------------------------------------------- fuzzing

TEXTS = [p.read_text() for p in NODEDEV_FIXTURES] + split_concatenated_devices(MDEVCTL_MULTIPLE.read_text())

MUTATED = mutated_xml(TEXTS, odd_values("0x10000", "4294967295", "mdev_types"),
                      ["type", "id", "number", "uid", "domain"],
                      ["capability", "devno", "iommuGroup", "zpci", "address", "type", "frob"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MUTATED)
def test_mutated_fixtures_never_raise(xml: str) -> None:
    try:
        dev = parse_nodedev(xml)
    except XmlError:
        return  # ElementTree writes control characters from the random text unescaped
    assert isinstance(dev.kind, HostDeviceKind)
    assert not any(_INTERNAL_ERROR in w for w in dev.warnings), dev.warnings


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_xml_error(text: str) -> None:
    with contextlib.suppress(XmlError):
        parse_nodedev(text)
