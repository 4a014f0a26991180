"""The generated test-driver host file really loads in libvirt's test driver, with what it promises."""

from __future__ import annotations

import collections
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from ztui.lab.testdriver import (
    MAX_GUESTS,
    build_testdriver_xml,
    guest_name,
    guest_running,
    node_device_counts,
    write_testdriver,
)
from ztui.libvirtxml.nodedev import parse_nodedev

GUESTS = 12


@pytest.fixture(scope="module")
def libvirt() -> Any:
    return pytest.importorskip("libvirt", reason="libvirt-python is not installed (the test driver is in libvirt)")


@pytest.fixture(scope="module")
def host_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("testdriver") / "host.xml"
    write_testdriver(path, GUESTS)
    return path


@pytest.fixture
def conn(libvirt: Any, host_file: Path) -> Any:
    c = libvirt.open(f"test://{host_file}")
    yield c
    c.close()


def domain_xmls(conn: Any) -> dict[str, ET.Element]:
    return {d.name(): ET.fromstring(d.XMLDesc(0)) for d in conn.listAllDomains()}


# ------------------------------------------------------------------------------------------- the file


def test_same_count_same_bytes() -> None:
    assert build_testdriver_xml(5) == build_testdriver_xml(5)


def test_names_are_padded_to_sort_like_numbers() -> None:
    assert guest_name(0, 12) == "lnx001"
    assert guest_name(999, 1000) == "lnx1000"
    assert guest_name(0, 1000) == "lnx0001"


@pytest.mark.parametrize("guests", [-1, MAX_GUESTS + 1])
def test_guest_count_out_of_range(guests: int) -> None:
    with pytest.raises(ValueError, match="guests"):
        build_testdriver_xml(guests)


def test_write_leaves_no_temporary_file(host_file: Path) -> None:
    assert [p.name for p in host_file.parent.iterdir()] == ["host.xml"]
    assert ET.parse(host_file).getroot().tag == "node"


# ------------------------------------------------------------------------------------------- domains


def test_domains_load_with_their_states(conn: Any, libvirt: Any) -> None:
    doms = conn.listAllDomains()
    assert sorted(d.name() for d in doms) == [guest_name(i, GUESTS) for i in range(GUESTS)]
    by_name = {d.name(): d for d in doms}
    for i in range(GUESTS):
        state = by_name[guest_name(i, GUESTS)].state()[0]
        assert state == (libvirt.VIR_DOMAIN_RUNNING if guest_running(i) else libvirt.VIR_DOMAIN_SHUTOFF)
    assert {d.state()[0] for d in doms} == {libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_SHUTOFF}


def test_every_domain_has_the_promised_devices(conn: Any) -> None:
    for name, dom in domain_xmls(conn).items():
        os_type = dom.find("os/type")
        assert os_type is not None
        assert os_type.get("arch") == "s390x", name
        devices = dom.find("devices")
        assert devices is not None
        assert len([d for d in devices if d.tag != "emulator"]) >= 12, name
        for path in (
            "disk/target[@bus='virtio']",
            "disk/target[@bus='scsi']",
            "controller[@model='virtio-scsi']",
            "interface[@type='network']",
            "interface[@type='direct']",
            "hostdev[@model='vfio-ccw']",
            "hostdev[@model='vfio-ap']",
            "hostdev[@type='pci']/address/zpci",
            "memballoon[@model='virtio']",
            "rng",
            "console/target[@type='sclp']",
        ):
            assert devices.find(path) is not None, (name, path)
        ccw = [a.get("devno") for a in devices.iter("address") if a.get("type") == "ccw"]
        assert len(ccw) == len(set(ccw)) >= 7, (name, ccw)


# -------------------------------------------------------------------------------------- node devices


def test_node_device_counts(conn: Any) -> None:
    devs = [parse_nodedev(d.XMLDesc(0)) for d in conn.listAllDevices(0)]
    assert collections.Counter(d.kind.value for d in devs) == node_device_counts(GUESTS)
    assert not [d.warnings for d in devs if d.warnings]


def test_guest_passthrough_resolves_to_node_devices(conn: Any) -> None:
    """Every mdev UUID, zPCI source address and DASD bus-ID a guest uses exists as a host device."""
    hosts = {(d.kind.value, d.id): d for d in (parse_nodedev(n.XMLDesc(0)) for n in conn.listAllDevices(0))}
    for name, dom in domain_xmls(conn).items():
        for hostdev in dom.iterfind("devices/hostdev[@type='mdev']"):
            source = hostdev.find("source/address")
            assert source is not None
            uuid = source.get("uuid", "")
            mdev = hosts[("mdev", uuid)]
            expected = "vfio_ccw-io" if hostdev.get("model") == "vfio-ccw" else "vfio_ap-passthrough"
            assert mdev.fact("mdev_type") == expected, name
        src = dom.find("devices/hostdev[@type='pci']/source/address")
        assert src is not None
        pci_id = f"{int(src.get('domain', ''), 16):04x}:00:00.0"
        assert ("pci", pci_id) in hosts, name
        dasd = dom.find("devices/disk/source[@dev]")
        assert dasd is not None
        assert ("ccw", dasd.get("dev", "").rsplit("ccw-", 1)[-1]) in hosts, name


def test_vfio_ccw_subchannel_offers_the_type_and_names_its_dasd(conn: Any) -> None:
    css = parse_nodedev(conn.nodeDeviceLookupByName("css_0_0_0001").XMLDesc(0))
    assert [t.id for t in css.mdev_types] == ["vfio_ccw-io"]
    assert css.fact("channel_dev_addr") == "0.0.8000"


# ------------------------------------------------------------------------------------- virsh and scale


@pytest.mark.skipif(shutil.which("virsh") is None, reason="virsh is not installed")
def test_virsh_lists_every_guest(host_file: Path) -> None:
    out = subprocess.run(["virsh", "-c", f"test://{host_file}", "list", "--all", "--name"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    assert sorted(out.split()) == [guest_name(i, GUESTS) for i in range(GUESTS)]


def test_a_thousand_guests_load(libvirt: Any, tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    write_testdriver(path, 1000)
    start = time.perf_counter()
    conn = libvirt.open(f"test://{path}")
    try:
        assert len(conn.listAllDomains()) == 1000
        assert len(conn.listAllDevices(0)) == sum(node_device_counts(1000).values())
    finally:
        conn.close()
    assert time.perf_counter() - start < 15  # ~0.8 s here; generous for slow CI machines
