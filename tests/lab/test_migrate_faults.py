"""Migration faults on the two-host lab, each struck deterministically, each end state read from both hosts.

A daemon is killed at a named migration phase (`ztui.lab.strike`: when libvirt records the phase in the
guest's status XML), ztui is signalled after a named step of its own (`ztui.faults`), the audit log is
made unwritable mid-run, a second migration is started while one runs. Every test then asks both hosts
where the guest runs and checks that ztui's report says exactly that, that the moved disk is attached
where the guest runs (or reported with its XML), and that ztui destroyed or resumed nothing it must not.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libvirt
import pytest

from tests.lab.support import Lab
from tests.lab.test_migrate import SLOW_BANDWIDTH, A, B, conns, disk_xml, image, slow_guest  # noqa: F401
from ztui.lab.daemon import daemon_pid
from ztui.lab.paths import LabPaths
from ztui.lab.strike import PhaseStriker
from ztui.libvirt.eventloop import ensure_event_loop
from ztui.libvirtxml.domain import parse_domain

MOVED = "vdq"


def run_migrate(lab: Lab, guest: str, state: Path, *extra: str, env: dict[str, str] | None = None,
                slow: bool = False) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "XDG_STATE_HOME": str(state), "ZTUI_RECONNECT_TIMEOUT": "20", **(env or {})}
    args = ["migrate", guest, "--to", lab.uris[B], "-c", lab.uris[A], "--unsafe", "--detach", MOVED, "--json",
            *(["--bandwidth", str(SLOW_BANDWIDTH)] if slow else []), *extra]
    return subprocess.run([sys.executable, "-m", "ztui", *args], capture_output=True, text=True, timeout=180,
                          env=full, stdin=subprocess.DEVNULL)


def final_report(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    objects = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert objects and objects[-1]["type"] == "report", result.stdout + result.stderr
    report = objects[-1]
    print(f"exit {result.returncode}: {report['message']}\n  steps: "
          + "; ".join(f"{s['action']} {s['device']} {s['ok']} {s['message']}" for s in report["steps"]))
    return report


def copies(lab: Lab, guest: str) -> dict[str, tuple[int, int] | None]:
    """Each host's copy of the guest (state, reason), None when absent; asked over fresh connections."""
    ensure_event_loop()
    seen: dict[str, tuple[int, int] | None] = {}
    for name, uri in lab.uris.items():
        conn = libvirt.open(uri)
        try:
            dom = conn.lookupByName(guest)
            seen[name] = tuple(dom.state()) if dom.isActive() else None  # type: ignore[assignment]
        except libvirt.libvirtError:
            seen[name] = None
        finally:
            conn.close()
    return seen


def has_moved_disk(lab: Lab, host: str, guest: str) -> bool:
    conn = libvirt.open(lab.uris[host])
    try:
        return MOVED in {d.target for d in parse_domain(conn.lookupByName(guest).XMLDesc(0)).devices}
    finally:
        conn.close()



def running(copy: tuple[int, int] | None) -> bool:
    return copy is not None and copy[0] == libvirt.VIR_DOMAIN_RUNNING


def restart(lab: Lab) -> None:
    from ztui.lab.hosts import start_lab

    start_lab(hosts=2, base_dir=lab.base)


@contextlib.contextmanager
def restarted_after(lab: Lab, host: str, delay: float) -> Iterator[None]:
    """Bring `host`'s daemon back `delay` s after it died (as a service manager would), and at the end."""
    paths = LabPaths.for_dir(lab.base).host(host)
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if daemon_pid(paths) is None:
                time.sleep(delay)
                restart(lab)
                return
            time.sleep(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(60)
        if daemon_pid(paths) is None:
            restart(lab)


@contextlib.contextmanager
def strike(lab: Lab, host: str, guest: str, phase: str) -> Iterator[PhaseStriker]:
    with PhaseStriker(LabPaths.for_dir(lab.base).host(host), guest, (phase,)) as striker:
        yield striker
    assert striker.struck, f"{host} never reached {phase}: saw {striker.seen} {striker.error}"


@pytest.fixture
def guest(lab: Lab, conns: dict[str, libvirt.virConnect], slow_guest: str,  # noqa: F811
          tmp_path: Path) -> Iterator[str]:
    """The slow guest on zlab-a with a disk (vdq) to move around the migration."""
    conns[A].lookupByName(slow_guest).attachDeviceFlags(disk_xml(image(tmp_path, "vdq.img"), MOVED),
                                                         libvirt.VIR_DOMAIN_AFFECT_LIVE)
    yield slow_guest
    restart(lab)  # whatever a test killed is back before the next one
    remove_everywhere(lab, slow_guest)


def remove_everywhere(lab: Lab, name: str) -> None:
    """Destroy the test's guest on both hosts over fresh connections (the fixture's died with a daemon).
    A copy that a restarted destination keeps under a job nobody owns goes with one more restart."""
    from tests.faults.harness import Lab as BenchLab
    from tests.faults.harness import Try

    Try(BenchLab(lab.base, lab.uris), Path(f"/tmp/ztui-migfaults-{os.getpid()}"), random.Random(0), 0) \
        .destroy_everywhere(name)


def journal_entries(state: Path) -> list[dict[str, Any]]:
    result = subprocess.run([sys.executable, "-m", "ztui", "journal", "--all", "--json"], capture_output=True,
                            text=True, env={**os.environ, "XDG_STATE_HOME": str(state)}, timeout=60)
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


# --- the source's daemon dies ---------------------------------------------------------------------------

def test_source_killed_after_sending_everything(lab: Lab, guest: str, tmp_path: Path) -> None:
    """Killed when it records perform3_done, the source has sent everything; whether its Finish request
    reached zlab-b first is a race inside libvirtd. Either way exactly one copy runs at the end, ztui's
    report names it, and the disk is there: when zlab-b never started the guest, libvirt's recovery
    leaves the source paused ("a third party needs to check") and ztui resumes it; when zlab-b did,
    the paused source copy is the stale one."""
    with restarted_after(lab, A, 0.5), strike(lab, A, guest, "perform3_done"):
        result = run_migrate(lab, guest, tmp_path)
    report = final_report(result)
    seen = copies(lab, guest)
    assert report["certain"] and report["state"] == "running", report["message"]
    if report["runs_on"] == lab.uris[A]:
        assert running(seen[A]) and seen[B] is None, seen
        assert result.returncode == 1 and not report["ok"]
        assert [(d["name"], d["state"]) for d in report["devices"]] == [(MOVED, "source")]
        assert has_moved_disk(lab, A, guest)
    else:
        assert report["runs_on"] == lab.uris[B] and running(seen[B]) and seen[A] is None, seen
        assert report["source_copy"] == "absent" and result.returncode == 0
        assert has_moved_disk(lab, B, guest)
    assert journal_entries(tmp_path) == []


def test_source_killed_in_confirm_is_a_success_once_it_answers(lab: Lab, guest: str, tmp_path: Path) -> None:
    with restarted_after(lab, A, 0.5), strike(lab, A, guest, "confirm3"):
        result = run_migrate(lab, guest, tmp_path)
    report = final_report(result)
    seen = copies(lab, guest)
    assert seen[A] is None and running(seen[B]), seen
    assert report["runs_on"] == lab.uris[B] and report["source_copy"] == "absent", report["message"]
    assert result.returncode == 0 and report["ok"]
    assert has_moved_disk(lab, B, guest)


def test_source_killed_in_confirm_and_gone_is_not_ok(lab: Lab, guest: str, tmp_path: Path) -> None:
    """The source does not come back: the guest runs on zlab-b (its disk goes there), but whether zlab-a
    still holds a paused copy cannot be known — exit 3, never ok."""
    with strike(lab, A, guest, "confirm3"):
        result = run_migrate(lab, guest, tmp_path, env={"ZTUI_RECONNECT_TIMEOUT": "2"})
    report = final_report(result)
    assert result.returncode == 3 and not report["ok"] and not report["certain"], report["message"]
    assert report["runs_on"] == lab.uris[B] and report["source_copy"].startswith("unreachable")
    assert has_moved_disk(lab, B, guest)
    assert "unknown" in report["message"] and lab.uris[A] in report["message"]
    assert [e["action"] for e in journal_entries(tmp_path)] == ["migrate"]


def test_source_killed_before_the_handover_and_gone_is_unknown(lab: Lab, guest: str, tmp_path: Path) -> None:
    """The source dies as it records perform3_done and stays down. When zlab-b never started the guest,
    no host that answers runs it: nothing is resumed or re-attached, the disk is reported with its XML and
    the command, exit 3. When libvirtd's Finish request had already reached zlab-b (a race inside the
    daemon), zlab-b runs it and gets the disk — still exit 3: zlab-a may hold a paused copy."""
    with strike(lab, A, guest, "perform3_done"):
        result = run_migrate(lab, guest, tmp_path, env={"ZTUI_RECONNECT_TIMEOUT": "2"})
    report = final_report(result)
    assert result.returncode == 3 and not report["certain"] and not report["ok"], report["message"]
    assert report["source_copy"].startswith("unreachable")
    assert [e["action"] for e in journal_entries(tmp_path)] == ["migrate"]
    (device,) = report["devices"]
    if report["runs_on"] == "":
        assert device["state"] == "lost" and "<disk" in device["xml"] and "attach-device" in device["virsh"]
        restart(lab)
        seen = copies(lab, guest)
        assert seen[A] is not None and seen[A][0] == libvirt.VIR_DOMAIN_PAUSED and seen[B] is None, seen
    else:
        assert report["runs_on"] == lab.uris[B] and device["state"] == "destination"
        assert has_moved_disk(lab, B, guest)


# --- the destination's daemon dies ----------------------------------------------------------------------

def test_destination_killed_after_starting_the_guest(lab: Lab, guest: str, tmp_path: Path) -> None:
    """The split the issue saw: zlab-b started the guest's CPUs and died before answering; zlab-a holds a
    paused copy. Once zlab-b answers (running, migrated) it owns the guest: the stale source copy is
    destroyed (what Confirm does) and the disk goes to zlab-b."""
    with restarted_after(lab, B, 0.5), strike(lab, B, guest, "finish3@running"):
        result = run_migrate(lab, guest, tmp_path)
    report = final_report(result)
    seen = copies(lab, guest)
    assert seen[A] is None and running(seen[B]), seen
    assert report["runs_on"] == lab.uris[B] and report["migrated"], report["message"]
    assert [(d["name"], d["state"]) for d in report["devices"]] == [(MOVED, "destination")]
    assert has_moved_disk(lab, B, guest)
    assert any(s["action"] == "settle" and "destroy-source" in s["message"] for s in report["steps"])


def test_destination_killed_after_starting_the_guest_and_gone(lab: Lab, guest: str, tmp_path: Path) -> None:
    """zlab-b does not come back: zlab-a's copy stays paused (it must not run twice), the disk is not put
    on the paused copy but reported with its XML, exit 3."""
    with strike(lab, B, guest, "finish3@running"):
        result = run_migrate(lab, guest, tmp_path, env={"ZTUI_RECONNECT_TIMEOUT": "2"})
    report = final_report(result)
    assert result.returncode == 3 and not report["certain"], report["message"]
    assert report["source_copy"] == "paused (migrating)" and report["destination_copy"].startswith("unreachable")
    assert [d["state"] for d in report["devices"]] == ["lost"] and "<disk" in report["devices"][0]["xml"]
    assert not has_moved_disk(lab, A, guest)
    restart(lab)
    seen = copies(lab, guest)
    assert seen[A] is not None and seen[A][0] == libvirt.VIR_DOMAIN_PAUSED, seen  # not resumed
    assert running(seen[B]), seen  # zlab-b back: it had the guest — resuming zlab-a would have run it twice


def test_destination_killed_while_preparing(lab: Lab, guest: str, tmp_path: Path) -> None:
    """zlab-b dies as the incoming guest is prepared; restarted, libvirt 9.0 keeps that paused copy under
    a migration job nobody owns (same disks open). The source runs the guest and gets its disk back; the
    incoming copy never ran. ztui's destroy kills its QEMU, but libvirt cannot drop the record until its
    daemon restarts: then the outcome is reported as unknown (exit 3) with the copy named — never as a
    clean rollback while zlab-b still lists a copy."""
    with restarted_after(lab, B, 0.3), strike(lab, B, guest, "prepare"):
        result = run_migrate(lab, guest, tmp_path)
    report = final_report(result)
    seen = copies(lab, guest)
    assert running(seen[A]) and not running(seen[B]), seen
    assert report["runs_on"] == lab.uris[A] and has_moved_disk(lab, A, guest), report["message"]
    if seen[B] is None:
        assert result.returncode == 1 and report["certain"] and report["destination_copy"] == "absent"
    else:
        assert result.returncode == 3 and not report["certain"]
        assert report["destination_copy"] == "paused (incoming migration)"
    restart(lab)


# --- signals, the state directory, two at once ---------------------------------------------------------

@pytest.mark.parametrize(("sig", "step"), [(signal.SIGTERM, "migrate:migrating"), (signal.SIGHUP, "migrate:detached"),
                                           (signal.SIGINT, "migrate:migrating")])
def test_signal_aborts_cleanly_and_reports(lab: Lab, guest: str, tmp_path: Path, sig: signal.Signals,
                                           step: str) -> None:
    result = run_migrate(lab, guest, tmp_path, slow=True,
                         env={"ZTUI_FAULT_STEP": step, "ZTUI_FAULT_RUN": f"kill -{sig.name[3:]} $ZTUI_PID"})
    report = final_report(result)
    seen = copies(lab, guest)
    assert result.returncode == 128 + sig, (result.returncode, result.stderr)
    assert report["interrupted"] == sig.name and not report["ok"]
    assert running(seen[A]) and seen[B] is None and report["runs_on"] == lab.uris[A], report["message"]
    assert [(d["name"], d["state"]) for d in report["devices"]] == [(MOVED, "source")]
    assert has_moved_disk(lab, A, guest)
    assert journal_entries(tmp_path) == []


def test_audit_log_unwritable_mid_run_loses_nothing(lab: Lab, guest: str, tmp_path: Path) -> None:
    block = f"rm -f {tmp_path}/ztui/audit.jsonl && mkdir {tmp_path}/ztui/audit.jsonl"
    result = run_migrate(lab, guest, tmp_path, env={"ZTUI_FAULT_STEP": "migrate:detached", "ZTUI_FAULT_RUN": block})
    report = final_report(result)
    assert result.returncode == 1 and "audit log could not be written" in result.stderr, result.stderr
    assert report["runs_on"] == lab.uris[B] and has_moved_disk(lab, B, guest)
    assert "<disk" in report["devices"][0]["xml"]


def test_unwritable_journal_refuses_before_any_change(lab: Lab, guest: str, tmp_path: Path) -> None:
    (tmp_path / "ztui").mkdir(mode=0o700)
    (tmp_path / "ztui" / "journal").write_text("in the way")
    result = run_migrate(lab, guest, tmp_path)
    assert result.returncode == 1 and "journal" in result.stderr.splitlines()[-1], result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert running(copies(lab, guest)[A]) and has_moved_disk(lab, A, guest)


def test_second_migration_of_the_guest_is_refused_with_its_holder(lab: Lab, guest: str, tmp_path: Path) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path)}
    first = subprocess.Popen([sys.executable, "-m", "ztui", "migrate", guest, "--to", lab.uris[B], "-c",
                              lab.uris[A], "--unsafe", "--detach", MOVED, "--json", "--bandwidth",
                              str(SLOW_BANDWIDTH)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env)
    assert first.stdout is not None
    for line in first.stdout:
        if json.loads(line)["type"] == "progress":
            break
    second = run_migrate(lab, guest, tmp_path)
    rest = first.stdout.read()
    assert first.wait(60) == 0, rest
    assert second.returncode == 1, second.stderr
    assert "busy" in second.stderr and f"pid {first.pid}" in second.stderr and "migrate" in second.stderr
    assert len(second.stderr.splitlines()) == 1
    assert running(copies(lab, guest)[B]) and has_moved_disk(lab, B, guest)


def test_bad_bandwidth_changes_nothing(lab: Lab, guest: str, tmp_path: Path) -> None:
    result = run_migrate(lab, guest, tmp_path, "--bandwidth", "-5")
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1 and result.stdout == ""
    assert running(copies(lab, guest)[A]) and has_moved_disk(lab, A, guest)
    assert not (tmp_path / "ztui" / "audit.jsonl").exists()


def test_second_signal_prints_the_detached_device(lab: Lab, guest: str, tmp_path: Path) -> None:
    """Two signals while the disk is off the guest: the second prints its XML and the way back at once
    (for a user who then kills ztui for good); the migration still ends cleanly, the disk back on zlab-a."""
    result = run_migrate(lab, guest, tmp_path, env={"ZTUI_FAULT_STEP": "migrate:detached",
                                                   "ZTUI_FAULT_RUN": "kill -TERM $ZTUI_PID; kill -HUP $ZTUI_PID"})
    assert result.returncode in (128 + signal.SIGTERM, 128 + signal.SIGHUP), result.stderr
    assert "<disk" in result.stderr and "attach-device" in result.stderr and MOVED in result.stderr
    report = final_report(result)
    assert report["runs_on"] == lab.uris[A] and has_moved_disk(lab, A, guest)


def test_zz_no_test_guest_left_on_either_host(lab: Lab) -> None:
    """Runs last in this module: the faults above leave no copy behind (the TUI tests count guests)."""
    ensure_event_loop()
    for uri in lab.uris.values():
        conn = libvirt.open(uri)
        try:
            left = [(d.name(), d.state()) for d in conn.listAllDomains(0) if d.name().startswith("mig")]
        finally:
            conn.close()
        assert not left, (uri, left)
