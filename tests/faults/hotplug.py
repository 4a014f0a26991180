"""Attach and detach scenarios for the fault bench: `ztui attach --disk NEW --size` and `ztui detach` on a
fresh guest, struck at one of the action's named steps (`ztui.faults`) by a killed daemon (restarted
after a random delay or left down), a signal to ztui, an unwritable state directory, or a second action
on the same guest. The end state is judged from the host: the image exists iff the guest may use it,
the disk is attached iff ztui says so (an unknown outcome may go either way, and keeps the image)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.faults.harness import A, Try, Verdict, scenario
from tests.faults.migrate import SIGNALS, _disk, _image, new_guest
from ztui.ops.attach.settle import file_holders

ATTACH_STEPS = ("intent", "image-created", "device-asking", "device-returned", "device-attached")
DETACH_STEPS = ("intent", "device-asking", "device-returned", "device-removed")


def _doc(result: subprocess.CompletedProcess[str]) -> dict[str, Any] | None:
    try:
        doc = json.loads(result.stdout)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _attached(t: Try, guest: str, image: Path) -> bool:
    return f"'{image}'" in t.live_xml(A, guest) or f'"{image}"' in t.live_xml(A, guest)


def judge(t: Try, guest: str, image: Path, result: subprocess.CompletedProcess[str], action: str,
          fault: str, signum: int | None = None) -> Verdict:
    """Attach: the image exists iff attached or held open; detach: the disk is gone iff ztui said removed."""
    v = Verdict(fault=fault)
    t.restore()
    time.sleep(0.2)
    doc = _doc(result)
    attached = _attached(t, guest, image)
    held = bool(file_holders(str(image)))
    outcome = doc.get("outcome", "") if doc else ""
    if action == "attach":
        if image.exists() != (attached or held) and not (image.exists() and outcome == "unknown"):
            v.images_lost += not image.exists()
            v.wrong(f"image exists {image.exists()}, attached {attached}, held {held}")
    elif not image.exists():
        v.images_lost += 1
        v.wrong("the image of the detached disk is gone")
    if doc is None:  # refused before any change, or stopped by a signal before the first step
        changed = attached if action == "attach" else not attached
        if changed or result.returncode == 0:
            v.wrong(f"no result (exit {result.returncode}) but the guest changed: {result.stderr.strip()[-200:]}")
        return v
    claims = {"attached": True, "removed": False, "refused": action == "detach", "interrupted": action == "detach"}
    if outcome in claims and claims[outcome] != attached:
        v.false(f"says {outcome}, attached is {attached}")
    if action == "detach" and not attached and outcome not in ("removed", "unknown", "removal pending") \
            and "<disk" not in result.stdout + result.stderr:
        v.devices_lost += 1
        v.wrong("the disk is gone and neither reported removed nor given with its XML")
    expected = {"attached": 0, "removed": 0, "refused": 1, "unknown": 3, "not seen": 3, "removal pending": 3}
    if signum and outcome not in ("attached", "removed"):
        want = 128 + signum
    else:
        want = expected.get(outcome, 128 + signum if signum else -99)
    if result.returncode != want and not (signum and result.returncode == 128 + signum):
        v.wrong(f"exit {result.returncode} for '{outcome}' (expected {want})")
    if outcome == "unknown":
        v.manual += 1
    return v


def _strike(t: Try, action: str, steps: tuple[str, ...]) -> tuple[dict[str, str], str, float | None, int | None]:
    """The environment that strikes `action` at a random step: a killed daemon or a signal to ztui."""
    step = t.rng.choice(steps)
    if t.rng.random() < 0.5:
        pid = t.daemon(A)
        delay = None if t.rng.random() < 0.25 else round(t.rng.uniform(0.1, 2.0), 2)
        env = t.env(ZTUI_FAULT_STEP=f"{action}:{step}", ZTUI_FAULT_RUN=f"kill -9 {pid}",
                    ZTUI_RECONNECT_TIMEOUT="1" if delay is None else "15")
        return env, f"daemon killed at {step}, " + ("left down" if delay is None else f"back after {delay} s"), \
            delay, None
    sig = t.rng.choice(SIGNALS)
    env = t.env(ZTUI_FAULT_STEP=f"{action}:{step}", ZTUI_FAULT_RUN=f"kill -{sig.name[3:]} $ZTUI_PID")
    return env, f"{sig.name} after {step}", 0.0, int(sig)


def _done(t: Try, guest: str, verdict: Verdict) -> Verdict:
    t.destroy_everywhere(guest)
    return verdict


@scenario("attach, daemon killed or signal", "attach")
def attach_struck(t: Try) -> Verdict:
    guest, _moved = new_guest(t, random_mib=0)
    image = t.image("new.qcow2")
    env, fault, delay, signum = _strike(t, "attach", ATTACH_STEPS)
    with t.restarted_after(A, delay):
        result = t.ztui("attach", guest, "--disk", str(image), "--size", "16M", "-c", t.lab.uris[A], "--json",
                        env=env)
    return _done(t, guest, judge(t, guest, image, result, "attach", fault, signum))


@scenario("detach, daemon killed or signal", "detach")
def detach_struck(t: Try) -> Verdict:
    guest, _moved = new_guest(t, random_mib=0)
    image = _image(t.image("d.img"))
    conn = t.connect(A)
    try:
        conn.lookupByName(guest).attachDeviceFlags(_disk(image, "vdd"), 1)
    finally:
        conn.close()
    env, fault, delay, signum = _strike(t, "detach", DETACH_STEPS)
    with t.restarted_after(A, delay):
        result = t.ztui("detach", guest, "vdd", "-c", t.lab.uris[A], "--json", env=env)
    return _done(t, guest, judge(t, guest, image, result, "detach", fault, signum))


@scenario("attach, state unwritable or two at once", "attach")
def attach_state_or_concurrent(t: Try) -> Verdict:
    guest, _moved = new_guest(t, random_mib=0)
    image = t.image("new.qcow2")
    uri = t.lab.uris[A]
    if t.rng.random() < 0.5:
        ztui_dir = t.state / "ztui"
        ztui_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        (ztui_dir / "journal").write_text("in the way")
        result = t.ztui("attach", guest, "--disk", str(image), "--size", "16M", "-c", uri, "--json")
        v = judge(t, guest, image, result, "attach", "journal unwritable")
        if result.returncode != 1 or _attached(t, guest, image) or image.exists():
            v.wrong(f"not refused before any change: exit {result.returncode}")
        return _done(t, guest, v)
    other = t.image("other.qcow2")
    hold = f"sleep {t.rng.uniform(0.5, 1.5):.2f}"
    first = t.popen("attach", guest, "--disk", str(image), "--size", "16M", "-c", uri, "--json",
                    env=t.env(ZTUI_FAULT_STEP="attach:device-asking", ZTUI_FAULT_RUN=hold))
    time.sleep(t.rng.uniform(0.2, 0.8))
    second = t.ztui("attach", guest, "--disk", str(other), "--size", "16M", "-c", uri, "--json")
    out, err = first.communicate(timeout=120)
    v = judge(t, guest, image, subprocess.CompletedProcess(first.args, first.returncode, out, err), "attach",
              "a second attach to the guest")
    if second.returncode == 0:
        v.notes.append("the second ran after the first")
    elif "busy" not in second.stderr:
        v.wrong(f"second: exit {second.returncode}: {second.stderr.strip()[-200:]}")
    elif other.exists() or _attached(t, guest, other):
        v.wrong("the refused attach changed something")
    return _done(t, guest, v)


