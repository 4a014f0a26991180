"""IBM Z semantics on a simulated Z host (`umockdev-run`, tests/fixtures/z/z-semantics.umockdev): what
`ztui tree` and `ztui hostdevs` answer for each rule the kernel and s390-tools define."""

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
Z = HERE.parent / "fixtures" / "z"
REPO = HERE.parent.parent

pytestmark = pytest.mark.skipif(shutil.which("umockdev-run") is None,
                                reason="umockdev-run is not installed (Debian package umockdev)")
pytest.importorskip("libvirt", reason="libvirt-python is not installed")
pytest.importorskip("pyudev", reason="pyudev is not installed")


def run(command: str, host: str = "z-semantics") -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    result = subprocess.run(["umockdev-run", "-d", str(Z / f"{host}.umockdev"), "--", sys.executable,
                             str(HERE / "run_cli.py"), command, "-c", f"test://{Z / f'{host}-guests.xml'}",
                             "--json"], capture_output=True, text=True, timeout=60, env=env, cwd=REPO,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


@pytest.fixture(scope="module")
def tree() -> dict[str, Any]:
    return run("tree")


@pytest.fixture(scope="module")
def hostdevs() -> dict[str, Any]:
    return run("hostdevs")


def device(doc: dict[str, Any], guest: str, name: str) -> dict[str, Any]:
    (host,) = doc["hosts"]
    g = next(g for g in host["guests"] if g["name"] == guest)
    return next(d for d in g["devices"] if name in (d["target"], d["source"]))


def step(doc: dict[str, Any], guest: str, name: str, kind: str) -> dict[str, Any]:
    return next(s for s in device(doc, guest, name)["backing"] if s["kind"] == kind)


def hostdev(doc: dict[str, Any], key: str) -> dict[str, Any]:
    (host,) = doc["hosts"]
    return next(d for g in host["groups"] for d in g["devices"] if d["key"] == key)


def test_vfio_ap_guest_matrix_missing_adapter_and_control_domains(tree: dict[str, Any]) -> None:
    matrix = step(tree, "zs1", "7a1d2c3e-4f50-4a6b-8c7d-9e0f1a2b3c4d", "ap-matrix")
    assert "control domains 0005" in matrix["name"] and "0x" not in matrix["name"]
    assert "does not get adapter 0a " in matrix["warning"] and "domain" not in matrix["warning"].split("(")[0]
    card = step(tree, "zs1", "7a1d2c3e-4f50-4a6b-8c7d-9e0f1a2b3c4d", "ap-card")
    assert card["name"] == "CEX8P EP11 online"
    adapter_only = step(tree, "zs2", "8b2e3d4f-5061-4b7c-9d8e-0f1a2b3c4d5e", "ap-matrix")
    assert adapter_only["warning"] == "no domain assigned to the mdev" and "adapters 0b" in adapter_only["name"]
    assert step(tree, "zs2", "8b2e3d4f-5061-4b7c-9d8e-0f1a2b3c4d5e", "ap-card")["id"] == "card0b"  # `0b.`


def test_adapter_only_and_domain_only_matrix_lines(hostdevs: dict[str, Any]) -> None:
    assert "adapters 0b (no domain)" in hostdev(hostdevs, "mdev:8b2e3d4f-5061-4b7c-9d8e-0f1a2b3c4d5e")["summary"]
    summary = hostdev(hostdevs, "mdev:7a1d2c3e-4f50-4a6b-8c7d-9e0f1a2b3c4d")["summary"]
    assert "0a.0005,0a.0006" in summary and "control domains 0005" in summary and "0x" not in summary
    assert hostdev(hostdevs, "ap_queue:0a.0005")["id"] == "0a.0005" and hostdev(hostdevs, "ap_card:card0a")


def test_css_outside_0xfe_is_warned_and_keeps_its_css(tree: dict[str, Any]) -> None:
    vdb = device(tree, "zs1", "vdb")
    assert vdb["address"].startswith("0x00.0.0002") and any("invisible" in w for w in vdb["warnings"])


def test_chpids_from_pim_with_chpid_00_and_lschp_states(tree: dict[str, Any], hostdevs: dict[str, Any]) -> None:
    css = step(tree, "zs1", "vda", "css")
    assert "CHPIDs 00,05" in css["name"] and "CHPID 05 offline" in css["warning"]
    standby = step(tree, "zs1", "52:54:00:5e:00:01", "chpid")
    assert "standby" in standby["name"] and "chchp -c 1 6a" in standby["warning"]
    assert "online, configured" in step(tree, "zs1", "52:54:00:5e:00:02", "chpid")["name"]  # CHPID 00
    assert "CHPIDs 05(not operational)" in hostdev(hostdevs, "css:0.0.0101")["summary"]
    empty = hostdev(hostdevs, "css:0.0.0101")
    assert "carries" not in empty["summary"]  # dev_busid `none`: no device, nothing to prepare for vfio-ccw
    assert empty["eligibility"]["missing"] == ["the subchannel carries no device (dev_busid none): nothing to pass "
                                               "through"]


def test_dasd_status_alias_and_uid(tree: dict[str, Any], hostdevs: dict[str, Any]) -> None:
    dasd = step(tree, "zs1", "vda", "dasd")
    assert "unformatted" in dasd["warning"] and "uid IBM.750000000DXP71.5d00.00" in dasd["name"]
    assert "ESE" in dasd["name"]
    alias = hostdev(hostdevs, "ccw:0.0.5dfe")
    assert "HyperPAV alias" in alias["summary"]


def test_vfio_ccw_is_never_suggested_for_an_fcp_subchannel_or_a_dasd_guests_use(hostdevs: dict[str, Any]) -> None:
    elig = hostdev(hostdevs, "css:0.0.0103")["eligibility"]
    assert not elig["ready"] and "QDIO" in elig["missing"][0]
    assert not any("driverctl" in m for m in elig["missing"])
    # the DASD behind 0.0.0100 is what zs1 and zs2 boot from: never advised offline, the reason instead
    (dasd,) = hostdev(hostdevs, "css:0.0.0100")["eligibility"]["missing"]
    assert dasd == "0.0.5d00 is used by guest zs1, zs2"


def test_zfcp_npiv_remote_port_and_lun_states(tree: dict[str, Any], hostdevs: dict[str, Any]) -> None:
    assert "access denied" in step(tree, "zs1", "vdb", "scsi")["warning"]
    wwpn = step(tree, "zs1", "vdb", "wwpn")
    assert "NPIV port 0xc05076ffe5005611" in wwpn["name"] and wwpn["warning"] == "remote port Blocked"
    assert "NPIV VPORT" in hostdev(hostdevs, "scsi_host:host2")["summary"]


def test_qeth_layer3_under_macvtap_lan_offline_and_bridge_role(tree: dict[str, Any]) -> None:
    qeth = step(tree, "zs1", "52:54:00:5e:00:01", "qeth")
    assert "LAN OFFLINE" in qeth["warning"] and "needs a layer-2 card" in qeth["warning"]
    uplink = step(tree, "zs1", "52:54:00:5e:00:02", "qeth")
    assert "bridge role primary" in uplink["name"] and "warning" not in uplink


def test_secure_execution_guest_is_warned(tree: dict[str, Any]) -> None:
    (host,) = tree["hosts"]
    zs2 = next(g for g in host["guests"] if g["name"] == "zs2")
    assert any("Secure Execution" in w for w in zs2["warnings"])


def test_sharing_conflict_on_each_guest_device(tree: dict[str, Any]) -> None:
    for guest, other in (("zs1", "zs2"), ("zs2", "zs1")):
        (warning,) = [w for w in device(tree, guest, "vda")["warnings"] if "also held" in w]
        assert warning.startswith("block /dev/dasdc is also held by") and f"{other} (vda)" in warning


def _warnings(doc: Any) -> list[str]:
    if isinstance(doc, dict):
        return [w for k, v in doc.items() for w in ([v] if k == "warning" and isinstance(v, str) else
                                                   v if k == "warnings" else _warnings(v))]
    return [w for item in doc for w in _warnings(item)] if isinstance(doc, list) else []


def test_one_path_not_operational_and_one_chpid_offline_are_named_each_once() -> None:
    """CHPID 4b not operational for subchannel 0.0.0200 (its POM), CHPID 4c varied offline (two subchannels
    use it): hostdevs names each once, where it is — the path on its subchannel, the CHPID on its own entry
    with its command — and each guest device behind them once."""
    hostdevs = _warnings(run("hostdevs", "z-paths"))
    assert [w for w in hostdevs if "CHPID" in w] == [
        "CHPID 4b not operational (POM): once the link to the control unit is repaired, chchp -v 1 4b verifies "
        "the path again",
        "CHPID 4c offline (chchp -v 1 4c)"]
    tree = run("tree", "z-paths")
    assert [w for w in _warnings(device(tree, "zp1", "vda")) if "CHPID" in w] == [hostdevs[0]]
    assert [w for w in _warnings(device(tree, "zp2", "vda")) if "CHPID" in w] == [
        "CHPID 4c offline (chchp -v 1 4c)"]
    assert not _warnings(device(tree, "zp2", "vdb"))  # 0.0.0203: both paths fine
