"""The lab's simulated z16 host: ztui resolves its guests against the simulated facts by itself, its DASD
and FCP disks are real block devices inside its namespace, and a free DASD hot-plugs and goes again."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import libvirt
import pytest

from tests.lab.support import Lab
from tests.lab.test_hotplug_cli import ztui
from ztui.lab.zhost import free_dasds

FREE_DASD = "0.0.5c07"


@pytest.fixture(scope="module")
def z_tree(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    result = ztui("tree", "--json", "-c", lab.z_uri, state=tmp_path_factory.mktemp("state"))
    assert result.returncode == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def _steps(doc: dict[str, Any], guest: str, source: str) -> list[dict[str, Any]]:
    (host,) = doc["hosts"]
    g = next(g for g in host["guests"] if g["name"] == guest)
    steps: list[dict[str, Any]] = next(d for d in g["devices"] if d["source"] == source)["backing"]
    return steps


def _kinds(steps: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(s["kind"], s["id"]) for s in steps]


def test_the_host_is_labelled_simulated(z_tree: dict[str, Any]) -> None:
    (host,) = z_tree["hosts"]
    assert host["hostname"] == "zlab-z" and "simulated" in host["host_facts"]


def test_a_running_guest_has_dasd_and_zfcp_disks(z_tree: dict[str, Any]) -> None:
    (host,) = z_tree["hosts"]
    guest = next(g for g in host["guests"] if g["name"] == "zlnx01")
    assert guest["state"] == "running"
    dasd = _steps(z_tree, "zlnx01", "/dev/disk/by-path/ccw-0.0.5c01")
    assert _kinds(dasd) == [("block", "/dev/dasdb"), ("dasd", "0.0.5c01"), ("css", "0.0.0001")]
    assert "CHPIDs 05,06" in dasd[2]["name"]
    lun = _kinds(_steps(z_tree, "zlnx01", "/dev/mapper/36005076303ffc5620000000000001000"))
    assert lun[0] == ("multipath", "/dev/dm-0")
    for fcp, wwpn in (("0.0.1700", "0x500507630300c562"), ("0.0.1780", "0x500507630310c562")):
        assert ("fcp", fcp) in lun and ("wwpn", wwpn) in lun
    assert ("lun", "0x4001400000000000") in lun


def test_osa_and_hipersockets_behind_interfaces(z_tree: dict[str, Any]) -> None:
    osa = _kinds(_steps(z_tree, "zlnx03", "encf500"))
    assert ("qeth", "0.0.f500") in osa and ("chpid", "0.0c") in osa
    hsi = _steps(z_tree, "zlnx03", "br-hsi")
    assert ("qeth", "0.0.7000") in _kinds(hsi) and any("HiperSockets" in s["name"] for s in hsi)


def test_pass_through_chains(z_tree: dict[str, Any]) -> None:
    ccw = _kinds(_steps(z_tree, "zlnx04", "9c8f0fe3-0c6b-4a2c-8a3c-1b2b3c4d5e6f"))
    assert ccw[:2] == [("mdev", "9c8f0fe3-0c6b-4a2c-8a3c-1b2b3c4d5e6f"), ("css", "0.0.0040")]
    ap = _kinds(_steps(z_tree, "zlnx04", "4b4c5e2a-7d62-4f5b-8d1e-0a1b2c3d4e5f"))
    assert ("ap-matrix", "matrix") in ap and ("ap-card", "card03") in ap and ("ap-queue", "04.0006") in ap
    (pci,) = _steps(z_tree, "zlnx04", "0002:00:00.0")
    assert "uid 0x2" in pci["name"] and "fid 0x00000039" in pci["name"]


def test_text_tree_shows_the_dasd_bus_id(lab: Lab, tmp_path: Path) -> None:
    result = ztui("tree", "zlnx01", "-c", lab.z_uri, state=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any("dasd" in line and "0.0.5c01" in line for line in lines)
    assert all(len(line) <= 80 for line in lines[1:])


def test_hostdevs_offers_a_free_dasd_and_attach_detach_it(lab: Lab, tmp_path: Path) -> None:
    devs = ztui("hostdevs", "--json", "-c", lab.z_uri, state=tmp_path)
    assert devs.returncode == 0, devs.stderr
    (host,) = json.loads(devs.stdout)["hosts"]
    dasds = {d["id"]: d for group in host["groups"] for d in group["devices"] if d.get("kind") == "ccw"}
    assert FREE_DASD in dasds and not dasds[FREE_DASD].get("users")

    attached = ztui("attach", "zlnx01", "--dasd", FREE_DASD, "-c", lab.z_uri, "--json", state=tmp_path)
    assert attached.returncode == 0, attached.stderr
    doc = json.loads(attached.stdout)
    assert doc["outcome"] == "attached"
    conn = libvirt.open(lab.z_uri)
    try:
        out = subprocess.run(["virsh", "-c", lab.z_uri, "domblklist", "zlnx01"], capture_output=True, text=True,
                             check=True).stdout
        assert f"/dev/disk/by-path/ccw-{FREE_DASD}" in out
        tree = json.loads(ztui("tree", "zlnx01", "--json", "-c", lab.z_uri, state=tmp_path).stdout)
        steps = _kinds(_steps(tree, "zlnx01", f"/dev/disk/by-path/ccw-{FREE_DASD}"))
        assert ("dasd", FREE_DASD) in steps
        detached = ztui("detach", "zlnx01", doc["target"], "-c", lab.z_uri, state=tmp_path)
        assert detached.returncode == 0, detached.stderr
        assert f"removed: {doc['target']}" in detached.stdout
        assert FREE_DASD not in conn.lookupByName("zlnx01").XMLDesc(0)
    finally:
        conn.close()


def test_hostdevs_marks_the_hosts_own_dasds_and_every_free_dasd_attaches(lab: Lab, tmp_path: Path) -> None:
    """The DASD behind the host's `/` is the host's; every DASD the report calls free can be attached (and
    is detached again), on the simulated z16."""
    devs = ztui("hostdevs", "--json", "-c", lab.z_uri, state=tmp_path)
    assert devs.returncode == 0, devs.stderr
    (host,) = json.loads(devs.stdout)["hosts"]
    dasds = {d["id"]: d for group in host["groups"] if group["name"] == "DASD" for d in group["devices"]}
    root = dasds["0.0.5c00"]
    assert root["free"] is False and "/dev/dasda1 is mounted on /" in [r["text"] for r in root["host_use"]]
    assert not dasds["0.0.5c0a"]["free"] and not dasds["0.0.5c0b"]["free"]  # /home's LVM volume, the dump device
    free = sorted(busid for busid, d in dasds.items() if d["free"])
    assert free == sorted(free_dasds())
    conn = libvirt.open(lab.z_uri)
    try:
        for busid in free:
            attached = ztui("attach", "zlnx01", "--dasd", busid, "-c", lab.z_uri, "--json", state=tmp_path)
            assert attached.returncode == 0, f"{busid}: {attached.stderr}"
            doc = json.loads(attached.stdout)
            assert doc["outcome"] == "attached", (busid, doc)
            detached = ztui("detach", "zlnx01", doc["target"], "-c", lab.z_uri, state=tmp_path)
            assert detached.returncode == 0, detached.stderr
            assert busid not in conn.lookupByName("zlnx01").XMLDesc(0)
    finally:
        conn.close()
    used = ztui("attach", "zlnx01", "--dasd", "0.0.5c00", "-c", lab.z_uri, state=tmp_path)
    assert used.returncode == 2 and "/dev/dasda1 is mounted on /" in used.stderr


def test_a_dasd_that_is_offline_or_absent_is_refused(lab: Lab, tmp_path: Path) -> None:
    for busid, words in (("0.0.5c20", "not online"), ("0.0.9999", "no DASD")):
        result = ztui("attach", "zlnx01", "--dasd", busid, "-c", lab.z_uri, state=tmp_path)
        assert result.returncode == 2 and words in result.stderr and len(result.stderr.splitlines()) == 1


def test_tree_over_the_whole_lab_shows_every_z_chain(lab: Lab, tmp_path: Path) -> None:
    """`ztui --lab tree --json`: every lab host, the simulated z16 first, behind its guests' devices a DASD
    with subchannel and CHPIDs, a zFCP LUN, OSA and HiperSockets cards, a vfio-ccw mdev with its
    subchannel, a vfio-ap matrix with adapters and domains, a zPCI function with uid and fid."""
    import os
    import sys

    env = {**os.environ, "ZTUI_LAB_DIR": str(lab.base), "XDG_STATE_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "ztui", "--lab", "tree", "--json"], capture_output=True,
                            text=True, timeout=120, env=env, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    hosts = json.loads(result.stdout)["hosts"]
    assert [h["hostname"] for h in hosts] == ["zlab-z", "zlab-y", "zlab-a", "zlab-b"]
    steps = [(s["kind"], s["id"], s["name"]) for g in hosts[0]["guests"] for d in g["devices"]
             for s in d["backing"]]
    kinds = {k for k, _, _ in steps}
    assert {"dasd", "css", "fcp", "wwpn", "lun", "qeth", "chpid", "mdev", "ap-matrix", "ap-card", "ap-queue",
            "pci"} <= kinds
    assert any(k == "css" and "CHPIDs" in n for k, _, n in steps)
    assert any(k == "qeth" and "OSA" in n for k, _, n in steps) and any(k == "qeth" and "HiperSockets" in n
                                                                      for k, _, n in steps)
    assert any(k == "css" and "vfio_ccw" in n for k, _, n in steps)
    assert any(k == "pci" and "uid 0x" in n and "fid 0x" in n for k, _, n in steps)


def test_a_dasd_and_zfcp_guest_migrates_to_the_second_lpar_and_back(lab: Lab, tmp_path: Path) -> None:
    """zlab-y sees the same DASDs and LUNs under its own device numbers (0.0.6c05 for zlab-z's 0.0.5c05): the
    migration finds each disk's volume there by its uid or WWID, renames the by-path source in the XML the
    destination gets (the multipath map has the same name on both), and needs no --unsafe: the storage is
    proven shared. Back again, the same the other way."""
    guest = "zlnx02"
    there = ztui("migrate", guest, "--to", lab.z_twin_uri, "-c", lab.z_uri, "--json", state=tmp_path)
    assert there.returncode == 0, there.stdout + there.stderr
    preflight = json.loads(there.stdout.splitlines()[0])
    assert preflight["rewrites"] == [{"device": "vda", "from": "/dev/disk/by-path/ccw-0.0.5c05",
                                      "to": "/dev/disk/by-path/ccw-0.0.6c05", "mdev": False,
                                      "volume": {"kind": "dasd-uid", "id": "IBM.750000000DXP71.5c00.05"}}]
    assert [s["action"] for s in preflight["plan"]] == ["rename", "migrate"]
    assert "--xml zlnx02-destination.xml" in preflight["virsh"]
    conn = libvirt.open(lab.z_twin_uri)
    try:
        assert conn.lookupByName(guest).isActive()
        tree = json.loads(ztui("tree", guest, "--json", "-c", lab.z_twin_uri, state=tmp_path).stdout)
        assert tree["hosts"][0]["hostname"] == "zlab-y"
        steps = _steps(tree, guest, "/dev/disk/by-path/ccw-0.0.6c05")
        assert ("dasd", "0.0.6c05") in _kinds(steps)
        assert any("uid IBM.750000000DXP71.5c00.05" in s["name"] for s in steps)
        assert _steps(tree, guest, "/dev/mapper/36005076303ffc5620000000000001001")  # the same name on both
    finally:
        conn.close()
        back = ztui("migrate", guest, "--to", lab.z_uri, "-c", lab.z_twin_uri, "--json", state=tmp_path)
    assert back.returncode == 0, back.stdout + back.stderr
    assert json.loads(back.stdout.splitlines()[0])["rewrites"][0]["to"] == "/dev/disk/by-path/ccw-0.0.5c05"
