"""The lab's pieces that need neither root nor libvirtd: kernel image, XML, configuration, names, CLI.

Plus one root test that needs no running lab: a daemon that fails to start is reported with its log and
leaves nothing behind.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.lab.support import lab_unavailable
from ztui.cli import lab as cli
from ztui.cli import parsers
from ztui.lab.config import format_conf, libvirtd_conf, qemu_conf
from ztui.lab.daemon import lab_processes
from ztui.lab.errors import LabError
from ztui.lab.guests import BootSpec, domain_xml, host_guests
from ztui.lab.kernel import IMAGE_SIZE, WAIT_PSW_MASK, idle_kernel_bytes, write_idle_kernel
from ztui.lab.network import NETWORK_NAME, network_xml
from ztui.lab.paths import DEFAULT_LAB_DIR, ENV_LAB_DIR, LabPaths, host_name, lab_dir
from ztui.lab.state import LabState, load_state, save_state


def test_idle_kernel_layout(tmp_path: Path) -> None:
    image = idle_kernel_bytes()
    assert len(image) == IMAGE_SIZE == 1024
    mask, addr = struct.unpack_from(">II", image, 0)
    entry = addr & 0x7FFFFFFF
    assert mask == 0x00080000 and entry == 0x200
    opcode, operand = struct.unpack_from(">HH", image, entry)
    assert opcode == 0xB2B2  # LPSWE
    psw_mask, _psw_addr = struct.unpack_from(">QQ", image, operand & 0x0FFF)
    assert psw_mask == WAIT_PSW_MASK == 0x0202000180000000
    for bit in (6, 14, 31, 32):  # I/O, wait, EA, BA in IBM bit numbering
        assert psw_mask & (1 << (63 - bit))
    path = write_idle_kernel(tmp_path / "k" / "idle.img")
    assert path.read_bytes() == image


@pytest.mark.parametrize("index", [0, 1, 2])
def test_guest_xml_has_the_device_set(tmp_path: Path, index: int) -> None:
    guests = host_guests(index, host_name(index), lab_slot=3, linux=True)
    assert [g.running for g in guests] == ([True] * 4 if index == 0 else [True, False] if index == 1 else [True])
    macs: set[str] = set()
    for guest in guests:
        root = ET.fromstring(domain_xml(guest, BootSpec(tmp_path / "idle.img"), tmp_path, tmp_path))
        assert root.get("type") == "qemu" and root.findtext("name") == guest.name
        assert root.findtext("on_crash") == "preserve"
        assert root.find("cpu/model") is not None and root.findtext("cpu/model") == "qemu"
        devnos = [a.get("devno") for a in root.iter("address") if a.get("type") == "ccw"]
        assert len(devnos) == len(set(devnos)), "CCW device numbers must be unique"
        disks = root.findall("devices/disk")
        virtio = [d for d in disks if d.find("target").get("bus") == "virtio"]  # type: ignore[union-attr]
        assert 1 <= len(virtio) <= 3 and any(d.find("target").get("bus") == "scsi" for d in disks)  # type: ignore[union-attr]
        for nic in root.findall("devices/interface"):
            mac = nic.find("mac").get("address")  # type: ignore[union-attr]
            assert mac not in macs
            macs.add(mac)  # type: ignore[arg-type]
            if nic.get("type") == "network":
                assert nic.find("source").get("network") == NETWORK_NAME  # type: ignore[union-attr]
        assert root.find("devices/console/target").get("type") == "sclp"  # type: ignore[union-attr]


def test_network_xml_is_a_bridge_without_ip() -> None:
    root = ET.fromstring(network_xml("zlab-a-br0"))
    assert root.findtext("name") == NETWORK_NAME
    assert root.find("bridge").get("name") == "zlab-a-br0"  # type: ignore[union-attr]
    assert root.find("ip") is None and root.find("forward").get("mode") == "bridge"  # type: ignore[union-attr]


def test_conf_syntax() -> None:
    text = format_conf({"a": "x\"y", "b": 3, "c": [], "d": ["p", "q"], "e": False})
    assert 'a = "x\\"y"' in text and "b = 3" in text and "c = [  ]" in text
    assert 'd = [ "p", "q" ]' in text and "e = 0" in text
    assert libvirtd_conf("u")["host_uuid"] == "u" and "migration_host" not in qemu_conf((1, 2))


def test_names_and_ports_do_not_collide(tmp_path: Path) -> None:
    default, other = LabPaths(DEFAULT_LAB_DIR), LabPaths(tmp_path)
    assert default.bridge_name("zlab-a") == "zlab-a-br0"
    names = {p.bridge_name(host_name(i)) for p in (default, other) for i in range(26)}
    assert len(names) == 52 and all(len(n) <= 15 for n in names)
    ranges = [p.migration_ports(i) for p in (default, other) for i in range(26)]
    ports = [port for lo, hi in ranges for port in range(lo, hi + 1)]
    assert len(ports) == len(set(ports)) and max(ports) < 65536


def test_lab_dir_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_LAB_DIR, raising=False)
    assert lab_dir() == DEFAULT_LAB_DIR
    monkeypatch.setenv(ENV_LAB_DIR, str(tmp_path))
    assert lab_dir() == tmp_path
    with pytest.raises(LabError, match="/run"):
        lab_dir(Path("/run/ztui-lab"))
    with pytest.raises(LabError, match="too long"):
        LabPaths.for_dir(tmp_path / ("x" * 100))


def test_state_round_trip(tmp_path: Path) -> None:
    paths = LabPaths(tmp_path)
    assert load_state(paths) is None
    state = LabState()
    state.grow(2)
    state.hosts[0].provisioned = True
    save_state(paths, state)
    loaded = load_state(paths)
    assert loaded == state
    assert loaded is not None and len({h.host_uuid for h in loaded.hosts}) == 2
    loaded.grow(1)
    assert len(loaded.hosts) == 2  # never shrinks


def test_not_root_says_what_is_needed(monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert cli.main(["start", "--dir", "/var/tmp/ztui-lab-never"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs root" in err[0] and err[0].startswith("ztui: ")
    assert not Path("/var/tmp/ztui-lab-never").exists()


def test_add_lab_commands_wires_every_subcommand() -> None:
    parser = argparse.ArgumentParser()
    parsers.add_lab_commands(parser.add_subparsers())
    for argv in (["lab", "start", "--hosts", "3", "--linux"], ["lab", "status", "--json"], ["lab", "stop"],
                 ["lab", "testdriver", "--guests", "5", "--out", "x.xml"]):
        args = parser.parse_args(argv)
        assert callable(args.func)
    assert parser.parse_args(["lab", "start"]).hosts == 2


def test_testdriver_subcommand_calls_the_generator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[tuple[Path, int]] = []
    fake = types.ModuleType("ztui.lab.testdriver")
    fake.write_testdriver = lambda path, guests: calls.append((path, guests))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ztui.lab.testdriver", fake)
    out = tmp_path / "host.xml"
    assert cli.main(["testdriver", "--guests", "7", "--out", str(out)]) == 0
    assert calls == [(out, 7)]
    assert capsys.readouterr().out.strip() == f"test://{out.resolve()}"


@pytest.mark.lab
def test_failed_start_shows_the_log_and_cleans_up(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    reason = lab_unavailable()
    if reason:
        pytest.skip(reason)
    from ztui.lab import daemon, hosts

    fake = tmp_path / "libvirtd"
    fake.write_text("#!/bin/sh\necho 'fake libvirtd: refusing to start' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr("ztui.lab.hosts.find_binary",
                        lambda name, *fb: str(fake) if name == "libvirtd" else daemon.find_binary(name, *fb))
    base = tmp_path / "lab"
    with pytest.raises(LabError) as failure:
        hosts.start_lab(base_dir=base)
    assert "zlab-a" in str(failure.value) and "refusing to start" in failure.value.details
    assert not base.exists()
    assert lab_processes(LabPaths(base).hosts_dir) == []
