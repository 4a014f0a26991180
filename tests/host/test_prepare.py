"""`ztui prepare` / `unprepare` on a umockdev Z host, with the kernel's part played by `fake_kernel.py`.

The CLI runs as on a real host: it reads udev and sysfs (faked by umockdev), writes the attributes, and
asks libvirt (the test driver) for the mdev. What is checked is what an administrator would check: the
attributes written and their order (logged by the fake kernel from inotify), the node-device XML
libvirt was handed (libvirt's own debug log of the API call), the refusals before any write, and the
rollback that gives everything back when libvirt refuses the mdev (the test driver cannot define one).
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
REPO = HERE.parent.parent
DATA = REPO / "tests" / "fixtures" / "prepare"
HOST = DATA / "z-prepare.umockdev"
URI = f"test://{DATA / 'z-prepare-guests.xml'}"

pytestmark = pytest.mark.skipif(shutil.which("umockdev-run") is None,
                                reason="umockdev-run is not installed (Debian package umockdev)")
pytest.importorskip("libvirt", reason="libvirt-python is not installed")


#: DASD 0.0.5c3f prepared in the documented order (offline, override, unbind, probe), then given back in reverse
PREPARED_AND_GIVEN_BACK = [
    "bus/ccw/devices/0.0.5c3f/online=0",
    "bus/css/devices/0.0.0010/driver_override=vfio_ccw",
    "bus/css/drivers/io_subchannel/unbind=0.0.0010",
    "bus/css/drivers_probe=0.0.0010",
    "bus/css/devices/0.0.0010/driver_override=",
    "bus/css/drivers/vfio_ccw/unbind=0.0.0010",
    "bus/css/drivers_probe=0.0.0010",
    "bus/ccw/devices/0.0.5c3f/online=1",
]


def prepare(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[str], str]:
    """Run `ztui ARGS…` under umockdev and the fake kernel: the process, the writes in order, libvirt's log."""
    writes = tmp_path / "writes.log"
    libvirt_log = tmp_path / "libvirt.log"
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1", "XDG_STATE_HOME": str(tmp_path / "state"),
           "ZTUI_DRIVERCTL_DIR": str(tmp_path / "driverctl.d"),
           "LIBVIRT_LOG_FILTERS": "1:libvirt", "LIBVIRT_LOG_OUTPUTS": f"1:file:{libvirt_log}"}
    result = subprocess.run(["umockdev-run", "-d", str(HOST), "--", sys.executable, str(HERE / "fake_kernel.py"),
                             str(writes), "--", sys.executable, str(HERE / "run_cli.py"), *args, "-c", URI],
                            capture_output=True, text=True, timeout=120, env=env, cwd=REPO, stdin=subprocess.DEVNULL)
    order = writes.read_text().splitlines() if writes.exists() else []
    log = libvirt_log.read_text(errors="replace") if libvirt_log.exists() else ""
    return result, order, log


def shell(tmp_path: Path, script: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """A shell script of `ztui …` commands under umockdev and the fake kernel: the process and the writes."""
    writes = tmp_path / "shell-writes.log"
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1", "XDG_STATE_HOME": str(tmp_path / "state"),
           "ZTUI_DRIVERCTL_DIR": str(tmp_path / "driverctl.d")}
    result = subprocess.run(["umockdev-run", "-d", str(HOST), "--", sys.executable, str(HERE / "fake_kernel.py"),
                             str(writes), "--", "/bin/sh", "-c", script],
                            capture_output=True, text=True, timeout=180, env=env, cwd=REPO, stdin=subprocess.DEVNULL)
    return result, writes.read_text().splitlines() if writes.exists() else []


def test_dry_run_prints_the_plan_as_commands_and_writes_nothing(tmp_path: Path) -> None:
    result, writes, _ = prepare(tmp_path, "prepare", "vfio-ccw", "0.0.5c3f", "--dry-run",
                                "--uuid", "1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    commands = [line.strip() for line in lines if line.startswith("   ") and not line.startswith("     ")]
    assert commands == ["chccwdev -d 0.0.5c3f",
                        "driverctl -b css set-override 0.0.0010 vfio_ccw",
                        f"(saved by driverctl as {tmp_path}/driverctl.d/css-0.0.0010)",
                        "virsh nodedev-define mdev-1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0.xml",
                        "virsh nodedev-start mdev_1f0e2d3c_4b5a_4968_8776_a5b4c3d2e1f0_css_0_0_0010",
                        "virsh nodedev-autostart mdev_1f0e2d3c_4b5a_4968_8776_a5b4c3d2e1f0_css_0_0_0010"]
    assert "echo 0 > /sys/bus/ccw/devices/0.0.5c3f/online" in result.stdout
    assert "echo vfio_ccw > /sys/bus/css/devices/0.0.0010/driver_override" in result.stdout
    assert writes == []
    assert not (tmp_path / "driverctl.d").exists()


def test_prepare_writes_in_order_hands_libvirt_the_mdev_xml_and_rolls_back_when_refused(tmp_path: Path) -> None:
    uuid = "1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
    result, writes, log = prepare(tmp_path, "prepare", "vfio-ccw", "0.0.5c3f", "--uuid", uuid, "--json")
    assert result.returncode == 1, result.stderr  # the test driver cannot define node devices
    doc: dict[str, Any] = json.loads(result.stdout)
    assert "define" in doc["error"] and not doc["ok"] and doc["not_undone"] == []
    assert writes == PREPARED_AND_GIVEN_BACK
    # what libvirt was handed, from libvirt's own log of the API call
    assert "virNodeDeviceDefineXML" in log
    assert "<parent>css_0_0_0010</parent>" in log and "<type id=\"vfio_ccw-io\" />" in log
    assert f"<uuid>{uuid}</uuid>" in log
    assert not (tmp_path / "driverctl.d" / "css-0.0.0010").exists()  # the saved override is gone again
    audit = [json.loads(line) for line in (tmp_path / "state" / "ztui" / "audit.jsonl").read_text().splitlines()]
    assert audit[-1]["action"] == "prepare" and audit[-1]["result"] == "failed, undone"
    assert not list((tmp_path / "state" / "ztui" / "journal").glob("*.json"))  # closed: all undone, proven


@pytest.mark.parametrize(("args", "reason"), [
    (("vfio-ccw", "0.0.1700"), "QDIO"),
    (("vfio-ccw", "0.0.5cfe"), "PAV alias"),
    (("vfio-ccw", "0.0.5c40"), "held by dm-3"),
    (("vfio-ccw", "0.0.5c42"), "used by guest lnx01"),
    (("vfio-ccw", "0.0.9999"), "no ccw device 0.0.9999"),
    (("vfio-ccw", "0.0.zz"), "bus-ID"),
    (("vfio-ap", "--adapter", "0x0d", "--domain", "0x38"), "already in mdev 4b4c5e2a"),
    (("vfio-ap", "--adapter", "0x0c", "--domain", "0x99"), "does not exist"),
    (("vfio-ap", "--adapter", "300", "--domain", "1"), "out of range"),
    (("pci", "0002:00:00.0", "--unmanaged"), "ens2 is up"),
])
def test_refusals_exit_2_with_one_line_and_write_nothing(tmp_path: Path, args: tuple[str, ...], reason: str) -> None:
    result, writes, _ = prepare(tmp_path, "prepare", *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert reason in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert writes == [] and result.stdout == ""


def test_unprepare_refuses_an_mdev_a_guest_uses(tmp_path: Path) -> None:
    result, writes, _ = prepare(tmp_path, "unprepare", "vfio-ccw", "0.0.5c41")
    assert result.returncode == 2
    assert "used by guest lnx01" in result.stderr and writes == []


def test_readonly_refuses_before_any_write(tmp_path: Path) -> None:
    result, writes, _ = prepare(tmp_path, "prepare", "vfio-ccw", "0.0.5c3f", "--readonly")
    assert result.returncode == 2 and "--readonly" in result.stderr and writes == []


def test_vfio_ap_plan_releases_the_adapter_then_defines_the_matrix(tmp_path: Path) -> None:
    result, writes, _ = prepare(tmp_path, "prepare", "vfio-ap", "--adapter", "0x0c", "--domain", "0x0038,57",
                                "--control-domain", "0x38", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)["plan"]
    assert next(s["command"] for s in plan["steps"]) == "echo -0x0c > /sys/bus/ap/apmask"
    xml = plan["steps"][1]["xml"]
    assert "<parent>ap_matrix</parent>" in xml and "vfio_ap-passthrough" in xml
    assert xml.index("assign_adapter") < xml.index("assign_domain") < xml.index("assign_control_domain")
    assert '<attr name="assign_domain" value="0x0039" />' in xml
    assert any("0c.0001" in note for note in plan["notes"])  # the host loses that queue too: said first
    assert writes == []


def test_vfio_ap_release_is_written_and_given_back_when_libvirt_refuses(tmp_path: Path) -> None:
    result, writes, _ = prepare(tmp_path, "prepare", "vfio-ap", "--adapter", "0x0c", "--domain", "0x0038")
    assert result.returncode == 1
    assert writes == ["bus/ap/apmask=-0x0c", "bus/ap/apmask=+0x0c"]


def test_pci_managed_needs_nothing_and_says_so(tmp_path: Path) -> None:
    result, writes, _ = prepare(tmp_path, "prepare", "pci", "0001:00:00.0")
    assert result.returncode == 0, result.stderr
    assert "nothing to change" in result.stdout and "managed='yes'" in result.stdout
    assert writes == []


def test_unprepare_gives_the_subchannel_back_and_sets_the_dasd_online(tmp_path: Path) -> None:
    saved = tmp_path / "driverctl.d" / "css-0.0.0015"
    saved.parent.mkdir()
    saved.write_text("vfio_ccw\n")
    result, writes, _ = prepare(tmp_path, "unprepare", "vfio-ccw", "0.0.5c43")
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert writes == ["bus/css/devices/0.0.0015/driver_override=",
                      "bus/css/drivers/vfio_ccw/unbind=0.0.0015",
                      "bus/css/drivers_probe=0.0.0015",
                      "bus/ccw/devices/0.0.5c43/online=1"]
    assert not saved.exists()
    assert "done: give 0.0.0015 back to io_subchannel" in result.stdout


def test_a_preparation_killed_half_way_is_listed_and_rolled_back_from_the_journal(tmp_path: Path) -> None:
    """SIGKILL after the subchannel was bound (the step that saves the override was recorded, not run):
    `ztui journal` lists it with the step it reached, and `journal rollback` gives everything back."""
    cli = f"{sys.executable} {HERE / 'run_cli.py'}"
    script = (f"ZTUI_FAULT_STEP=prepare:3:write-file ZTUI_FAULT_RUN='kill -9 $ZTUI_PID' "
              f"{cli} prepare vfio-ccw 0.0.5c3f -c {URI} >/dev/null; echo killed=$?; "
              f"{cli} journal --json -c {URI} > {tmp_path}/journal.json; "
              f"{cli} journal rollback $({sys.executable} -c \"import json; "
              f"print(json.load(open('{tmp_path}/journal.json'))[0]['id'])\") -c {URI}; echo rollback=$?; "
              f"{cli} journal")
    result, writes = shell(tmp_path, script)
    assert "killed=137" in result.stdout, (result.stdout, result.stderr)
    listed = json.loads((tmp_path / "journal.json").read_text())
    assert [(e["action"], e["step"]) for e in listed] == [("prepare", "3:write-file")]
    assert "rollback=0" in result.stdout, (result.stdout, result.stderr)
    assert "no unfinished operations" in result.stdout
    assert writes == PREPARED_AND_GIVEN_BACK


def test_finishing_an_interrupted_preparation_plans_again_and_takes_nothing_a_guest_took_meanwhile(
        tmp_path: Path) -> None:
    """Killed before its first write (the DASD still online), the preparation of 0.0.5c3f waits in the journal.
    Meanwhile a guest is defined on 0.0.5c3f: `journal finish` plans again, refuses (exit 2, the guest named,
    nothing written) and leaves the entry for `journal rollback`."""
    guests = tmp_path / "guests.xml"
    guests.write_text((DATA / "z-prepare-guests.xml").read_text())
    uri = f"test://{guests}"
    cli = f"{sys.executable} {HERE / 'run_cli.py'}"
    taken = (DATA / "z-prepare-guests.xml").read_text().replace("</node>", """  <domain type='test'>
    <name>lnx02</name>
    <uuid>6a1c2e3f-4b5a-4c6d-8e7f-0a1b2c3d4e52</uuid>
    <memory>1048576</memory>
    <os><type arch='s390x' machine='s390-ccw-virtio'>hvm</type></os>
    <devices>
      <disk type='block' device='disk'>
        <source dev='/dev/disk/by-path/ccw-0.0.5c3f'/>
        <target dev='vda' bus='virtio'/>
      </disk>
    </devices>
  </domain>
</node>""")
    (tmp_path / "taken.xml").write_text(taken)
    script = (f"ZTUI_FAULT_STEP=prepare:1:sysfs ZTUI_FAULT_RUN='kill -9 $ZTUI_PID' "
              f"{cli} prepare vfio-ccw 0.0.5c3f -c {uri} >/dev/null; echo killed=$?; "
              f"cp {tmp_path}/taken.xml {guests}; "
              f"{cli} journal --json -c {uri} > {tmp_path}/journal.json; "
              f"id=$({sys.executable} -c \"import json; print(json.load(open('{tmp_path}/journal.json'))[0]['id'])\"); "
              f"{cli} journal finish $id -c {uri}; echo finish=$?; {cli} journal --json -c {uri}")
    result, writes = shell(tmp_path, script)
    assert "killed=137" in result.stdout, (result.stdout, result.stderr)
    assert "finish=2" in result.stdout, (result.stdout, result.stderr)
    assert "0.0.5c3f is used by guest lnx02: finishing" in result.stderr and "journal rollback" in result.stderr
    assert writes == []  # nothing was written, before or after
    still = json.loads(result.stdout.split("finish=2", 1)[1])
    assert [(e["action"], e["step"]) for e in still] == [("prepare", "1:sysfs")]
