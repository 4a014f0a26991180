"""Host facts recorded and replayed: `ztui hostfacts save` on this machine, then `ztui tree --host-facts`
gives the tree a live read gives; snapshots that are not usable are refused with one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ztui.host.facts_source import (
    FORMAT,
    VERSION,
    FactsOrigin,
    SnapshotError,
    load_snapshot,
    snapshot_from_json,
    snapshot_json,
    socket_snapshot,
)
from ztui.lab.zhost import z_host_facts

pytest.importorskip("libvirt", reason="libvirt-python is not installed")


def ztui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ztui", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NO_COLOR": "1"}, stdin=subprocess.DEVNULL)


@pytest.fixture
def host_file(tmp_path: Path) -> Path:
    """A test-driver host whose guest uses this machine's files: an image, a missing one, /dev/null."""
    image = tmp_path / "disk.img"
    image.write_bytes(b"\0" * 65536)
    node = tmp_path / "host.xml"
    node.write_text(f"""<node>
  <domain type='test'>
    <name>rec</name>
    <uuid>5b0f2a8e-4c1d-4e8a-9f3b-2d7c6e1a0b9c</uuid>
    <memory>524288</memory>
    <os><type arch='s390x' machine='s390-ccw-virtio'>hvm</type></os>
    <devices>
      <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{image}'/>
        <target dev='vda' bus='virtio'/></disk>
      <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='{tmp_path}/gone.qcow2'/>
        <target dev='vdb' bus='virtio'/></disk>
      <disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='/dev/loop0'/>
        <target dev='vdc' bus='virtio'/></disk>
      <interface type='bridge'><mac address='52:54:00:01:02:03'/><source bridge='nosuchbr0'/>
        <model type='virtio'/></interface>
    </devices>
  </domain>
</node>
""")
    return node


def _guests(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    (host,) = json.loads(result.stdout)["hosts"]
    guests: list[dict[str, Any]] = host["guests"]
    return guests


def test_save_and_replay_give_the_live_tree(host_file: Path, tmp_path: Path) -> None:
    uri = f"test://{host_file}"
    snapshot = tmp_path / "facts.json"
    saved = ztui("hostfacts", "save", str(snapshot), "-c", uri)
    assert saved.returncode == 0, saved.stderr
    doc = json.loads(snapshot.read_text())
    assert doc["format"] == FORMAT and doc["version"] == VERSION and doc["origin"] == "recorded"
    assert {f["path"] for f in doc["files"]} >= {str(tmp_path / "disk.img"), str(tmp_path / "gone.qcow2")}

    live = _guests(ztui("tree", "--json", "-c", uri))
    replayed = ztui("tree", "--json", "-c", uri, "--host-facts", str(snapshot))
    assert _guests(replayed) == live
    assert json.loads(replayed.stdout)["hosts"][0]["host_facts"].startswith("host facts recorded")
    chain = [s["kind"] for s in live[0]["devices"][0]["backing"]]
    assert chain[:2] == ["file", "mount"]  # the image was examined: the replay holds real facts

    # saved XML without any connection, against the same facts: the same disk chains
    offline = _guests(ztui("tree", "--json", "--domain-xml", str(host_file), "--host-facts", str(snapshot)))
    def chains(guest: dict[str, Any]) -> list[tuple[str, list[Any]]]:
        return [(d["target"], d["backing"]) for d in guest["devices"] if d["kind"] == "disk"]

    assert chains(offline[0]) == chains(live[0])


def test_without_host_facts_saved_xml_has_no_chains(host_file: Path) -> None:
    (guest,) = _guests(ztui("tree", "--json", "--domain-xml", str(host_file)))
    assert all(len(d["backing"]) <= 1 for d in guest["devices"])


@pytest.mark.parametrize(("content", "words"), [
    ("not json at all", "not JSON"),
    ('{"hosts": []}', "not a ztui host-facts snapshot"),
    ('{"format": "ztui-host-facts", "version": 99}', "version 99"),
    ('{"format": "ztui-host-facts", "version": 1, "devices": [{"kind": "warp-drive"}]}', "damaged"),
    ('{"format": "ztui-host-facts", "version": 1, "origin": "live"}', "damaged"),
])
def test_bad_snapshots_are_refused_in_one_line(tmp_path: Path, host_file: Path, content: str, words: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    for args in (("--domain-xml", str(host_file)), ("-c", f"test://{host_file}")):
        result = ztui("tree", *args, "--host-facts", str(bad))
        assert result.returncode == 2 and result.stdout == ""
        (line,) = result.stderr.splitlines()
        assert words in line and str(bad) in line


def test_missing_snapshot_and_unwritable_save(tmp_path: Path, host_file: Path) -> None:
    result = ztui("tree", "--domain-xml", str(host_file), "--host-facts", str(tmp_path / "nope.json"))
    assert result.returncode == 2 and "cannot read" in result.stderr
    saved = ztui("hostfacts", "save", str(tmp_path / "no" / "dir.json"), "-c", f"test://{host_file}")
    assert saved.returncode == 2 and len(saved.stderr.splitlines()) == 1
    remote = ztui("hostfacts", "save", str(tmp_path / "r.json"), "-c", "qemu+ssh://elsewhere/system")
    assert remote.returncode == 2 and "not this machine" in remote.stderr
    assert not (tmp_path / "r.json").exists()


def test_snapshot_json_round_trip() -> None:
    facts = z_host_facts()
    again = snapshot_from_json(json.loads(json.dumps(snapshot_json(facts))))
    assert again.devices == facts.devices and again.mounts == facts.mounts and again.swaps == facts.swaps
    assert again.origin is FactsOrigin.SIMULATED and again.description == facts.description


def test_a_version_1_snapshot_is_read_in_the_kernels_words() -> None:
    """Version 1 kept each subchannel's CHPID states as `chp_states`, named AP cards and queues `0x07` and
    `0x07.0x0038` and a vfio-ap mdev's matrix `ap_queues`: read, they are channel path records, `card07`,
    `07.0038` and the kernel's `matrix`."""
    from ztui.host.inventory import build_inventory
    from ztui.model import HostDeviceKind

    doc = {"format": FORMAT, "version": 1, "origin": "recorded", "devices": [
        {"kind": "css", "name": "0.0.0010", "id": "0.0.0010", "facts": [
            ["chpids", "05 06 00 00 00 00 00 00"], ["pimpampom", "c0 c0 ff"], ["chp_states", "05:1:1:1b 06:0:1:1b"]]},
        {"kind": "ap_card", "name": "card07", "id": "0x07"},
        {"kind": "ap_queue", "name": "07.0038", "id": "0x07.0x0038"},
        {"kind": "mdev", "name": "m", "id": "4b4c5e2a-7d62-4f5b-8d1e-0a1b2c3d4e5f",
         "facts": [["ap_queues", "0x07.0x0038,0x07.0x0039"]]}]}
    facts = snapshot_from_json(doc)
    inv = build_inventory(facts.devices, local=True)
    assert inv.get(HostDeviceKind.AP_CARD, "card07") and inv.get(HostDeviceKind.AP_QUEUE, "07.0038")
    chp06 = inv.get(HostDeviceKind.CHPID, "0.06")
    assert chp06 is not None and chp06.fact("status") == "offline" and chp06.fact("type") == "1b"
    mdev = inv.get(HostDeviceKind.MDEV, "4b4c5e2a-7d62-4f5b-8d1e-0a1b2c3d4e5f")
    assert mdev is not None and mdev.fact("matrix") == "07.0038\n07.0039" and not mdev.fact("ap_queues")
    from ztui.facts import subchannel_paths

    css = inv.get(HostDeviceKind.CSS, "0.0.0010")
    assert css is not None
    assert [p.problem for p in subchannel_paths(css, lambda c: inv.get(HostDeviceKind.CHPID, c))] == [
        "", "CHPID 06 offline (chchp -v 1 06)"]


def test_a_snapshot_beside_a_socket_is_found(tmp_path: Path) -> None:
    (tmp_path / "ztui-hostfacts.json").write_text(json.dumps(snapshot_json(z_host_facts())))
    uri = f"qemu+unix:///system?socket={tmp_path}/libvirt-sock"
    assert socket_snapshot(uri) == str(tmp_path / "ztui-hostfacts.json")
    assert socket_snapshot("qemu:///system") is None
    assert socket_snapshot(f"qemu+unix:///system?socket={tmp_path}/sub/libvirt-sock") is None
    assert load_snapshot(str(tmp_path / "ztui-hostfacts.json")).hostname == "zlab-z"
    with pytest.raises(SnapshotError):
        load_snapshot(str(tmp_path))
