"""The simulated z16 host's facts under the resolver and the text tree, without any daemon: its lab guests'
domain XML resolved against the generated records, as `ztui tree` does for the lab's Z host."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ztui.host.inventory import build_inventory
from ztui.host.resolve import resolve_host
from ztui.lab.guests import BootSpec
from ztui.lab.zguests import Z_GUESTS, block_nodes, z_domain_xml
from ztui.lab.zhost import DESCRIPTION, free_dasds, linux_lun, z_devices
from ztui.libvirtxml.domain import guest_from_element
from ztui.model import Host, HostDeviceKind
from ztui.report.tree_text import render_hosts


@pytest.fixture(scope="module")
def host() -> Host:
    guests = tuple(guest_from_element(ET.fromstring(z_domain_xml(g, BootSpec(Path("/k")), Path("/lab"))))
                   for g in Z_GUESTS)
    inv = build_inventory(z_devices(), (), local=True)
    return resolve_host(Host(uri=None, hostname="zlab-z", guests=guests), inv)


def chain(host: Host, guest: str, source: str) -> list[tuple[str, str]]:
    g = next(g for g in host.guests if g.name == guest)
    return [(s.kind, s.id) for s in next(d for d in g.devices if d.source == source).backing]


def test_the_only_warning_is_the_offline_chpid(host: Host) -> None:
    """The simulated LPAR is healthy but for CHPID 07, varied offline: zlnx03's DASD runs on one path."""
    warnings = [(g.name, d.source, s.warning) for g in host.guests for d in g.devices for s in d.backing
                if s.warning]
    assert warnings == [("zlnx03", "/dev/disk/by-path/ccw-0.0.5c03", "CHPID 07 offline (chchp -v 1 07)")]


def test_dasd_by_path_and_by_id(host: Host) -> None:
    assert chain(host, "zlnx01", "/dev/disk/by-path/ccw-0.0.5c01") == [
        ("block", "/dev/dasdb"), ("dasd", "0.0.5c01"), ("css", "0.0.0001")]
    by_id = chain(host, "zlnx01", "/dev/disk/by-id/ccw-IBM.750000000DXP71.5c00.02")
    assert by_id[1] == ("dasd", "0.0.5c02")
    fba = chain(host, "zlnx04", "/dev/disk/by-path/ccw-0.0.0300")
    assert fba[1] == ("dasd", "0.0.0300")


def test_multipath_lun_over_two_fcp_channels(host: Host) -> None:
    steps = chain(host, "zlnx03", "/dev/mapper/36005076303ffc5620000000000001002")
    assert steps[0] == ("multipath", "/dev/dm-2")
    assert [s for s in steps if s[0] in ("fcp", "wwpn", "lun")] == [
        ("fcp", "0.0.1700"), ("wwpn", "0x500507630300c562"), ("lun", "0x4001400200000000"),
        ("fcp", "0.0.1780"), ("wwpn", "0x500507630310c562"), ("lun", "0x4001400200000000")]


def test_qeth_mdevs_and_zpci(host: Host) -> None:
    assert ("chpid", "0.0c") in chain(host, "zlnx03", "encf500")
    assert ("qeth", "0.0.7000") in chain(host, "zlnx03", "br-hsi")
    assert chain(host, "zlnx04", "9c8f0fe3-0c6b-4a2c-8a3c-1b2b3c4d5e6f")[1] == ("css", "0.0.0040")
    ap = chain(host, "zlnx04", "4b4c5e2a-7d62-4f5b-8d1e-0a1b2c3d4e5f")
    assert [s for s in ap if s[0] == "ap-queue"] == [
        ("ap-queue", q) for q in ("03.0005", "03.0006", "04.0005", "04.0006")]
    assert ("ap-card", "card03") in ap
    assert chain(host, "zlnx04", "0003:00:00.0") == [("pci", "0003:00:00.0")]


def test_the_configuration_has_what_a_z16_lpar_shows() -> None:
    devices = z_devices()
    ccw = {d.id: d for d in devices if d.kind is HostDeviceKind.CCW}
    assert ccw["0.0.5cfe"].fact("alias") == "1" and ccw["0.0.5c0f"].fact("status") == "unformatted"
    assert ccw["0.0.5c20"].fact("online") == "0"
    css = {d.id: d for d in devices if d.kind is HostDeviceKind.CSS}
    assert css["0.0.0040"].driver == "vfio_ccw" and css["0.0.0041"].mdev_types[0].available == 1
    cards = {d.fact("card_type"): d.fact("layer2") for d in devices if d.kind is HostDeviceKind.CCWGROUP}
    assert cards == {"OSD_10GIG": "1", "OSD_1000": "0", "HiperSockets": "1"}
    assert css["0.0.0003"].fact("pimpampom") == "c0 c0 c0" and css["0.0.0003"].fact("chpids").startswith("05 07 ")
    chps = {d.id: d for d in devices if d.kind is HostDeviceKind.CHPID}
    assert chps["0.07"].fact("status") == "offline" and chps["0.05"].fact("status") == "online"  # 07 varied off
    pci = {d.fact("product") for d in devices if d.kind is HostDeviceKind.PCI}
    assert {"RoCE Express3", "NVMe", "ISM"} <= pci
    hosts = [d for d in devices if d.kind is HostDeviceKind.SCSI_HOST]
    assert all(d.fact("port_type") == "NPIV VPORT" for d in hosts)
    assert linux_lun("0x4001400000000000") == 1073758209  # as the kernel's scsilun_to_int gives
    assert len({d.key for d in devices}) == len(devices)


def test_running_guests_use_only_devices_the_lab_makes() -> None:
    nodes = set(block_nodes())
    for guest in Z_GUESTS:
        if guest.running:
            assert not guest.mdevs and not guest.pci and not guest.interfaces
            assert {d.path for d in guest.disks} <= nodes
    assert {f"/dev/disk/by-path/ccw-{b}" for b in free_dasds()} <= nodes
    assert DESCRIPTION.luns[0].wwid == "36005076303ffc5620000000000001000" and len(DESCRIPTION.luns[0].wwid) == 33


def test_text_tree_fits_80_columns_and_shows_the_bus_id(host: Host) -> None:
    text = render_hosts([host])
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    assert any("↳ dasd" in line and "0.0.5c01" in line for line in lines)
    assert any(line.endswith("…") or "…" in line for line in lines)  # cut values say so
    short = render_hosts([host], backing=False).splitlines()
    assert not any("↳" in line for line in short) and len(short) < len(lines)


def test_attach_offers_free_dasds_but_not_the_hosts_own(tmp_path: Path) -> None:
    from ztui.host.facts_source import forget_snapshots, use_snapshot, write_snapshot
    from ztui.lab.zhost import z_host_facts
    from ztui.ops.attach.candidates import attach_candidates

    facts = z_host_facts()
    write_snapshot(facts, str(tmp_path / "facts.json"))
    use_snapshot("test:///z", str(tmp_path / "facts.json"))
    try:
        inv = build_inventory(facts.devices, (), local=True, uri="test:///z", system=facts.system)
        offered = {c.value for c in attach_candidates(inv, None)["dasd"]}
    finally:
        forget_snapshots()
    assert set(free_dasds()) <= offered
    # the host's root, /home (LVM) and dump volumes; offline; unformatted; a HyperPAV alias
    assert not offered & {"0.0.5c00", "0.0.5c0a", "0.0.5c0b", "0.0.5c20", "0.0.5c0f", "0.0.5cfe"}


def test_a_failed_fcp_channel_and_a_port_not_online_are_said_on_the_channel() -> None:
    """zFCP's `failed` (error recovery gave up) and the FC host's `port_state` are faults of the channel, said
    on its step with what recovers it; the healthy simulated host says neither."""
    from dataclasses import replace

    from ztui.model import Fact

    def fcp_warnings(devices: tuple) -> dict[str, str | None]:  # type: ignore[type-arg]
        guests = tuple(guest_from_element(ET.fromstring(z_domain_xml(g, BootSpec(Path("/k")), Path("/lab"))))
                       for g in Z_GUESTS)
        host = resolve_host(Host(uri=None, hostname="zlab-z", guests=guests), build_inventory(devices, (), local=True))
        return {s.id: s.warning for g in host.guests for d in g.devices for s in d.backing if s.kind == "fcp"}

    def changed(dev, key: str, value: str):  # type: ignore[no-untyped-def]
        return replace(dev, facts=tuple(Fact(f.key, value if f.key == key else f.value, f.source) for f in dev.facts))

    assert fcp_warnings(z_devices()) == {"0.0.1700": None, "0.0.1780": None}
    faulty = tuple(changed(d, "failed", "1") if d.key == "ccw:0.0.1700" else
                   changed(d, "port_state", "Linkdown") if d.key == "scsi_host:host1" else d for d in z_devices())
    assert fcp_warnings(faulty) == {
        "0.0.1700": "FCP channel failed: zFCP error recovery gave up (echo 0 > "
                    "/sys/bus/ccw/drivers/zfcp/0.0.1700/failed recovers it)",
        "0.0.1780": "FC port Linkdown"}
