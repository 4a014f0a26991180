"""libvirt node-device XML → HostDevice: every fixture, the test driver's devices, mdevctl output, fuzzing."""

from __future__ import annotations

import collections
import contextlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import MDEVCTL_FIXTURES, NODEDEV_FIXTURES, nodedev_fixture
from tests.xml_mutation import mutated_xml, odd_values
from ztui.facts import mdev_ap_matrix, mdev_control_domains
from ztui.libvirtxml.common import XmlError
from ztui.libvirtxml.nodedev import (
    _INTERNAL_ERROR,
    id_from_name,
    parse_nodedev,
    parse_nodedev_text,
    parse_nodedevs,
    split_concatenated_devices,
)
from ztui.model import HostDevice, HostDeviceKind, MdevType

MDEVCTL_XML = MDEVCTL_FIXTURES / "list-defined.xml"
MDEVCTL_JSON = MDEVCTL_FIXTURES / "list-defined.json"
K = HostDeviceKind

# file stem → (kind, id), read from the fixture files by hand.
EXPECTED: dict[str, tuple[HostDeviceKind, str]] = {
    "ap_05_002a": (K.AP_QUEUE, "05.002a"),
    "ap_card05": (K.AP_CARD, "card05"),
    "ap_matrix": (K.AP_MATRIX, "ap_matrix"),
    "ap_matrix_mdev_types": (K.AP_MATRIX, "ap_matrix"),
    "ccw_0_0_10000-invalid": (K.CCW, "0.0.10000"),
    "ccw_0_0_5c3f": (K.CCW, "0.0.5c3f"),
    "ccw_0_0_bd01_ccwgroup_member": (K.CCW, "0.0.bd01"),
    "ccwgroup_0_0_7000_hipersockets": (K.CCWGROUP, "0.0.7000"),
    "ccwgroup_0_0_bd00": (K.CCWGROUP, "0.0.bd00"),
    "computer": (K.SYSTEM, "computer"),
    "css_0_0_0010": (K.CSS, "0.0.0010"),
    "css_0_0_0011_channel_dev_addr-invalid": (K.CSS, "0.0.0011"),
    "css_0_0_0052_vfio_ccw": (K.CSS, "0.0.0052"),
    "css_0_0_10000-invalid": (K.CSS, "0.0.10000"),
    "css_0_1_fffe_mdev_types": (K.CSS, "0.1.fffe"),
    "drm_renderD128": (K.DRM, "drm_renderD128"),
    "mdev_2b8d4f61_0e7c_4a39_95d2_c1f6a3e8b047": (K.MDEV, "2b8d4f61-0e7c-4a39-95d2-c1f6a3e8b047"),
    "mdev_6f2c9d41_8b3a_4e7f_a015_c4d8e2b9f760_0_0_0052": (K.MDEV, "6f2c9d41-8b3a-4e7f-a015-c4d8e2b9f760"),
    "mdev_autostart": (K.MDEV, "5a7c3e91-2d04-4b68-8f1e-b6c0d9a2e457"),
    "mdev_manual": (K.MDEV, "e8b1f4c6-93a7-4d25-b0e8-4f7a2c1d9b63"),
    "net_encbd00": (K.NET, "encbd00"),
    "pci_0000_00_1f_0-invalid": (K.PCI, "0000:00:1f.0"),
    "pci_0000_3b_00_0_sriov_pf": (K.PCI, "0000:3b:00.0"),
    "pci_0000_3b_02_3_sriov_vf": (K.PCI, "0000:3b:02.3"),
    "pci_0000_65_00_0_mdev_types": (K.PCI, "0000:65:00.0"),
    "pci_0001_00_00_0_zpci": (K.PCI, "0001:00:00.0"),
    "scsi_0_0_1_1": (K.SCSI, "0:0:1:1"),
    "scsi_host0_zfcp": (K.SCSI_HOST, "host0"),
    "scsi_host1_unique_id": (K.SCSI_HOST, "host1"),
    "scsi_target0_0_1_fc": (K.SCSI_TARGET, "target0:0:1"),
    "storage_dasd": (K.STORAGE, "/dev/dasda"),
    "storage_fcp_lun": (K.STORAGE, "/dev/sdc"),
    "storage_usb_removable": (K.STORAGE, "/dev/sdd"),
    "usb_2_3": (K.USB_DEVICE, "usb_2_3"),
    "vdpa_vdpa1": (K.VDPA, "vdpa_vdpa1"),
}


def fixture(stem: str) -> HostDevice:
    return parse_nodedev(nodedev_fixture(stem).read_text())


def facts(dev: HostDevice) -> dict[str, str]:
    return {f.key: f.value for f in dev.facts}


# ----------------------------------------------------------------------------------------- every fixture


def test_every_fixture_is_listed() -> None:
    assert sorted(p.stem for p in NODEDEV_FIXTURES) == sorted(EXPECTED)


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
        assert dev.warnings == ()


def _libvirt_number(text: str | None) -> int:
    """A number as libvirt's parser reads it (`virStrToLong_uip(…, 0, …)`: `0x` hex, a leading 0 octal)."""
    t = (text or "").strip().lower()
    return int(t, 16) if t.startswith("0x") else int(t, 8) if len(t) > 1 and t.startswith("0") else int(t)


def _busid_of(elem: ET.Element) -> str:
    """`0.%x.%04x` of the `<cssid>`, `<ssid>` and `<devno>` libvirt writes as `0x%x`, `0x%x`, `0x%04x`."""
    cssid, ssid, devno = (_libvirt_number(elem.findtext(tag)) for tag in ("cssid", "ssid", "devno"))
    return f"{cssid:x}.{ssid:x}.{devno:04x}"


def z_nodedev_invariants(text: str) -> None:
    """What a Z node device says in libvirt's notation (node_device_conf.c) and what ztui makes of it in the
    kernel's: a subchannel, ccw device or ccwgroup is the bus-ID its elements and its name spell (`0.%x.%04x`,
    the kernel's directory name at its `<path>`), and so is the device a subchannel carries; an AP card is
    `card%02x` and a queue `%02x.%04x` (never `0x07.0x0038`), as its `<path>` names it; the mdev types a
    subchannel or the AP matrix offer have their device API; an mdev is its UUID, and a vfio-ap mdev's
    `assign_*` attributes are the matrix the kernel builds from them (read like `kstrtoul(…, 0)`)."""
    root = ET.fromstring(text)
    dev = parse_nodedev(text)
    cap = root.find("capability")
    assert cap is not None
    path = root.findtext("path") or ""
    kind = cap.get("type")
    if kind in ("css", "ccw", "ccwgroup"):
        assert dev.id == _busid_of(cap) == id_from_name(dev.name)
        assert not path or path.rsplit("/", 1)[-1] == dev.id
        channel = cap.find("channel_dev_addr")
        if channel is not None:
            assert dev.fact("channel_dev_addr") == _busid_of(channel)
        for offer in dev.mdev_types:
            assert (offer.id, offer.device_api) == ("vfio_ccw-io", "vfio-ccw") and (offer.available or 0) >= 0
    elif kind in ("ap_card", "ap_queue"):
        adapter = _libvirt_number(cap.findtext("ap-adapter"))
        expected = f"card{adapter:02x}" if kind == "ap_card" else \
            f"{adapter:02x}.{_libvirt_number(cap.findtext('ap-domain')):04x}"
        assert dev.id == expected and "0x" not in dev.id
        assert not path or path.rsplit("/", 1)[-1] == expected
        if kind == "ap_queue" and path:
            assert path.rsplit("/", 2)[-2] == f"card{adapter:02x}"
    elif kind == "ap_matrix":
        for offer in dev.mdev_types:
            assert (offer.id, offer.device_api) == ("vfio_ap-passthrough", "vfio-ap")
    elif kind == "mdev":
        assert dev.id == dev.id.lower() and len(dev.id) == 36 and dev.id in (root.findtext("capability/uuid") or
                                                                            dev.name.replace("_", "-"))
        assert dev.fact("mdev_type") == (cap.find("type").get("id") if cap.find("type") is not None else "")
        values = {name: [_libvirt_number(a.get("value")) for a in cap.findall("attr") if a.get("name") == name]
                  for name in ("assign_adapter", "assign_domain", "assign_control_domain")}
        if values["assign_adapter"] or values["assign_domain"]:
            matrix = mdev_ap_matrix(dev)
            assert (matrix.adapters, matrix.domains) == (set(values["assign_adapter"]), set(values["assign_domain"]))
            assert matrix.queues == {(a, d) for a in values["assign_adapter"] for d in values["assign_domain"]}
            assert mdev_control_domains(dev) == set(values["assign_control_domain"])


@pytest.mark.parametrize("path", [p for p in NODEDEV_FIXTURES if "-invalid" not in p.stem], ids=lambda p: p.stem)
def test_z_node_devices_in_the_kernels_notation(path: Path) -> None:
    z_nodedev_invariants(path.read_text())


@pytest.mark.parametrize("path", NODEDEV_FIXTURES, ids=lambda p: p.stem)
def test_every_fixture_has_its_expected_kind_and_id(path: Path) -> None:
    if path.stem not in EXPECTED:
        pytest.fail(f"new fixture {path.name}: add its kind and id to EXPECTED")
    kind, dev_id = EXPECTED[path.stem]
    dev = parse_nodedev(path.read_text())
    assert (dev.kind, dev.id) == (kind, dev_id)


# -------------------------------------------------------------------------------------- IBM Z devices


def test_css_offers_the_vfio_ccw_mdev_type() -> None:
    dev = fixture("css_0_1_fffe_mdev_types")
    assert (dev.parent, dev.driver) == ("computer", "vfio_ccw")
    assert dev.sysfs_path == "/sys/devices/css0/0.1.fffe"
    assert dev.mdev_types == (MdevType("vfio_ccw-io", "I/O subchannel (Non-QDIO)", "vfio-ccw", 1),)
    assert dev.fact("channel_dev_addr") == ""  # no device on it


def test_css_names_the_ccw_device_on_it() -> None:
    dev = fixture("css_0_0_0010")
    assert (dev.driver, dev.fact("channel_dev_addr")) == ("io_subchannel", "0.0.5c3f")
    assert dev.mdev_types == ()
    bound = fixture("css_0_0_0052_vfio_ccw")
    assert (bound.driver, bound.fact("channel_dev_addr")) == ("vfio_ccw", "0.0.5c41")
    assert [(t.id, t.available) for t in bound.mdev_types] == [("vfio_ccw-io", 0)]  # its one mdev exists


def test_dasd_ccw_device_and_its_block_device() -> None:
    ccw, block = fixture("ccw_0_0_5c3f"), fixture("storage_dasd")
    assert (ccw.parent, ccw.driver, ccw.sysfs_path) == ("css_0_0_0010", "dasd-eckd",
                                                        "/sys/devices/css0/0.0.0010/0.0.5c3f")
    assert block.parent == ccw.name and block.devnodes == ("/dev/dasda",)
    assert (block.fact("model"), block.fact("logical_block_size")) == ("3390/0c", "4096")


@pytest.mark.parametrize("stem", ["ccw_0_0_10000-invalid", "css_0_0_10000-invalid",
                                  "css_0_0_0011_channel_dev_addr-invalid"])
def test_invalid_devno_warns_and_keeps_the_rest(stem: str) -> None:
    dev = fixture(stem)
    assert any("0x10000" in w and "out of range" in w for w in dev.warnings)
    assert dev.parent
    assert dev.sysfs_path


def test_invalid_channel_dev_addr_is_kept_as_read() -> None:
    assert fixture("css_0_0_0011_channel_dev_addr-invalid").fact("channel_dev_addr") == "0.0.10000"


def test_ccwgroup_member_names_its_group() -> None:
    dev = fixture("ccw_0_0_bd01_ccwgroup_member")
    assert (dev.fact("group_device"), dev.fact("group_busid")) == ("ccwgroup_0_0_bd00", "0.0.bd00")


def test_qeth_ccwgroup_card_type_chpid_and_members_in_cdev_order() -> None:
    dev = fixture("ccwgroup_0_0_bd00")
    assert dev.sysfs_path == "/sys/devices/qeth/0.0.bd00"
    f = facts(dev)
    assert f["card_type"] == "OSD_25GIG"
    assert f["chpid"] == "3C"
    assert f["ccwgroup_state"] == "online" and "state" not in f  # libvirt's word, not qeth's `state`
    assert f["ccwgroup_type"] == "qeth_generic"
    assert f["members"] == "ccw_0_0_bd00,ccw_0_0_bd01,ccw_0_0_bd02"  # the file lists cdev2, cdev0, cdev1
    assert f["member_busids"] == "0.0.bd00,0.0.bd01,0.0.bd02"
    hsi = facts(fixture("ccwgroup_0_0_7000_hipersockets"))
    assert (hsi["card_type"], hsi["chpid"], hsi["ccwgroup_state"]) == ("HiperSockets", "F4", "offline")


def test_ap_card_and_queue() -> None:
    card, queue = fixture("ap_card05"), fixture("ap_05_002a")
    assert (card.fact("ap_adapter"), card.driver) == ("0x05", "cex4card")
    assert (queue.parent, queue.driver) == ("ap_card05", "vfio_ap")
    assert (queue.fact("ap_adapter"), queue.fact("ap_domain")) == ("0x05", "0x002a")


def test_ap_matrix_offers_vfio_ap() -> None:
    assert fixture("ap_matrix").mdev_types == ()
    (mtype,) = fixture("ap_matrix_mdev_types").mdev_types
    assert mtype == MdevType("vfio_ap-passthrough", "VFIO AP Passthrough Device", "vfio-ap", 65535)


def test_vfio_ccw_mdev() -> None:
    dev = fixture("mdev_6f2c9d41_8b3a_4e7f_a015_c4d8e2b9f760_0_0_0052")
    assert dev.driver == "vfio_ccw_mdev"
    assert dev.iommu_group == 7
    assert dev.parent == "css_0_0_0052"
    assert dev.fact("mdev_type") == "vfio_ccw-io"
    assert dev.fact("parent_addr") == "0.0.0052"


def test_mdev_uuid_from_the_name_when_no_uuid_element() -> None:
    dev = fixture("mdev_2b8d4f61_0e7c_4a39_95d2_c1f6a3e8b047")
    assert dev.iommu_group == 0
    assert dev.fact("mdev_type") == "vfio_ap-passthrough"
    assert dev.fact("uuid") == dev.id == "2b8d4f61-0e7c-4a39-95d2-c1f6a3e8b047"
    assert (dev.fact("attr.assign_adapter"), dev.fact("attr.assign_domain")) == ("0x05", "0x002a")


def test_mdev_attrs_and_start() -> None:
    dev = fixture("mdev_autostart")
    assert dev.fact("attr.note") == "boot disk"
    assert dev.fact("start") == "auto"
    manual = fixture("mdev_manual")
    assert manual.fact("start") == "manual"
    assert manual.fact("attr.assign_adapter") == "0x06,0x07"  # a repeated attribute, in document order


def test_zfcp_host_target_lun_and_block_device() -> None:
    host = facts(fixture("scsi_host0_zfcp"))
    assert (host["wwnn"], host["wwpn"], host["fabric_wwn"]) == (
        "0xc05076ffe5005611", "0xc05076ffe5005611", "0x100000053345e6a1")  # upper case in the file
    assert (host["vport_ops"], host["max_vports"]) == ("yes", "0")
    target = fixture("scsi_target0_0_1_fc")
    assert (target.fact("rport"), target.fact("wwpn")) == ("rport-0:0-1", "0x500507680b2155e4")
    lun = fixture("scsi_0_0_1_1")
    assert (lun.parent, lun.fact("scsi_type"), lun.fact("lun")) == ("scsi_target0_0_1", "disk", "1")
    disk = fixture("storage_fcp_lun")
    assert disk.devnodes == ("/dev/sdc",) and disk.parent == lun.name
    assert (disk.fact("serial"), disk.fact("model"), disk.fact("vendor")) == (
        "36005076307ffd1a00000000000004d21", "2145", "IBM")


# ----------------------------------------------------------------------------------------- the others


def test_pci_with_iommu_group_ids_link_and_mdev_types() -> None:
    dev = fixture("pci_0000_65_00_0_mdev_types")
    assert dev.iommu_group == 73
    f = facts(dev)
    assert (f["vendor_id"], f["product_id"]) == ("0x10de", "0x20b5")
    assert f["vendor"] == "NVIDIA Corporation"
    assert f["link_cap"] == "16 GT/s x16"
    assert f["link_sta"] == "2.5 GT/s x16"
    assert f["numa_node"] == "0"
    assert [(t.id, t.available) for t in dev.mdev_types] == [("nvidia-471", 20), ("nvidia-472", 10)]


def test_pci_sriov_relations_and_group_members() -> None:
    pf = fixture("pci_0000_3b_00_0_sriov_pf")
    assert pf.fact("virt_functions") == "0000:3b:02.3,0000:3b:02.4,0000:3b:02.5"
    assert pf.fact("virt_functions_max") == "64"
    assert pf.iommu_group == 41
    assert pf.fact("iommu_group_members") == "0000:3b:00.0,0000:3b:00.1"
    vf = fixture("pci_0000_3b_02_3_sriov_vf")
    assert (vf.fact("phys_function"), vf.driver, vf.iommu_group) == ("0000:3b:00.0", "vfio-pci", 120)


def test_pci_garbage_bus_falls_back_to_the_name_with_a_warning() -> None:
    dev = fixture("pci_0000_00_1f_0-invalid")
    assert dev.id == "0000:00:1f.0"
    assert any("4294967295" in w for w in dev.warnings)
    assert dev.iommu_group == 14


def test_pci_zpci_when_present() -> None:
    dev = fixture("pci_0001_00_00_0_zpci")
    assert (dev.id, dev.fact("uid"), dev.fact("fid")) == ("0001:00:00.0", "0x0a01", "0x00000010")
    xml = """<device><name>pci_0002_00_00_0</name><capability type='pci'>
      <domain>2</domain><bus>0</bus><slot>0</slot><function>0</function>
      <product id='0x1016'/><vendor id='0x15b3'/><zpci><uid>0x1f</uid><fid>16</fid></zpci></capability></device>"""
    assert (parse_nodedev(xml).fact("uid"), parse_nodedev(xml).fact("fid")) == ("0x001f", "0x00000010")


def test_net_storage_usb_drm_and_system() -> None:
    net = fixture("net_encbd00")
    assert (net.fact("address"), net.fact("net_type"), net.parent) == (
        "02:00:00:5e:7a:01", "80203", "ccwgroup_0_0_bd00")
    assert (net.fact("link_state"), net.fact("link_speed"), net.fact("features")) == ("up", "25000", "rx,tx,sg")
    usb = facts(fixture("storage_usb_removable"))
    assert (usb["removable"], usb["media_label"], usb["hotpluggable"]) == ("yes", "BOOT", "yes")
    assert fixture("scsi_host1_unique_id").fact("unique_id") == "2"
    dongle = fixture("usb_2_3")
    assert (dongle.fact("vendor_id"), dongle.fact("product_id"), dongle.fact("usb_bus")) == ("0x0529", "0x0001", "2")
    drm = fixture("drm_renderD128")
    assert drm.devnodes == ("/dev/dri/renderD128", "/dev/dri/by-path/pci-0000:00:02.0-render")
    system = fixture("computer")
    assert (system.fact("product"), system.fact("uuid")) == ("3931", "4d3c2b1a-0f9e-4d8c-b7a6-958473625140")


def test_fc_host_wwpn_and_vport_ops() -> None:
    xml = """<device><name>scsi_host4</name><capability type='scsi_host'><host>4</host>
      <capability type='fc_host'><wwnn>20000000c9848141</wwnn><wwpn>10000000c9848141</wwpn></capability>
      <capability type='vport_ops'><max_vports>127</max_vports><vports>0</vports></capability>
      </capability></device>"""
    f = facts(parse_nodedev(xml))
    assert (f["wwnn"], f["wwpn"], f["max_vports"]) == ("0x20000000c9848141", "0x10000000c9848141", "127")


def test_vdpa_and_vpd() -> None:
    vdpa = fixture("vdpa_vdpa1")
    assert (vdpa.kind, vdpa.id, vdpa.devnodes) == (K.VDPA, "vdpa_vdpa1", ("/dev/vhost-vdpa-1",))
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
    assert len(texts) == 3
    assert [d.xml for d in parse_nodedevs(texts)] == [t.strip() for t in texts]


# ------------------------------------------------------------------------------------ mdevctl output


def _mdevctl_json() -> list[tuple[str, str, dict[str, object]]]:
    """(parent, uuid, config) from `mdevctl list --defined --dumpjson` output."""
    found = []
    for per_parent in json.loads(MDEVCTL_JSON.read_text()):
        for parent, mdevs in per_parent.items():
            for mdev in mdevs:
                for uuid, config in mdev.items():
                    found.append((parent, uuid, config))
    return found


def test_mdevctl_concatenated_devices_split_into_four() -> None:
    text = MDEVCTL_XML.read_text()
    assert len(split_concatenated_devices(text)) == 4
    devs = parse_nodedev_text(text)
    assert [d.kind for d in devs] == [K.MDEV] * 4
    assert [d.parent for d in devs] == ["css_0_0_0052", "css_0_0_0053", "ap_matrix", "pci_0000_65_00_0"]
    ap = devs[2]
    assert (ap.fact("attr.assign_adapter"), ap.fact("attr.assign_domain")) == ("5,6", "0x2a")
    assert devs[0].fact("parent_addr") == "0.0.0052"


def test_mdevctl_xml_says_what_mdevctl_says() -> None:
    """The node-device XML of the defined mdevs carries the same parent, UUID, type, start and attributes
    as mdevctl's own JSON for them."""
    devs = parse_nodedev_text(MDEVCTL_XML.read_text())
    listed = _mdevctl_json()
    assert len(devs) == len(listed)
    for dev, (parent, uuid, config) in zip(devs, listed, strict=True):
        assert (dev.id, dev.fact("parent_addr")) == (uuid, parent)
        assert (dev.fact("mdev_type"), dev.fact("start")) == (config["mdev_type"], config["start"])
        attrs: dict[str, list[str]] = {}
        for item in config.get("attrs", []):  # type: ignore[attr-defined]
            for key, value in item.items():
                attrs.setdefault(key, []).append(value)
        assert {k: dev.fact(f"attr.{k}") for k in attrs} == {k: ",".join(v) for k, v in attrs.items()}


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
    assert len(devs) == 15
    counts = collections.Counter(d.kind for d in devs)
    assert counts == {
        K.CSS: 3, K.MDEV: 2, K.STORAGE: 2, K.SYSTEM: 1, K.CCW: 1, K.AP_MATRIX: 1, K.AP_CARD: 1, K.AP_QUEUE: 1,
        K.PCI: 1, K.NET: 1, K.SCSI_HOST: 1,
    }
    by_name = {d.name: d for d in devs}
    assert by_name["css_0_0_0053"].mdev_types[0].available == 1
    mdev = by_name["mdev_6f2c9d41_8b3a_4e7f_a015_c4d8e2b9f760_0_0_0052"]
    assert (mdev.id, mdev.parent) == ("6f2c9d41-8b3a-4e7f-a015-c4d8e2b9f760", "css_0_0_0052")
    assert by_name["scsi_host0"].fact("wwpn") == "0xc05076ffe5005611"
    assert not any(_INTERNAL_ERROR in w for d in devs for w in d.warnings)


# --------------------------------------------------------------------------------------------- fuzzing

TEXTS = [p.read_text() for p in NODEDEV_FIXTURES] + split_concatenated_devices(MDEVCTL_XML.read_text())

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


def test_many_node_devices_read_together_are_read_as_each_alone() -> None:
    texts = [Path(p).read_text() for p in NODEDEV_FIXTURES]
    alone: list[object] = []
    for text in texts:
        try:
            alone.append(parse_nodedev(text))
        except XmlError as exc:
            alone.append(str(exc))
    together = [str(r) if isinstance(r, XmlError) else r for r in parse_nodedevs(texts)]
    assert together == alone
    assert any(isinstance(r, HostDevice) for r in together)


def test_a_damaged_node_device_among_many_is_reported_in_its_place() -> None:
    good = "<device><name>css_0_0_0010</name><capability type='css'><cssid>0</cssid><ssid>0</ssid>" \
           "<devno>0x0010</devno></capability></device>"
    found = parse_nodedevs([good, "<device><name>broken</device>", good])
    assert isinstance(found[1], XmlError)
    assert found[0] == found[2] and isinstance(found[0], HostDevice) and found[0].name == "css_0_0_0010"


def test_texts_that_only_together_make_a_document_are_each_read_alone() -> None:
    # a comment opened in the first text and closed in the second: read together, the first would take
    # in the second; alone, the first is not XML and the second a device of its own
    found = parse_nodedevs(["<device><name>a</name><!-- ", "<device> --></device>", "<device><name>b</name></device>"])
    assert [type(r) for r in found] == [XmlError, HostDevice, HostDevice]
