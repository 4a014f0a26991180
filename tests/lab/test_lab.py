"""The lab against real libvirtd and QEMU: start, status, guests, hotplug, migration, restart, stop.

The tests share one session lab (conftest.py) and run in file order; each leaves the lab as it found it
(a migrated guest comes back), except the last, which stops it.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import libvirt
import pytest

from tests.lab.support import Lab
from ztui.cli import lab as cli
from ztui.lab.daemon import lab_processes
from ztui.lab.hosts import ensure_lab, lab_status, start_lab, stop_lab
from ztui.lab.paths import LabPaths

pytestmark = pytest.mark.lab

A, B = "zlab-a", "zlab-b"


def _wait(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def _qemu_pids(base: Path) -> set[int]:
    return {p.pid for p in lab_processes(LabPaths(base).hosts_dir) if p.name.startswith("qemu-system")}


def test_start_gives_two_hosts_quickly(lab: Lab) -> None:
    assert list(lab.uris) == [A, B]
    for uri in lab.uris.values():
        assert uri.startswith("qemu+unix:///system?socket=") and str(lab.base) in uri
    assert lab.start_seconds < 20, f"lab start took {lab.start_seconds:.1f} s"


def test_virsh_lists_the_guests(lab: Lab) -> None:
    listed = {}
    for name, uri in lab.uris.items():
        out = subprocess.run(["virsh", "-c", uri, "list", "--all"], check=True, capture_output=True,
                             text=True).stdout
        listed[name] = {line.split()[1]: " ".join(line.split()[2:]) for line in out.splitlines()[2:]
                        if line.strip()}
    assert listed[A] == {"lnxa01": "running", "lnxa02": "running", "lnxa03": "running"}
    assert listed[B] == {"lnxb01": "running", "lnxb02": "shut off"}


def test_status_json(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status", "--json", "--dir", str(lab.base)]) == 0
    status = json.loads(capsys.readouterr().out)
    hosts = {h["name"]: h for h in status["hosts"]}
    assert list(hosts) == ["zlab-z", "zlab-y", A, B]  # the simulated Z hosts first
    assert hosts["zlab-z"]["simulated"] and "z16" in hosts["zlab-z"]["simulated"]
    assert hosts["zlab-z"]["uri"] == lab.z_uri
    for name, host in hosts.items():
        assert set(host) == {"name", "uri", "tcp_uri", "ssh_uri", "pid", "guests", "simulated"}
        assert host["ssh_uri"] == lab.ssh_uris[name] and host["ssh_uri"].startswith("qemu+ssh://root@127.0.0.1:")
        assert host["uri"] == {"zlab-z": lab.z_uri, "zlab-y": lab.z_twin_uri}.get(name) or lab.uris[name]
        assert host["tcp_uri"] == lab.tcp_uris[name] and host["tcp_uri"].startswith("qemu+tcp://127.0.0.1:")
        assert Path(f"/proc/{host['pid']}/comm").read_text().strip() == "libvirtd"
    assert {g["name"]: g["state"] for g in hosts[B]["guests"]} == {"lnxb01": "running", "lnxb02": "shut off"}
    assert Path(f"/proc/{status['ssh']['pid']}/comm").read_text().strip() == "sshd"
    assert f":{status['ssh']['port']}/system?" in lab.ssh_uris[A]


def test_guests_have_a_kvm_on_z_device_set(conn_a: libvirt.virConnect) -> None:
    for dom in conn_a.listAllDomains(0):
        root = ET.fromstring(dom.XMLDesc(0))
        devices = root.find("devices")
        assert devices is not None
        vdisks = [d for d in devices.findall("disk") if d.find("target").get("bus") == "virtio"]  # type: ignore[union-attr]
        assert 2 <= len(vdisks) <= 3
        assert {d.find("driver").get("type") for d in vdisks} <= {"qcow2", "raw"}  # type: ignore[union-attr]
        assert all(d.find("address").get("type") == "ccw" for d in vdisks)  # type: ignore[union-attr]
        assert devices.find("controller[@model='virtio-scsi']") is not None
        assert any(d.find("target").get("bus") == "scsi" for d in devices.findall("disk"))  # type: ignore[union-attr]
        assert 1 <= len(devices.findall("interface")) <= 2
        assert devices.find("memballoon[@model='virtio']") is not None
        assert devices.find("console/target[@type='sclp']") is not None
        assert root.findtext("os/type") == "hvm" and root.find("os/type").get("arch") == "s390x"  # type: ignore[union-attr]
    kinds = {i.get("type") for d in conn_a.listAllDomains(0)
             for i in ET.fromstring(d.XMLDesc(0)).iter("interface")}
    assert {"user", "ethernet", "bridge"} <= kinds  # a network interface shows as bridge when running


def test_attach_and_detach_virtio_blk(lab: Lab, conn_a: libvirt.virConnect) -> None:
    image = lab.base / "images" / "hotplug-test.img"
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(image), "64M"], check=True)
    disk = ET.Element("disk", type="file", device="disk")
    ET.SubElement(disk, "driver", name="qemu", type="raw")
    ET.SubElement(disk, "source", file=str(image))
    ET.SubElement(disk, "target", dev="vdx", bus="virtio")
    ET.SubElement(disk, "address", type="ccw", cssid="0xfe", ssid="0x0", devno="0x0042")
    xml = ET.tostring(disk, encoding="unicode")
    dom = conn_a.lookupByName("lnxa01")

    def has_disk() -> bool:
        return any(t.get("dev") == "vdx" for t in ET.fromstring(dom.XMLDesc(0)).iter("target"))

    dom.attachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert has_disk()
    dom.detachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert _wait(lambda: not has_disk()), "vdx still attached 5 s after detach"
    image.unlink()


def test_live_migration_a_to_b_and_back(lab: Lab, conn_a: libvirt.virConnect,
                                        conn_b: libvirt.virConnect) -> None:
    params = {libvirt.VIR_MIGRATE_PARAM_URI: "tcp://127.0.0.1",
              libvirt.VIR_MIGRATE_PARAM_LISTEN_ADDRESS: "127.0.0.1"}
    flags = libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER | libvirt.VIR_MIGRATE_UNSAFE
    started = time.monotonic()
    conn_a.lookupByName("lnxa03").migrateToURI3(lab.uris[B], params, flags)
    elapsed = time.monotonic() - started
    moved = conn_b.lookupByName("lnxa03")
    assert moved.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    assert not conn_a.lookupByName("lnxa03").isActive()
    assert elapsed < 10, f"migration took {elapsed:.1f} s"
    moved.migrateToURI3(lab.uris[A], params, flags)  # leave the lab as it was
    assert conn_a.lookupByName("lnxa03").state()[0] == libvirt.VIR_DOMAIN_RUNNING


def test_second_start_reuses_the_lab(lab: Lab) -> None:
    before = {h.name: h.pid for h in lab_status(lab.base).hosts}
    hosts = start_lab(hosts=2, base_dir=lab.base)
    assert {h.name: h.pid for h in hosts} == before


def test_ensure_lab_is_quick_when_running(lab: Lab) -> None:
    started = time.monotonic()
    hosts = ensure_lab(lab.base)
    assert time.monotonic() - started < 0.5
    assert {h.name: h.uri for h in hosts} == {"zlab-z": lab.z_uri, "zlab-y": lab.z_twin_uri, **lab.uris}


def test_killed_daemon_is_restarted_and_keeps_its_guests(lab: Lab) -> None:
    status = {h.name: h for h in lab_status(lab.base).hosts}
    old_pid = status[B].pid
    assert old_pid is not None
    qemus = _qemu_pids(lab.base)
    os.kill(old_pid, 9)
    assert _wait(lambda: not Path(f"/proc/{old_pid}").exists() or
                 Path(f"/proc/{old_pid}/stat").read_text().split(") ")[1][0] == "Z")
    down = {h.name: h for h in lab_status(lab.base).hosts}[B]
    assert down.pid is None and down.guests == ()  # the stale pid file and socket are still there

    hosts = {h.name: h for h in start_lab(base_dir=lab.base)}
    assert hosts[B].pid not in (None, old_pid)
    assert hosts[A].pid == status[A].pid  # the healthy host was left alone
    again = {h.name: h for h in lab_status(lab.base).hosts}[B]
    assert {g.name: g.state for g in again.guests} == {"lnxb01": "running", "lnxb02": "shut off"}
    assert _qemu_pids(lab.base) == qemus  # the same QEMU processes, picked up by the new daemon


def test_lab_leaves_the_system_libvirt_alone(lab: Lab) -> None:
    for name in ("lnxa01", "lnxb01"):
        assert not Path("/etc/libvirt/qemu", f"{name}.xml").exists()
    assert not Path("/etc/libvirt/qemu/networks/zlab-br.xml").exists()
    for path in ("/run/libvirt/libvirtd.pid", "/run/libvirtd.pid"):
        if Path(path).exists():  # a system daemon's: it must not be one of ours
            pid = int(Path(path).read_text().split()[0])
            assert pid not in {h.pid for h in lab_status(lab.base).hosts}
    assert str(lab.base) not in Path("/proc/self/mountinfo").read_text()


def test_stop_leaves_nothing(lab: Lab) -> None:
    """On a lab of its own (one host), so the session's lab stays up for the tests after this one."""
    base = lab.base.with_name(lab.base.name + "-stop")
    own = start_lab(hosts=1, base_dir=base)
    lab = Lab(base, {h.name: h.uri for h in own}, 0.0)
    assert "zlab-z" in lab.uris and "zlab-y" in lab.uris
    loops = subprocess.run(["losetup", "-a"], capture_output=True, text=True).stdout
    assert str(base / "images" / "zlab-z") in loops  # the Z host's disks are loop devices
    paths = LabPaths(lab.base)
    bridges = [paths.bridge_name(name) for name in lab.uris]
    assert all(Path("/sys/class/net", b).exists() for b in bridges)
    started = time.monotonic()
    assert stop_lab(lab.base) is True
    elapsed = time.monotonic() - started
    assert lab_processes(paths.hosts_dir) == []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
                mounts = (proc / "mountinfo").read_text()
            except OSError:
                continue
            assert str(lab.base) not in cmdline, f"process {proc.name} still refers to the lab"
            assert str(paths.hosts_dir) not in mounts, f"process {proc.name} still has lab mounts"
    assert not lab.base.exists()
    assert not any(Path("/sys/class/net", b).exists() for b in bridges)
    assert str(base) not in subprocess.run(["losetup", "-a"], capture_output=True, text=True).stdout
    assert elapsed < 10, f"stop took {elapsed:.1f} s"
    assert stop_lab(lab.base) is False  # idempotent
    assert not lab.base.exists()
