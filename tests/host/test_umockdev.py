"""The host side end to end on fake hosts: `ztui tree` and `ztui hostdevs` under `umockdev-run`.

umockdev fakes `/sys` and `/dev` for one process tree, so the real CLI reads udev exactly as on a Z or
x86 host. Each test launches a subprocess under `umockdev-run`; the suite needs no root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
REPO = HERE.parent.parent

pytestmark = pytest.mark.skipif(shutil.which("umockdev-run") is None,
                                reason="umockdev-run is not installed (Debian package umockdev)")
pytest.importorskip("libvirt", reason="libvirt-python is not installed")
pytest.importorskip("pyudev", reason="pyudev is not installed")


def under_umockdev(device_file: str, *command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    return subprocess.run(["umockdev-run", "-d", str(DATA / device_file), "--", *command],
                          capture_output=True, text=True, timeout=60, env=env, cwd=REPO,
                          stdin=subprocess.DEVNULL)


def ztui_json(device_file: str, guests_file: str, command: str) -> dict[str, Any]:
    uri = f"test://{DATA / guests_file}"
    result = under_umockdev(device_file, sys.executable, str(HERE / "run_cli.py"), command, "-c", uri, "--json")
    assert result.returncode == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


@pytest.fixture(scope="module")
def z_tree() -> dict[str, Any]:
    return ztui_json("z-host.umockdev", "z-guests.xml", "tree")


@pytest.fixture(scope="module")
def z_hostdevs() -> dict[str, Any]:
    return ztui_json("z-host.umockdev", "z-guests.xml", "hostdevs")


def chain(doc: dict[str, Any], guest: str, target: str) -> list[tuple[str, str]]:
    return [(s["kind"], s["id"]) for s in device(doc, guest, target)["backing"]]


def device(doc: dict[str, Any], guest: str, target: str) -> dict[str, Any]:
    (host,) = doc["hosts"]
    g = next(g for g in host["guests"] if g["name"] == guest)
    return next(d for d in g["devices"] if target in (d["target"], d["source"]))


def test_dasd_disk_chain(z_tree: dict[str, Any]) -> None:
    assert chain(z_tree, "lnx01", "vda") == [("block", "/dev/dasda"), ("dasd", "0.0.5c3f"), ("css", "0.0.0010")]
    steps = device(z_tree, "lnx01", "vda")["backing"]
    assert "3390/0c" in steps[1]["name"] and "warning" not in steps[1]


def test_offline_dasd_is_a_warning(z_tree: dict[str, Any]) -> None:
    steps = device(z_tree, "lnx01", "vdc")["backing"]
    assert "offline" in steps[0]["warning"]
    assert steps[1]["kind"] == "dasd" and steps[1]["id"] == "0.0.5c40" and "offline" in steps[1]["warning"]


def test_multipath_lun_chain(z_tree: dict[str, Any]) -> None:
    ids = chain(z_tree, "lnx01", "vdb")
    assert ids[0] == ("multipath", "/dev/dm-0")
    for fcp, wwpn in (("0.0.1700", "0x500507630300c562"), ("0.0.1780", "0x500507630310c562")):
        assert ("fcp", fcp) in ids and ("wwpn", wwpn) in ids
    assert ids.count(("lun", "0x4001400000000000")) == 2


def test_scsi_hostdev_and_lun_disk(z_tree: dict[str, Any]) -> None:
    assert ("fcp", "0.0.1700") in chain(z_tree, "lnx02", "sda")
    ids = chain(z_tree, "lnx03", "scsi_host1:0:0:1073758209")
    assert ids[0] == ("scsi", "1:0:0:1073758209")
    assert ("lun", "0x4001400000000000") in ids and ("wwpn", "0x500507630310c562") in ids


def test_qeth_cards_and_chpids(z_tree: dict[str, Any]) -> None:
    assert chain(z_tree, "lnx01", "52:54:00:12:34:56")[-2:] == [("qeth", "0.0.8000"), ("chpid", "0.0c")]
    steps = device(z_tree, "lnx02", "52:54:00:12:34:57")["backing"]
    assert [(s["kind"], s["id"]) for s in steps][-2:] == [("qeth", "0.0.7000"), ("chpid", "0.f4")]
    assert steps[-2]["name"].startswith("HiperSockets")


def test_vfio_ccw_and_vfio_ap(z_tree: dict[str, Any]) -> None:
    uuid = "9c8f0fe3-0c6b-4a2c-8a3c-1b2b3c4d5e6f"
    assert chain(z_tree, "lnx01", uuid) == [("mdev", uuid), ("css", "0.0.0012"), ("ccw", "0.0.5c41")]
    ap = chain(z_tree, "lnx01", "4b4c5e2a-7d62-4f5b-8d1e-0a1b2c3d4e5f")
    assert ap[1:] == [("ap-matrix", "matrix"), ("ap-card", "card07"), ("ap-queue", "07.0038"),
                      ("ap-queue", "07.0039")]
    missing = device(z_tree, "lnx02", "11111111-2222-3333-4444-555555555555")["backing"]
    assert len(missing) == 1 and "not started" in missing[0]["warning"]


def test_zpci_function(z_tree: dict[str, Any]) -> None:
    (step,) = device(z_tree, "lnx01", "0001:00:00.0")["backing"]
    assert step["id"] == "0001:00:00.0"
    assert "uid 0x1" in step["name"] and "fid 0x00000038" in step["name"] and "vfio-pci" in step["name"]


def test_missing_image_is_a_warning(z_tree: dict[str, Any]) -> None:
    (step,) = device(z_tree, "lnx01", "vdd")["backing"]
    assert step["kind"] == "file" and "missing" in step["warning"]


def hostdev(doc: dict[str, Any], key: str) -> dict[str, Any]:
    (host,) = doc["hosts"]
    return next(d for g in host["groups"] for d in g["devices"] if d["key"] == key)


def test_hostdevs_groups_and_users(z_hostdevs: dict[str, Any]) -> None:
    (host,) = z_hostdevs["hosts"]
    names = [g["name"] for g in host["groups"]]
    assert names[:7] == ["DASD", "SCSI/FCP", "block devices", "network", "PCI/zPCI", "subchannels and mdevs", "AP"]

    def users(key: str) -> list[tuple[str, str]]:
        return sorted((u["guest"], u["target"]) for u in hostdev(z_hostdevs, key)["users"])

    assert users("ccw:0.0.5c3f") == [("lnx01", "vda")]
    assert users("ccwgroup:0.0.8000") == [("lnx01", "52:54:00:12:34:56")]
    assert users("ccwgroup:0.0.7000") == [("lnx02", "52:54:00:12:34:57")]
    assert {g for g, _ in users("ccw:0.0.1700")} == {"lnx01", "lnx02"}
    assert {g for g, _ in users("pci:0001:00:00.0")} == {"lnx01", "lnx03"}
    assert users("ap_queue:07.0038") == [("lnx01", "4b4c5e2a-7d62-4f5b-8d1e-0a1b2c3d4e5f")]


def test_hostdevs_conflicts(z_hostdevs: dict[str, Any]) -> None:
    # one vfio-ccw mdev in two running guests; lnx03 is shut off, so sharing the zPCI function is fine
    assert "2 running" in hostdev(z_hostdevs, "mdev:9c8f0fe3-0c6b-4a2c-8a3c-1b2b3c4d5e6f")["conflict"]
    assert hostdev(z_hostdevs, "pci:0001:00:00.0")["conflict"] is None
    # lnx01 writes the LUN through multipath, lnx02 passes the same LUN through as sda
    assert hostdev(z_hostdevs, "lun:0x500507630300c562:0x4001400000000000")["conflict"]
    assert hostdev(z_hostdevs, "ccw:0.0.1700")["conflict"] is None  # a shared FCP channel is normal


def test_hostdevs_eligibility(z_hostdevs: dict[str, Any]) -> None:
    assert hostdev(z_hostdevs, "css:0.0.0012")["eligibility"]["ready"] is True
    not_ready = hostdev(z_hostdevs, "css:0.0.0013")["eligibility"]
    assert not not_ready["ready"] and "vfio_ccw" in not_ready["missing"][0]
    assert hostdev(z_hostdevs, "pci:0001:00:00.0")["eligibility"]["ready"] is True
    assert not hostdev(z_hostdevs, "pci:0002:00:00.0")["eligibility"]["ready"]
    assert hostdev(z_hostdevs, "ap_queue:07.0038")["eligibility"]["ready"] is True
    assert not hostdev(z_hostdevs, "ap_queue:07.0001")["eligibility"]["ready"]
    assert hostdev(z_hostdevs, "ccw:0.0.5c3f")["eligibility"] is None


def _warnings(doc: dict[str, Any]) -> list[str]:
    """Every warning of a `tree --json` or `hostdevs --json` document, wherever it is."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("warning", "warnings", "missing"):
                    found.extend([value] if isinstance(value, str) else list(value or ()))
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(doc)
    return found


def test_a_healthy_host_has_no_path_warning_anywhere(z_tree: dict[str, Any], z_hostdevs: dict[str, Any]) -> None:
    """Every subchannel's paths installed, available and operational (`pimpampom` as css.c writes it, with
    its spaces), every CHPID online and configured: nothing anywhere speaks of a path or a CHPID."""
    assert "CHPIDs 05 06" in hostdev(z_hostdevs, "css:0.0.0010")["summary"]  # the paths were read
    assert hostdev(z_hostdevs, "chpid:0.05")["summary"].startswith("type 1b online configured")
    warnings = _warnings(z_tree) + _warnings(z_hostdevs)
    assert warnings  # the host has other problems (an offline DASD, a conflict): they are said
    for warning in warnings:
        assert "CHPID" not in warning and "channel path" not in warning, warning
    # lnx02 writes sda, one path of the host's multipath device, directly: that one is said
    assert any("/dev/sda is a path of the host's multipath device" in w for w in warnings)


def test_facts_keep_the_kernels_words(z_hostdevs: dict[str, Any]) -> None:
    facts = {f["key"]: f["value"] for f in hostdev(z_hostdevs, "css:0.0.0010")["facts"]}
    assert facts["pimpampom"] == "c0 c0 ff" and facts["chpids"] == "05 06 00 00 00 00 00 00 "
    assert facts["driver_override"] == "(null)"
    offline = {f["key"]: f["value"] for f in hostdev(z_hostdevs, "ccw:0.0.5c40")["facts"]}
    assert (offline["status"], offline["discipline"], offline["uid"]) == ("unknown", "none", "")


def test_x86_host() -> None:
    tree = ztui_json("x86-host.umockdev", "x86-guests.xml", "tree")
    assert chain(tree, "web01", "vda") == [("partition", "/dev/nvme0n1p2"), ("block", "/dev/nvme0n1"),
                                           ("pci", "0000:01:00.0")]
    assert chain(tree, "web01", "52:54:00:aa:bb:cc") == [("bridge", "br0"), ("net", "eno1"), ("pci", "0000:00:19.0")]
    assert chain(tree, "web01", "52:54:00:aa:bb:cd")[:2] == [("network", "lan"), ("bridge", "br0")]
    assert chain(tree, "web01", "0000:03:00.0") == [("pci", "0000:03:00.0")]
    devs = ztui_json("x86-host.umockdev", "x86-guests.xml", "hostdevs")
    gpu = hostdev(devs, "pci:0000:03:00.0")["eligibility"]
    assert not gpu["ready"] and "0000:03:00.1" in gpu["missing"][0]


def test_text_output_of_both_commands() -> None:
    uri = f"test://{DATA / 'z-guests.xml'}"
    for command in ("tree", "hostdevs"):
        result = under_umockdev("z-host.umockdev", sys.executable, str(HERE / "run_cli.py"), command, "-c", uri)
        assert result.returncode == 0, result.stderr
        assert "0.0.5c3f" in result.stdout


def test_a_value_not_in_the_kernels_format_is_said_once_and_read_as_unknown() -> None:
    """odd-host has two subchannels whose `pimpampom` lacks the kernel's spaces: one line says so for both,
    and no path of theirs is guessed at."""
    result = under_umockdev("odd-host.umockdev", sys.executable, str(HERE / "run_cli.py"), "hostdevs", "-c",
                            "test:///default", "--json")
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stderr.splitlines() if "pimpampom" in line]
    assert len(said) == 1 and "c0c0ff" in said[0] and "1 more" in said[0] and "read as unknown" in said[0]
    css = hostdev(json.loads(result.stdout), "css:0.0.0090")
    assert "CHPIDs" not in css["summary"] and not css["warnings"]


def test_udev_reader_inside_umockdev() -> None:
    """The udev-level tests (fresh re-reads, odd data) run inside the fake hosts."""
    for device_file in ("z-host.umockdev", "odd-host.umockdev"):
        result = under_umockdev(device_file, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                str(HERE / "inner_udev.py"), "--rootdir", str(REPO), "-o", "addopts=")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "passed" in result.stdout
