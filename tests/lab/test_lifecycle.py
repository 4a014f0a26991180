"""The daily actions on the lab's real libvirtd + QEMU: each proven by libvirt, never by the call's return.

Each test defines its own persistent guest (the idle kernel, one disk) so the lab's guests other tests
rely on keep their states. The idle kernel ignores shutdown and reboot requests, which is exactly the case
where a claim without proof would lie: those must end "requested, not seen" (exit 3) unless libvirt shows it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import sys
import uuid as uuidlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libvirt
import pytest

from tests.lab.support import Lab
from ztui.lab.kernel import write_idle_kernel
from ztui.lab.paths import ENV_LAB_DIR

A, B = "zlab-a", "zlab-b"


def own_guest_xml(tmp: Path, name: str) -> str:
    kernel = write_idle_kernel(tmp / f"{name}-kernel.img")
    disk = tmp / f"{name}-vda.img"
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(disk), "8M"], check=True)
    return f"""<domain type='qemu'><name>{name}</name><uuid>{uuidlib.uuid4()}</uuid>
<memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='s390x' machine='s390-ccw-virtio'>hvm</type><kernel>{kernel}</kernel></os>
<cpu mode='custom' match='exact'><model fallback='forbid'>qemu</model></cpu>
<on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>preserve</on_crash>
<devices><emulator>/usr/bin/qemu-system-s390x</emulator>
<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{disk}'/>
<target dev='vda' bus='virtio'/></disk>
<console type='pty'><target type='sclp' port='0'/></console></devices></domain>"""


def remove_everywhere(lab: Lab, name: str) -> None:
    for uri in lab.uris.values():
        conn = libvirt.open(uri)
        try:
            with contextlib.suppress(libvirt.libvirtError):
                dom = conn.lookupByName(name)
                if dom.isActive():
                    dom.destroy()
                dom.undefine()
        finally:
            conn.close()


@pytest.fixture
def own_guest(lab: Lab, tmp_path: Path) -> Iterator[str]:
    """A persistent, shut-off guest on zlab-b, removed from every host afterwards."""
    name = f"life{os.getpid() % 10000}{uuidlib.uuid4().hex[:4]}"
    conn = libvirt.open(lab.uris[B])
    try:
        conn.defineXML(own_guest_xml(tmp_path, name))
    finally:
        conn.close()
    yield name
    remove_everywhere(lab, name)


def ztui(*args: str, state: Path, lab: Lab | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_STATE_HOME": str(state)}
    if lab is not None:
        env[ENV_LAB_DIR] = str(lab.base)
    return subprocess.run([sys.executable, "-m", "ztui", *args], capture_output=True, text=True, timeout=120,
                          env=env, stdin=subprocess.DEVNULL)


def audit(state: Path) -> list[dict[str, Any]]:
    path = state / "ztui" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def state_of(lab: Lab, host: str, name: str) -> int:
    conn = libvirt.open(lab.uris[host])
    try:
        return int(conn.lookupByName(name).state()[0])
    finally:
        conn.close()


def run_json(*args: str, state: Path, expect: int = 0, lab: Lab | None = None) -> dict[str, Any]:
    result = ztui(*args, "--json", state=state, lab=lab)
    assert result.returncode == expect, (result.returncode, result.stdout, result.stderr)
    return dict(json.loads(result.stdout))


def test_cli_start_pause_resume_destroy_each_proven(lab: Lab, own_guest: str, tmp_path: Path) -> None:
    uri = lab.uris[B]
    started = run_json("start", own_guest, "-c", uri, state=tmp_path)
    assert started["ok"] and started["state"] == "running" and "started" in started["event"]
    assert started["virsh"] == shlex.join(["virsh", "-c", uri, "start", own_guest])
    assert state_of(lab, B, own_guest) == libvirt.VIR_DOMAIN_RUNNING

    again = ztui("start", own_guest, "-c", uri, state=tmp_path)
    assert again.returncode == 2 and "already running" in again.stderr and "nothing was changed" in again.stderr

    paused = run_json("suspend", own_guest, "-c", uri, state=tmp_path)
    assert paused["ok"] and paused["state"] == "paused" and "suspended" in paused["event"]
    assert state_of(lab, B, own_guest) == libvirt.VIR_DOMAIN_PAUSED
    resumed = run_json("resume", own_guest, "-c", uri, state=tmp_path)
    assert resumed["ok"] and resumed["state"] == "running"

    # the lab picks the host by itself and names it
    destroyed = run_json("--lab", "destroy", own_guest, state=tmp_path, lab=lab)
    assert destroyed["ok"] and destroyed["state"] == "shut off" and destroyed["uri"] == lab.ssh_uris[B]  # --lab: ssh
    assert state_of(lab, B, own_guest) == libvirt.VIR_DOMAIN_SHUTOFF

    records = [(r["action"], r["result"], r["via"]) for r in audit(tmp_path)]
    assert records == [("lifecycle-start", "done", "cli"), ("lifecycle-start", "refused", "cli"),
                       ("lifecycle-suspend", "done", "cli"), ("lifecycle-resume", "done", "cli"),
                       ("lifecycle-destroy", "done", "cli")]


def test_cli_shutdown_and_reboot_claim_only_what_libvirt_shows(lab: Lab, own_guest: str, tmp_path: Path) -> None:
    uri = lab.uris[B]
    run_json("start", own_guest, "-c", uri, state=tmp_path)
    outcomes = []
    for action in ("reboot", "shutdown"):
        result = ztui(action, own_guest, "-c", uri, "--timeout", "3", "--json", state=tmp_path)
        assert result.returncode in (0, 3), result.stderr
        out = json.loads(result.stdout)
        now = state_of(lab, B, own_guest)
        if result.returncode == 3:  # the idle kernel ignored it: said so, not claimed
            assert not out["ok"] and out["requested"] and "not seen" in out["message"]
            assert now == libvirt.VIR_DOMAIN_RUNNING
        elif action == "shutdown":
            assert out["ok"] and now == libvirt.VIR_DOMAIN_SHUTOFF
        outcomes.append("done" if result.returncode == 0 else "not proven")
    assert [r["result"] for r in audit(tmp_path)][-2:] == outcomes
    if state_of(lab, B, own_guest) == libvirt.VIR_DOMAIN_RUNNING:  # the outcome is said once, with what to do
        text = ztui("reboot", own_guest, "-c", uri, "--timeout", "1", state=tmp_path)
        if text.returncode == 3:
            both = text.stdout + text.stderr
            assert both.count("reboot requested, not seen") == 1 and "destroy" in both, both


def test_cli_refuses_in_readonly_and_for_a_guest_that_is_not_there(lab: Lab, own_guest: str,
                                                                  tmp_path: Path) -> None:
    uri = lab.uris[B]
    ro = ztui("start", own_guest, "-c", uri, "--readonly", state=tmp_path)
    assert ro.returncode == 2 and "read-only" in ro.stderr
    assert state_of(lab, B, own_guest) == libvirt.VIR_DOMAIN_SHUTOFF
    missing = ztui("--lab", "start", "no-such-guest", state=tmp_path, lab=lab)
    assert missing.returncode == 2 and "none of the hosts (4) has a guest named 'no-such-guest'" in missing.stderr


def test_offline_migration_moves_the_definition_and_starts_nothing(lab: Lab, own_guest: str,
                                                                   tmp_path: Path) -> None:
    a, b = lab.uris[A], lab.uris[B]
    result = ztui("migrate", own_guest, "--offline", "--undefine-source", "-c", b, "--to", a, "--json",
                  state=tmp_path)
    assert result.returncode == 0, (result.stdout, result.stderr)
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert objects[0]["type"] == "preflight" and "--offline --persistent --p2p" in objects[0]["virsh"]
    report = objects[-1]
    assert report["type"] == "report" and report["ok"] and report["offline"] and report["state"] == "shut off"
    conn_a, conn_b = libvirt.open(a), libvirt.open(b)
    try:
        dom = conn_a.lookupByName(own_guest)
        assert dom.isPersistent() and not dom.isActive()
        with pytest.raises(libvirt.libvirtError):
            conn_b.lookupByName(own_guest)
        # and back, with lab host names; without --undefine-source the source keeps its copy
        back = ztui("--lab", "migrate", own_guest, "--offline", "--to", B, state=tmp_path, lab=lab)
        assert back.returncode == 0, (back.stdout, back.stderr)
        assert "shut off" in back.stdout
        on_b = conn_b.lookupByName(own_guest)
        assert on_b.isPersistent() and not on_b.isActive()
        assert conn_a.lookupByName(own_guest).isPersistent()
    finally:
        conn_a.close()
        conn_b.close()
    assert [r["result"] for r in audit(tmp_path) if r["action"] == "migrate"] == ["done", "done"]


def test_offline_migration_of_a_running_guest_is_refused(lab: Lab, tmp_path: Path) -> None:
    result = ztui("migrate", "lnxb01", "--offline", "-c", lab.uris[B], "--to", lab.uris[A], state=tmp_path)
    assert result.returncode == 2 and "shut it down first" in result.stderr


def test_tree_with_lab_after_and_before_the_command(lab: Lab, tmp_path: Path) -> None:
    for args in (("tree", "--lab", "--json"), ("--lab", "tree", "--json")):
        result = ztui(*args, state=tmp_path, lab=lab)
        assert result.returncode == 0, result.stderr
        assert "lnxa01" in result.stdout and "lnxb01" in result.stdout
