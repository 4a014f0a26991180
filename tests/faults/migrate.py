"""Migration scenarios for the fault bench: `ztui migrate --detach vdq` of a fresh guest from zlab-a to
zlab-b, struck by a killed daemon (at a libvirt migration phase, restarted after a random delay or not at
all), a signal to ztui (after a named step, or at a random moment while data moves), a state directory
that becomes unwritable, or a second migration of the same guest."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import libvirt

from tests.faults.harness import A, B, Try, Verdict, json_objects, scenario
from ztui.lab.kernel import idle_kernel_bytes
from ztui.lab.strike import PhaseStriker
from ztui.libvirtxml.domain import parse_domain

MOVED = "vdq"
SOURCE_PHASES = ("begin3", "perform3", "perform3@paused", "perform3_done", "confirm3")
DESTINATION_PHASES = ("prepare", "finish3", "finish3@running")
ZTUI_STEPS = ("intent", "detached", "migrating", "migrate-returned", "located")
SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


def _disk(path: Path, target: str) -> str:
    return (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{path}'/>"
            f"<target dev='{target}' bus='virtio'/></disk>")


def _image(path: Path) -> Path:
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(path), "8M"], check=True)
    return path


def new_guest(t: Try, random_mib: int) -> tuple[str, Path]:
    """A transient guest on zlab-a with `random_mib` MiB of random memory (time for a fault to land) and
    the disk vdq that the migration moves; its name and vdq's image."""
    name = f"flt{os.getpid() % 1000}{t.number:04d}{uuid.uuid4().hex[:3]}"
    kernel = t.work / "kernel.img"
    with kernel.open("wb") as f:
        boot = idle_kernel_bytes()
        f.write(boot + bytes((1 << 20) - len(boot)) + os.urandom(random_mib << 20))
    xml = f"""<domain type='qemu'><name>{name}</name><uuid>{uuid.uuid4()}</uuid>
<memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='s390x' machine='s390-ccw-virtio'>hvm</type><kernel>{kernel}</kernel></os>
<cpu mode='custom' match='exact'><model fallback='forbid'>qemu</model></cpu><on_crash>preserve</on_crash>
<devices><emulator>/usr/bin/qemu-system-s390x</emulator>{_disk(_image(t.work / 'vda.img'), 'vda')}
<console type='pty'><target type='sclp' port='0'/></console></devices></domain>"""
    conn = t.connect(A)
    try:
        dom = conn.createXML(xml, 0)
        moved = _image(t.work / "vdq.img")
        dom.attachDeviceFlags(_disk(moved, MOVED), libvirt.VIR_DOMAIN_AFFECT_LIVE)
    finally:
        conn.close()
    return name, moved


def migrate_args(t: Try, guest: str, slow: bool) -> list[str]:
    return ["migrate", guest, "--to", t.lab.uris[B], "-c", t.lab.uris[A], "--unsafe", "--detach", MOVED, "--json",
            *(["--bandwidth", "8"] if slow else [])]


def _targets(xml: str) -> set[str]:
    return {d.target for d in parse_domain(xml).devices if d.target} if xml else set()


def judge(t: Try, guest: str, image: Path, result: subprocess.CompletedProcess[str], fault: str) -> Verdict:
    """The end state from both hosts against ztui's exit status and report (see the harness)."""
    v = Verdict(fault=fault)
    objects = json_objects(result.stdout)
    report: dict[str, Any] | None = objects[-1] if objects and objects[-1].get("type") == "report" else None
    t.restore()
    time.sleep(0.2)  # a daemon just started finishes its recovery
    seen = t.copies(guest)
    active = {h for h, c in seen.items() if c is not None}
    running = {h for h, c in seen.items() if c is not None and c[0] == libvirt.VIR_DOMAIN_RUNNING}
    disk_on = {h for h in active if MOVED in _targets(t.live_xml(h, guest))}
    if not image.exists():
        v.images_lost += 1
        v.wrong("the image is gone")
    stale_with_disk = [h for h in disk_on if h not in running and running]
    if stale_with_disk:
        v.wrong(f"the disk is on the paused copy on {stale_with_disk[0]} while {sorted(running)} runs it")
    if report is None:
        # no report: only acceptable when nothing was changed (refused, or stopped before the first change)
        if running == {A} and disk_on == {A} and result.returncode != 0:
            return v
        if not disk_on:
            v.devices_lost += 1
        v.wrong(f"no report (exit {result.returncode}): {result.stderr.strip()[-300:]}")
        return v
    hosts = {uri: h for h, uri in t.lab.uris.items()}
    runs_on = hosts.get(report["runs_on"], "")
    signalled = report.get("interrupted", "")
    expected = (0 if report["ok"] else 128 + signal.Signals[signalled] if signalled else
                3 if not report["certain"] else 1)
    unrecorded = "audit log could not be written" in result.stderr
    late = result.returncode < 0 and not signalled  # the signal came after the report, as ztui ended
    if result.returncode != expected and not late and not (unrecorded and expected == 0 and result.returncode == 1):
        v.wrong(f"exit {result.returncode}, the report means {expected}")
    if report["certain"]:
        if active != ({runs_on} if runs_on else set()):
            v.false(f"says it runs on {runs_on or 'neither'}, hosts hold {seen}")
        elif runs_on and report["state"] == "running" and runs_on not in running:
            v.false(f"says running on {runs_on}, it is {seen[runs_on]}")
    elif runs_on and runs_on not in active:
        v.false(f"says it runs on {runs_on}, hosts hold {seen}")
    if report["ok"] and (len(active) != 1 or runs_on != B):
        v.false(f"ok although the hosts hold {seen}")
    for device in report["devices"]:
        place = {"destination": B, "source": A}.get(device["state"], "")
        if device["state"] in ("destination", "source") and place not in disk_on:
            v.false(f"{device['name']} said {device['state']}, attached on {sorted(disk_on)}")
        if device["state"] == "lost":
            if "<disk" in device["xml"] and device["virsh"]:
                v.manual += 1
            else:
                v.false(f"{device['name']} lost without its XML")
    reported = {d["name"] for d in report["devices"]}
    if not disk_on and MOVED not in reported:
        v.devices_lost += 1
        v.wrong("the disk is attached nowhere and not reported")
    if len(running) > 1:
        v.notes.append(f"both hosts run the guest ({'reported' if not report['certain'] else 'NOT reported'})")
        if report["certain"]:
            v.false("both hosts run the guest")
    return v


def _finish(t: Try, guest: str, image: Path, result: subprocess.CompletedProcess[str], fault: str) -> Verdict:
    try:
        return judge(t, guest, image, result, fault)
    finally:
        t.destroy_everywhere(guest)


# --- the scenarios --------------------------------------------------------------------------------------

def _kill_at_phase(t: Try, host: str, phases: tuple[str, ...], label: str) -> Verdict:
    guest, image = new_guest(t, random_mib=t.rng.choice((0, 2, 6)))
    phase = t.rng.choice(phases)
    delay = None if t.rng.random() < 0.25 else round(t.rng.uniform(0.1, 2.5), 2)
    fault = f"{label}@{phase}, " + ("left down" if delay is None else f"back after {delay} s")
    env = t.env(ZTUI_RECONNECT_TIMEOUT="2" if delay is None else "15")
    with t.restarted_after(host, delay), PhaseStriker(t.lab.host(host), guest, (phase,)) as striker:
        result = t.ztui(*migrate_args(t, guest, slow=False), env=env)
    if not striker.struck:
        fault += f" (not reached: {striker.seen})"
    return _finish(t, guest, image, result, fault)


@scenario("migrate, source daemon killed", "migrate")
def source_killed(t: Try) -> Verdict:
    return _kill_at_phase(t, A, SOURCE_PHASES, "source killed")


@scenario("migrate, destination daemon killed", "migrate")
def destination_killed(t: Try) -> Verdict:
    return _kill_at_phase(t, B, DESTINATION_PHASES, "destination killed")


@scenario("migrate, signal to ztui", "migrate")
def signalled(t: Try) -> Verdict:
    sig = t.rng.choice(SIGNALS)
    if t.rng.random() < 0.5:  # after one of ztui's own steps
        step = t.rng.choice(ZTUI_STEPS)
        guest, image = new_guest(t, random_mib=t.rng.choice((0, 4)))
        env = t.env(ZTUI_FAULT_STEP=f"migrate:{step}", ZTUI_FAULT_RUN=f"kill -{sig.name[3:]} $ZTUI_PID")
        result = t.ztui(*migrate_args(t, guest, slow=False), env=env)
        return _finish(t, guest, image, result, f"{sig.name} after {step}")
    guest, image = new_guest(t, random_mib=4)  # at a random moment while the data moves (~0.6 s at 8 MiB/s)
    delay = round(t.rng.uniform(0.0, 1.2), 2)
    proc = t.popen(*migrate_args(t, guest, slow=True))
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if '"progress"' in line:
            break
    time.sleep(delay)
    if proc.poll() is None:
        proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    result = subprocess.CompletedProcess(proc.args, proc.returncode, "".join(lines) + out, err)
    return _finish(t, guest, image, result, f"{sig.name} {delay} s into the data transfer")


@scenario("migrate, state directory unwritable", "migrate")
def unwritable(t: Try) -> Verdict:
    guest, image = new_guest(t, random_mib=0)
    ztui_dir = t.state / "ztui"
    if t.rng.random() < 0.3:  # before the start: the journal cannot be written, nothing may change
        ztui_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        (ztui_dir / "journal").write_text("in the way")
        result = t.ztui(*migrate_args(t, guest, slow=False))
        return _finish(t, guest, image, result, "journal unwritable from the start")
    step = t.rng.choice(ZTUI_STEPS[1:])
    block = f"rm -f {ztui_dir}/audit.jsonl && mkdir -p {ztui_dir}/audit.jsonl"  # root ignores modes: a dir
    env = t.env(ZTUI_FAULT_STEP=f"migrate:{step}", ZTUI_FAULT_RUN=block)
    result = t.ztui(*migrate_args(t, guest, slow=False), env=env)
    return _finish(t, guest, image, result, f"audit log blocked after {step}")


@scenario("migrate, two at once", "migrate")
def concurrent(t: Try) -> Verdict:
    """Two migrations of one guest: exactly one may act (and report); the other is refused — busy, with
    who holds the guest, or (when the first is already done) because the guest is no longer there."""
    guest, image = new_guest(t, random_mib=4)
    first = t.popen(*migrate_args(t, guest, slow=True))
    time.sleep(t.rng.uniform(0.0, 1.5))
    second = t.ztui(*migrate_args(t, guest, slow=False))
    out, err = first.communicate(timeout=120)
    results = [subprocess.CompletedProcess(first.args, first.returncode, out, err), second]
    acted = [r for r in results if any(o.get("type") == "report" for o in json_objects(r.stdout))]
    verdict = judge(t, guest, image, acted[0] if acted else results[0], "a second migration of the guest")
    if len(acted) > 1:
        verdict.false("both migrations acted on the guest")
    for other in results:
        if other in acted:
            continue
        if other.returncode == 1 and "busy" in other.stderr and "pid" in other.stderr:
            continue
        if other.returncode == 2:  # the guest had already left zlab-a: nothing to migrate
            continue
        verdict.wrong(f"the other one: exit {other.returncode}: {other.stderr.strip()[-200:]}")
    t.destroy_everywhere(guest)
    return verdict
