"""`ztui attach` / `ztui detach` on the real lab: proven results, exit statuses, nothing changed on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import libvirt
import pytest

from tests.lab.support import Lab, shared_image, shared_path

A = "zlab-a"


def ztui(*args: str, state: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_STATE_HOME": str(state)}
    return subprocess.run([sys.executable, "-m", "ztui", *args], capture_output=True, text=True, timeout=120,
                          env=env, stdin=subprocess.DEVNULL)


def _targets(conn: libvirt.virConnect, guest: str) -> list[str]:
    out = subprocess.run(["virsh", "-c", conn.getURI(), "domblklist", guest], capture_output=True, text=True,
                         check=True).stdout
    return [line.split()[0] for line in out.splitlines()[2:] if line.strip()]


def _audit(state: Path) -> list[dict[str, object]]:
    path = state / "ztui" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_new_image_attach_then_detach(lab: Lab, conn_a: libvirt.virConnect, tmp_path: Path) -> None:
    uri = lab.uris[A]
    image = shared_path(lab, "new.qcow2")
    result = ztui("attach", "lnxa03", "--disk", str(image), "--size", "64M", "-c", uri, "--json", state=tmp_path)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["outcome"] == "attached" and doc["target"] in _targets(conn_a, "lnxa03")
    assert doc["address"].startswith("0.0.") and "attach-device lnxa03" in doc["virsh"]
    assert image.exists()
    target = doc["target"]
    detached = ztui("detach", "lnxa03", target, "-c", uri, state=tmp_path)
    assert detached.returncode == 0, detached.stderr
    assert f"removed: {target}" in detached.stdout
    assert target not in _targets(conn_a, "lnxa03")
    assert [e["result"] for e in _audit(tmp_path)] == ["attached", "removed"]


def test_detach_by_busid_and_alias(lab: Lab, conn_a: libvirt.virConnect, tmp_path: Path) -> None:
    uri = lab.uris[A]
    image = shared_image(lab, "b.img")
    doc = json.loads(ztui("attach", "lnxa03", "--disk", str(image), "--devno", "0.0.0042", "-c", uri, "--json",
                          state=tmp_path).stdout)
    assert doc["address"] == "0.0.0042"
    assert ztui("detach", "lnxa03", "0.0.0042", "-c", uri, state=tmp_path).returncode == 0
    doc = json.loads(ztui("attach", "lnxa03", "--disk", str(image), "-c", uri, "--json", state=tmp_path).stdout)
    assert ztui("detach", "lnxa03", doc["alias"], "-c", uri, state=tmp_path).returncode == 0
    assert doc["target"] not in _targets(conn_a, "lnxa03")


@pytest.mark.parametrize("case", ["missing file", "taken devno", "taken target", "used by a running guest",
                                  "size on existing file", "live on shut-off guest", "bad devno", "bad size"])
def test_bad_input_exits_2_and_changes_nothing(lab: Lab, conn_a: libvirt.virConnect, tmp_path: Path,
                                               case: str) -> None:
    uri = lab.uris[A]
    image = shared_image(lab, "ok.img")
    new = shared_path(lab, "n.img")
    before = conn_a.lookupByName("lnxa03").XMLDesc(0)
    guest, extra = "lnxa03", [str(image)]
    args = {
        "missing file": ["--disk", str(shared_path(lab, "nope.img"))],
        "taken devno": ["--disk", str(image), "--devno", "0.0.0000"],
        "taken target": ["--disk", str(image), "--target", "vda"],
        "used by a running guest": ["--disk", str(lab.base / "images" / "lnxa01-vdb.img")],
        "size on existing file": ["--disk", str(image), "--size", "8M"],
        "live on shut-off guest": ["--disk", str(image), "--live"],
        "bad devno": ["--disk", str(image), "--devno", "0.0.10000"],
        "bad size": ["--disk", str(new), "--size", "lots"],
    }[case]
    if case == "live on shut-off guest":
        uri, guest = lab.uris["zlab-b"], "lnxb02"
    del extra
    result = ztui("attach", guest, *args, "-c", uri, state=tmp_path)
    assert result.returncode == 2, (case, result.stdout, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("ztui: ")
    assert conn_a.lookupByName("lnxa03").XMLDesc(0) == before
    assert not new.exists()


def test_libvirt_refusal_is_exit_1_and_leaves_no_new_image(lab: Lab, tmp_path: Path) -> None:
    """No VFIO on this host: libvirt's real refusal of a PCI hostdev comes through as its own reason."""
    result = ztui("attach", "lnxa03", "--pci", "0000:00:01.0", "-c", lab.uris[A], state=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("ztui: ") and "Traceback" not in result.stderr


def test_readonly_refuses(lab: Lab, tmp_path: Path) -> None:
    result = ztui("--readonly", "detach", "lnxa03", "vda", "-c", lab.uris[A], state=tmp_path)
    assert result.returncode == 2 and "read-only" in result.stderr


X86_NO_OS = """<domain type='qemu'><name>x86-no-os</name><memory unit='MiB'>64</memory>
<os><type arch='x86_64' machine='pc'>hvm</type></os><features><acpi/></features>
<devices><emulator>/usr/bin/qemu-system-x86_64</emulator><graphics type='vnc' port='-1' listen='127.0.0.1'/></devices>
</domain>"""


def test_x86_guest_without_os_never_reports_success(lab: Lab, conn_a: libvirt.virConnect, tmp_path: Path) -> None:
    if not Path("/usr/bin/qemu-system-x86_64").exists():
        pytest.skip("qemu-system-x86_64 is not installed")
    dom = conn_a.createXML(X86_NO_OS, 0)  # transient: gone when destroyed
    try:
        image = shared_image(lab, "x.img")
        attached = ztui("attach", "x86-no-os", "--disk", str(image), "-c", lab.uris[A], "--json", state=tmp_path)
        assert attached.returncode == 0, attached.stderr
        target = json.loads(attached.stdout)["target"]
        started = time.monotonic()
        result = ztui("detach", "x86-no-os", target, "--timeout", "3", "-c", lab.uris[A], "--json", state=tmp_path)
        elapsed = time.monotonic() - started
        assert result.returncode == 3, result.stderr
        assert json.loads(result.stdout)["outcome"] == "removal pending"
        assert "did not release" in result.stderr
        assert elapsed < 3 + 5  # within its timeout (plus the process start), not libvirt's own 5 s on top
        assert target in _targets(conn_a, "x86-no-os")  # and it really is still there
    finally:
        dom.destroy()
