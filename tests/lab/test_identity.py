"""One volume across the lab's two simulated LPARs: zlab-y sees zlab-z's DASDs and LUNs under its own device
numbers; ztui shows them as one volume, warns when guests on both hosts write it, says where each guest can
go, and empties a host for maintenance guest by guest."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libvirt
import pytest

from tests.lab.support import Lab
from tests.lab.test_lifecycle import ztui

GUEST = "zlnx02"
TWIN_GUEST = "zlnx07"  # defined on zlab-y on zlnx02's system volume


def _json(*args: str, state: Path, lab: Lab, expect: int = 0) -> Any:
    result = ztui(*args, "--json", state=state, lab=lab)
    assert result.returncode == expect, (result.returncode, result.stdout, result.stderr)
    return json.loads(result.stdout)


def _lines(*args: str, state: Path, lab: Lab, expect: int) -> list[dict[str, Any]]:
    result = ztui(*args, "--json", state=state, lab=lab)
    assert result.returncode == expect, (result.returncode, result.stdout, result.stderr)
    return [json.loads(line) for line in result.stdout.splitlines()]


def _device(doc: dict[str, Any], hostname: str, ident: str) -> dict[str, Any]:
    host = next(h for h in doc["hosts"] if h["hostname"] == hostname)
    return next(d for g in host["groups"] for d in g["devices"] if d["id"] == ident)


def _runs_on(lab: Lab, name: str) -> list[str]:
    found = []
    for host, uri in (("zlab-z", lab.z_uri), ("zlab-y", lab.z_twin_uri)):
        conn = libvirt.open(uri)
        try:
            dom = conn.lookupByName(name)
            if dom.isActive():
                found.append(host)
        except libvirt.libvirtError:
            pass
        finally:
            conn.close()
    return found


@pytest.fixture
def twin_running(lab: Lab) -> Iterator[None]:
    """zlnx07 started on zlab-y (it writes zlnx02's volume), forced off afterwards."""
    conn = libvirt.open(lab.z_twin_uri)
    try:
        conn.lookupByName(TWIN_GUEST).create()
        yield
    finally:
        dom = conn.lookupByName(TWIN_GUEST)
        if dom.isActive():
            dom.destroy()
        conn.close()


def test_hostdevs_shows_one_volume_under_two_device_numbers(lab: Lab, tmp_path: Path) -> None:
    assert _runs_on(lab, GUEST) == ["zlab-z"]
    doc = _json("--lab", "hostdevs", state=tmp_path, lab=lab)
    here, there = _device(doc, "zlab-z", "0.0.5c05"), _device(doc, "zlab-y", "0.0.6c05")
    assert here["volume"] == there["volume"] == {"kind": "dasd-uid", "id": "IBM.750000000DXP71.5c00.05"}
    assert [(s["host"], s["device"]) for s in here["also_on"]] == [("zlab-y", "0.0.6c05")]
    assert [(s["host"], s["device"]) for s in there["also_on"]] == [("zlab-z", "0.0.5c05")]
    assert here["also_on"][0]["users"] == [{"guest": TWIN_GUEST, "target": "vda", "running": False, "writes": True}]
    assert here["conflict"] is None and there["conflict"] is None  # zlnx07 does not run
    lun = _device(doc, "zlab-y", "/dev/dm-1")
    assert lun["volume"]["kind"] == "scsi-wwid" and lun["also_on"][0]["device"].startswith("0.0.1700:")


@pytest.mark.usefixtures("twin_running")
def test_a_guest_on_each_host_writing_the_volume_is_a_conflict_on_both(lab: Lab, tmp_path: Path) -> None:
    doc = _json("--lab", "hostdevs", state=tmp_path, lab=lab)
    assert "zlnx07 (vda) on zlab-y (as 0.0.6c05)" in _device(doc, "zlab-z", "0.0.5c05")["conflict"]
    assert "zlnx02 (vda) on zlab-z (as 0.0.5c05)" in _device(doc, "zlab-y", "0.0.6c05")["conflict"]
    tree = _json("--lab", "tree", state=tmp_path, lab=lab)
    for hostname, guest, other in (("zlab-z", GUEST, TWIN_GUEST), ("zlab-y", TWIN_GUEST, GUEST)):
        host = next(h for h in tree["hosts"] if h["hostname"] == hostname)
        vda = next(d for g in host["guests"] if g["name"] == guest for d in g["devices"] if d["target"] == "vda")
        assert any(f"also written by {other} (vda)" in w for w in vda["warnings"]), vda["warnings"]


def test_where_lists_the_second_lpar_ready_and_the_image_hosts_not(lab: Lab, tmp_path: Path) -> None:
    doc = _json("--lab", "where", GUEST, state=tmp_path, lab=lab)
    hosts = {h["host"]: h for h in doc["hosts"]}
    assert doc["hosts"][0]["host"] == "zlab-y" and hosts["zlab-y"]["readiness"] == "ready"
    assert hosts["zlab-y"]["rewrites"][0]["to"] == "/dev/disk/by-path/ccw-0.0.6c05"
    for name in ("zlab-a", "zlab-b"):
        assert hosts[name]["readiness"] == "no"
        reasons = {(r["device"], r["code"]) for r in hosts[name]["reasons"]}
        assert {("vda", "volume"), ("vdb", "volume")} <= reasons, hosts[name]["reasons"]
        texts = " ".join(r["text"] for r in hosts[name]["reasons"])
        assert "DASD IBM.750000000DXP71.5c00.05" in texts and "LUN naa.6005076303ffc5620000000000001001" in texts
    assert "zlab-z" not in hosts


@pytest.fixture
def stuck(lab: Lab) -> Iterator[str]:
    """A guest running on zlab-z on an image in zlab-z's own `default` pool, which no other host has."""
    name = "zlnx09"
    conn = libvirt.open(lab.z_uri)
    pool = conn.storagePoolLookupByName("default")
    vol = pool.createXML(f"<volume><name>{name}.img</name><capacity unit='MiB'>8</capacity>"
                         "<target><format type='raw'/></target></volume>", 0)
    root = ET.fromstring(conn.lookupByName(GUEST).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    root.find("name").text = name  # type: ignore[union-attr]
    root.remove(root.find("uuid"))  # type: ignore[arg-type]
    devices = root.find("devices")
    assert devices is not None
    for disk in devices.findall("disk"):
        devices.remove(disk)
    ET.SubElement(ET.SubElement(devices, "disk", type="file", device="disk"), "source", file=vol.path())
    devices[-1].append(ET.Element("target", dev="vda", bus="virtio"))
    dom = conn.defineXML(ET.tostring(root, encoding="unicode"))
    dom.create()
    try:
        yield name
    finally:
        if dom.isActive():
            dom.destroy()
        dom.undefine()
        vol.delete(0)
        conn.close()


def test_evacuate_plans_moves_what_can_go_and_reports_what_stays(lab: Lab, tmp_path: Path, stuck: str) -> None:
    plan = _lines("--lab", "evacuate", "zlab-z", "--dry-run", state=tmp_path, lab=lab, expect=1)
    (doc,) = plan
    assert doc["type"] == "plan" and not doc["complete"]
    guests = {g["guest"]: g for g in doc["guests"]}
    assert [g["guest"] for g in doc["guests"]] == ["zlnx01", GUEST, stuck]  # those that can go first
    assert guests["zlnx01"]["destination"] == guests[GUEST]["destination"] == "zlab-y"
    assert guests[GUEST]["rewrites"][0]["to"] == "/dev/disk/by-path/ccw-0.0.6c05"
    assert not guests[stuck]["can_go"] and guests[stuck]["blockers"]
    assert _runs_on(lab, GUEST) == ["zlab-z"]  # a dry run changes nothing
    try:
        lines = _lines("--lab", "evacuate", "zlab-z", state=tmp_path, lab=lab, expect=1)
        report = lines[-1]
        assert report["type"] == "evacuation" and report["moved"] == ["zlnx01", GUEST]
        assert report["stayed"] == [stuck]
        outcomes = {g["guest"]: g["outcome"] for g in report["guests"]}
        assert outcomes == {"zlnx01": "moved", GUEST: "moved", stuck: "stayed"}
        for name in ("zlnx01", GUEST):  # moved whole: running there, the source's copy shut off
            assert _runs_on(lab, name) == ["zlab-y"]
            moved = next(g for g in report["guests"] if g["guest"] == name)["report"]
            assert moved["ok"] and moved["certain"] and moved["source_copy"] == "defined, shut off"
        assert _runs_on(lab, stuck) == ["zlab-z"]
    finally:
        back = _lines("--lab", "evacuate", "zlab-y", "--to", "zlab-z", state=tmp_path, lab=lab, expect=0)
        assert back[-1]["moved"] == ["zlnx01", GUEST]
    assert _runs_on(lab, GUEST) == ["zlab-z"] and _runs_on(lab, "zlnx01") == ["zlab-z"]
