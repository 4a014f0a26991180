"""Faults injected at named steps of attach and detach, on the real lab: the host's daemon SIGKILLed, ztui
signalled, its state directory unwritable, a second action on the same guest. Each test asserts the end
state: the image present iff it may be attached, the device where ztui says it is (or its XML reported),
the journal entry closed — or listed, and resolved with `ztui journal finish|rollback`.

The steps are struck through the hook of `ztui/faults.py` (ZTUI_FAULT_STEP, ZTUI_FAULT_RUN).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.lab.support import Lab, shared_image, shared_path
from ztui.lab.daemon import daemon_pid
from ztui.lab.paths import LabPaths
from ztui.ops.attach.settle import file_holders

A = "zlab-a"
GUEST = "lnxa03"


def ztui(*args: str, state: Path, env: dict[str, str] | None = None,
         timeout: float = 180) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "XDG_STATE_HOME": str(state), **(env or {})}
    return subprocess.run([sys.executable, "-m", "ztui", *args], capture_output=True, text=True, timeout=timeout,
                          env=full, stdin=subprocess.DEVNULL)


def _kill_daemon(lab: Lab, host: str = A) -> int:
    pid = daemon_pid(LabPaths.for_dir(lab.base).host(host))
    assert pid is not None, f"{host}'s libvirtd does not run"
    return pid


def _restart(lab: Lab) -> None:
    from ztui.lab.hosts import start_lab

    start_lab(hosts=2, base_dir=lab.base)


@contextlib.contextmanager
def restarted_after_kill(lab: Lab, host: str = A) -> Iterator[None]:
    """Restart the host's daemon as soon as it has died (a service manager would), and surely at the end."""
    paths = LabPaths.for_dir(lab.base).host(host)
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            if daemon_pid(paths) is None:
                time.sleep(0.3)
                _restart(lab)
                return
            time.sleep(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(120)
        if daemon_pid(paths) is None:
            _restart(lab)


def _journal(state: Path) -> list[dict[str, object]]:
    out = ztui("journal", "--all", "--json", state=state)
    assert out.returncode == 0, out.stderr
    return list(json.loads(out.stdout))


def _audit(state: Path) -> list[dict[str, object]]:
    path = state / "ztui" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _live_sources(uri: str) -> list[str]:
    conn = libvirt.open(uri)
    try:
        xml = conn.lookupByName(GUEST).XMLDesc(0)
    finally:
        conn.close()
    return [line.split("'")[1] for line in xml.splitlines() if "<source file=" in line]


def _attached(uri: str, image: Path) -> bool:
    return str(image) in _live_sources(uri)


def _held(image: Path) -> bool:
    return bool(file_holders(str(image)))


def _detach_image(uri: str, image: Path, state: Path) -> None:
    """Clean up: take the disk with `image` off the guest (through the CLI, as a user would)."""
    conn = libvirt.open(uri)
    try:
        for line in conn.lookupByName(GUEST).XMLDesc(0).split("<disk")[1:]:
            if str(image) in line and "<target dev='" in line:
                target = line.split("<target dev='")[1].split("'")[0]
                result = ztui("detach", GUEST, target, "-c", uri, state=state)
                assert result.returncode == 0, result.stderr
    finally:
        conn.close()


def _fault(step: str, command: str) -> dict[str, str]:
    return {"ZTUI_FAULT_STEP": step, "ZTUI_FAULT_RUN": command}


def _invariant(uri: str, image: Path) -> None:
    """An image is present iff it may be attached (libvirt shows it, or a process holds it open)."""
    assert image.exists() == (_attached(uri, image) or _held(image)), (image.exists(), _attached(uri, image))


# --- the host's daemon killed ---------------------------------------------------------------------------

@pytest.mark.parametrize("step", ["attach:device-asking", "attach:device-returned"])
def test_daemon_killed_during_attach_restarted(lab: Lab, tmp_path: Path, step: str) -> None:
    uri = lab.uris[A]
    image = shared_path(lab, "new.qcow2")
    pid = _kill_daemon(lab)
    with restarted_after_kill(lab):
        result = ztui("attach", GUEST, "--disk", str(image), "--size", "16M", "-c", uri, "--json", state=tmp_path,
                      env=_fault(step, f"kill -9 {pid}"))
    try:
        doc = json.loads(result.stdout)
        _invariant(uri, image)
        if step.endswith("returned"):  # libvirt had answered: the device is there, proven after re-connecting
            assert result.returncode == 0, result.stderr
            assert doc["outcome"] == "attached" and "re-connecting" in doc["message"]
        else:  # the request never reached the daemon
            assert result.returncode == 1, result.stderr
            assert doc["outcome"] == "refused" and "not attached" in doc["message"] and not image.exists()
        assert _journal(tmp_path) == [] and doc["journal"] == ""
        assert [e["result"] for e in _audit(tmp_path)] == [doc["outcome"]]
    finally:
        _detach_image(uri, image, tmp_path)


def test_daemon_killed_when_status_xml_rewritten(lab: Lab, tmp_path: Path) -> None:
    """The kill the issue saw: while libvirt records the new device (its status XML is rewritten)."""
    uri = lab.uris[A]
    image = shared_path(lab, "new.qcow2")
    host = LabPaths.for_dir(lab.base).host(A)
    status = host.run / "qemu" / f"{GUEST}.xml"
    assert status.exists(), status
    pid = _kill_daemon(lab)
    asked = tmp_path / "asked"
    before = status.stat().st_mtime_ns

    def strike() -> None:
        deadline = time.monotonic() + 60
        while not asked.exists() and time.monotonic() < deadline:
            time.sleep(0.001)
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if status.stat().st_mtime_ns != before:
                    os.kill(pid, signal.SIGKILL)
                    return
            time.sleep(0.0005)

    killer = threading.Thread(target=strike, daemon=True)
    killer.start()
    with restarted_after_kill(lab):
        result = ztui("attach", GUEST, "--disk", str(image), "--size", "16M", "-c", uri, "--json", state=tmp_path,
                      env=_fault("attach:device-asking", f"touch {asked}"))
    killer.join(60)
    try:
        doc = json.loads(result.stdout)
        _invariant(uri, image)
        assert result.returncode in (0, 1, 3), result.stderr
        print("status-xml kill:", doc["outcome"], doc["message"])
        if doc["outcome"] == "attached":
            assert _attached(uri, image)
        elif doc["outcome"] == "unknown":
            assert image.exists() and "check with virsh" in doc["message"]
            assert [e["id"] for e in _journal(tmp_path)] == [doc["journal"]]
        else:
            assert not image.exists() and not _attached(uri, image)
    finally:
        _detach_image(uri, image, tmp_path)


def test_daemon_stays_dead_unknown_then_journal_finish(lab: Lab, tmp_path: Path) -> None:
    uri = lab.uris[A]
    image = shared_path(lab, "new.qcow2")
    pid = _kill_daemon(lab)
    try:
        result = ztui("attach", GUEST, "--disk", str(image), "--size", "16M", "-c", uri, "--json", state=tmp_path,
                      env={**_fault("attach:device-returned", f"kill -9 {pid}"), "ZTUI_RECONNECT_TIMEOUT": "1"})
    finally:
        _restart(lab)
    try:
        assert result.returncode == 3, result.stderr
        doc = json.loads(result.stdout)
        assert doc["outcome"] == "unknown" and f"check with virsh -c {uri} dumpxml {GUEST}" in doc["message"]
        assert image.exists()  # it may be attached: never removed
        [entry] = _journal(tmp_path)
        assert entry["id"] == doc["journal"] and entry["state"] == "unknown" and not entry["in_progress"]
        assert entry["step"] == "device-returned" and "<disk" in str(entry["device_xml"])
        listed = ztui("journal", "--all", state=tmp_path)
        assert doc["journal"] in listed.stdout and "finish" in listed.stdout
        finished = ztui("journal", "finish", str(doc["journal"]), "--json", state=tmp_path)
        assert finished.returncode == 0, finished.stderr
        assert json.loads(finished.stdout)["outcome"] == "attached" and _attached(uri, image)
        assert _journal(tmp_path) == []
        assert [e["result"] for e in _audit(tmp_path)] == ["unknown", "attached"]
    finally:
        _detach_image(uri, image, tmp_path)


def test_unknown_attach_rolled_back_from_the_journal(lab: Lab, tmp_path: Path) -> None:
    uri = lab.uris[A]
    image = shared_path(lab, "new.qcow2")
    pid = _kill_daemon(lab)
    try:
        result = ztui("attach", GUEST, "--disk", str(image), "--size", "16M", "-c", uri, "--json", state=tmp_path,
                      env={**_fault("attach:device-returned", f"kill -9 {pid}"), "ZTUI_RECONNECT_TIMEOUT": "0"})
    finally:
        _restart(lab)
    assert result.returncode == 3, result.stderr
    entry_id = json.loads(result.stdout)["journal"]
    rolled = ztui("journal", "rollback", entry_id, state=tmp_path)
    assert rolled.returncode == 0, rolled.stderr
    assert not _attached(uri, image) and not image.exists()
    assert _journal(tmp_path) == []


def test_daemon_killed_during_detach(lab: Lab, tmp_path: Path) -> None:
    uri = lab.uris[A]
    image = shared_image(lab, "d.img")
    doc = json.loads(ztui("attach", GUEST, "--disk", str(image), "-c", uri, "--json", state=tmp_path).stdout)
    pid = _kill_daemon(lab)
    with restarted_after_kill(lab):
        result = ztui("detach", GUEST, doc["target"], "-c", uri, "--json", state=tmp_path,
                      env=_fault("detach:device-returned", f"kill -9 {pid}"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["outcome"] == "removed" and not _attached(uri, image)
    assert _journal(tmp_path) == []


# --- signals to ztui ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("step", "sig"), [("attach:image-created", signal.SIGINT),
                                           ("attach:device-asking", signal.SIGHUP),
                                           ("attach:device-returned", signal.SIGTERM),
                                           ("attach:device-attached", signal.SIGTERM)])
def test_signal_during_attach_rolls_back(lab: Lab, tmp_path: Path, step: str, sig: signal.Signals) -> None:
    uri = lab.uris[A]
    image = shared_path(lab, "new.qcow2")
    result = ztui("attach", GUEST, "--disk", str(image), "--size", "16M", "-c", uri, "--json", state=tmp_path,
                  env=_fault(step, f"kill -{sig.name.removeprefix('SIG')} $ZTUI_PID"))
    try:
        assert result.returncode == 128 + sig, (result.returncode, result.stderr)
        doc = json.loads(result.stdout)
        assert doc["outcome"] == "interrupted" and "nothing of it is left" in doc["message"]
        assert not image.exists() and not _attached(uri, image)
        assert _journal(tmp_path) == []
        assert [e["result"] for e in _audit(tmp_path)] == ["interrupted"]
    finally:
        _detach_image(uri, image, tmp_path)


def test_signals_during_detach_put_the_device_back_and_print_its_xml(lab: Lab, tmp_path: Path) -> None:
    uri = lab.uris[A]
    image = shared_image(lab, "d.img")
    doc = json.loads(ztui("attach", GUEST, "--disk", str(image), "-c", uri, "--json", state=tmp_path).stdout)
    try:
        result = ztui("detach", GUEST, doc["target"], "-c", uri, "--json", state=tmp_path,
                      env=_fault("detach:device-returned", "kill -TERM $ZTUI_PID; sleep 0.3; kill -HUP $ZTUI_PID"))
        assert result.returncode == 128 + signal.SIGTERM, result.stderr
        assert "SIGHUP again" in result.stderr and str(image) in result.stderr  # the XML, at the second signal
        out = json.loads(result.stdout)
        assert out["outcome"] == "interrupted" and "attached again" in out["message"]
        assert _attached(uri, image)
        assert _journal(tmp_path) == []
    finally:
        _detach_image(uri, image, tmp_path)


# --- the state directory, and two actions at once ---------------------------------------------------------

def test_unwritable_state_dir_refuses_before_any_change(lab: Lab, tmp_path: Path) -> None:
    uri = lab.uris[A]
    image = shared_path(lab, "new.qcow2")
    state = tmp_path / "state"
    state.mkdir()
    (state / "ztui").mkdir(mode=0o700)
    (state / "ztui" / "journal").write_text("in the way")
    before = _live_sources(uri)
    result = ztui("attach", GUEST, "--disk", str(image), "--size", "16M", "-c", uri, state=state)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "cannot be" in result.stderr and "nothing was changed" in result.stderr
    assert not image.exists() and _live_sources(uri) == before


def test_symlinked_state_dir_refused(lab: Lab, tmp_path: Path) -> None:
    uri = lab.uris[A]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    state = tmp_path / "state"
    state.mkdir()
    (state / "ztui").symlink_to(elsewhere)
    result = ztui("attach", GUEST, "--disk", str(shared_path(lab, "x.qcow2")), "--size", "16M", "-c", uri, state=state)
    assert result.returncode == 1 and "symlink" in result.stderr
    assert list(elsewhere.iterdir()) == []


def test_second_action_on_a_guest_is_refused_with_its_holder(lab: Lab, tmp_path: Path) -> None:
    uri = lab.uris[A]
    image = shared_path(lab, "slow.qcow2")
    started = tmp_path / "started"
    first = subprocess.Popen(
        [sys.executable, "-m", "ztui", "attach", GUEST, "--disk", str(image), "--size", "16M", "-c", uri],
        env={**os.environ, "XDG_STATE_HOME": str(tmp_path),
             **_fault("attach:image-created", f"touch {started}; sleep 4")},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        second = ztui("detach", GUEST, "vda", "-c", uri, state=tmp_path)
        assert second.returncode == 1
        assert second.stderr.count("\n") == 1
        assert f"{GUEST} is busy: attach by pid {first.pid}" in second.stderr
        [entry] = _journal(tmp_path)
        assert entry["in_progress"] and entry["pid"] == first.pid
        assert first.wait(120) == 0
    finally:
        if first.poll() is None:
            first.kill()
        _detach_image(uri, image, tmp_path)
    assert "vda" in [line.split()[0] for line in subprocess.run(
        ["virsh", "-c", uri, "domblklist", GUEST], capture_output=True, text=True).stdout.splitlines()[2:] if line]
    assert _journal(tmp_path) == []


# --- what a daemon killed mid-attach leaves in QEMU -------------------------------------------------------

def _bare_guest_xml(conn: libvirt.virConnect, template: str, name: str) -> str:
    """A copy of a lab guest with no disks, NICs or controllers (it shares nothing with the template)."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(conn.lookupByName(template).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    root.find("name").text = name  # type: ignore[union-attr]
    root.remove(root.find("uuid"))  # type: ignore[arg-type]
    devices = root.find("devices")
    assert devices is not None
    for elem in list(devices):
        if elem.tag in ("disk", "interface", "controller", "memballoon", "console"):
            devices.remove(elem)
    for elem in root.iter():
        if elem.tag == "log":
            elem.set("file", f"/tmp/{name}-console.log")
    return ET.tostring(root, encoding="unicode")


def test_attach_passes_orphans_a_killed_daemon_left_in_qemu(lab: Lab, conn_a: libvirt.virConnect,
                                                            tmp_path: Path) -> None:
    """Block nodes and a device that QEMU holds and the restarted libvirt forgot, with the very names and
    the address libvirt gives next: a plain attach would fail ("Duplicate nodes with node-name", "Duplicate
    device ID", "Device fe.0.0000 already exists") on every try; ztui's attach still succeeds, proven."""
    import libvirt_qemu

    dom = conn_a.createXML(_bare_guest_xml(conn_a, "lnxa01", "fault-orphans"), 0)
    try:
        orphan = tmp_path / "orphan.img"
        subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(orphan), "8M"], check=True)

        def qmp(command: str, **arguments: object) -> None:
            libvirt_qemu.qemuMonitorCommand(dom, json.dumps({"execute": command, "arguments": arguments}), 0)

        for index in (1, 2, 3):
            qmp("blockdev-add", driver="file", filename=str(orphan), **{"node-name": f"libvirt-{index}-storage"},
                **{"read-only": True})
        from ztui.libvirtxml.domain import parse_domain

        used = {d.busid for d in parse_domain(dom.XMLDesc(0)).devices if d.busid}
        first_free = next(n for n in range(0x10000) if f"0.0.{n:04x}" not in used)  # what libvirt picks next
        qmp("device_add", driver="virtio-blk-ccw", drive="libvirt-1-storage", id="virtio-disk0",
            devno=f"fe.0.{first_free:04x}")
        plain = subprocess.run(["virsh", "-c", lab.uris[A], "attach-disk", "fault-orphans", str(orphan), "vda",
                                "--live"], capture_output=True, text=True)
        assert plain.returncode != 0 and "Duplicate" in plain.stderr  # the orphans are in the way

        image = shared_path(lab, "new.qcow2")
        result = ztui("attach", "fault-orphans", "--disk", str(image), "--size", "16M", "-c", lab.uris[A], "--json",
                      state=tmp_path)
        assert result.returncode == 0, result.stderr
        doc = json.loads(result.stdout)
        assert doc["outcome"] == "attached" and str(image) in dom.XMLDesc(0)
        assert doc["alias"].startswith("ua-ztui-") and doc["address"] != f"0.0.{first_free:04x}"
        assert _journal(tmp_path) == []
    finally:
        dom.destroy()


@pytest.mark.parametrize("action", ["attach", "detach"])
def test_state_dir_lost_mid_action_still_reports_the_outcome(lab: Lab, tmp_path: Path, action: str) -> None:
    """The state directory taken away after the intent was written: the outcome (and a detached device's
    XML) is still printed, with one line saying the audit log could not be written."""
    uri = lab.uris[A]
    image = shared_image(lab, "d.img")
    state = tmp_path / "state"
    away = f"mv {state}/ztui {state}/gone && touch {state}/ztui"
    try:
        if action == "attach":
            result = ztui("attach", GUEST, "--disk", str(image), "-c", uri, "--json", state=state,
                          env=_fault("attach:device-attached", away))
            assert _attached(uri, image)
        else:
            doc = json.loads(ztui("attach", GUEST, "--disk", str(image), "-c", uri, "--json", state=tmp_path).stdout)
            result = ztui("detach", GUEST, doc["target"], "-c", uri, "--json", state=state,
                          env=_fault("detach:device-removed", away))
            assert not _attached(uri, image)
            assert str(image) in json.loads(result.stdout)["xml"]
        assert result.returncode == 0, result.stderr
        assert "the audit log could not be written" in result.stderr
        assert json.loads(result.stdout)["outcome"] in ("attached", "removed")
    finally:
        _detach_image(uri, image, tmp_path)


@pytest.mark.parametrize("how", ["finish", "rollback"])
def test_unknown_detach_resolved_from_the_journal(lab: Lab, tmp_path: Path, how: str) -> None:
    """The daemon killed before the detach request and not back in time: unknown (exit 3), the device's XML
    printed and kept in the journal; `finish` removes it, `rollback` leaves (or puts) it back."""
    uri = lab.uris[A]
    image = shared_image(lab, "d.img")
    doc = json.loads(ztui("attach", GUEST, "--disk", str(image), "-c", uri, "--json", state=tmp_path).stdout)
    pid = _kill_daemon(lab)
    try:
        result = ztui("detach", GUEST, doc["target"], "-c", uri, "--json", state=tmp_path,
                      env={**_fault("detach:device-asking", f"kill -9 {pid}"), "ZTUI_RECONNECT_TIMEOUT": "0"})
    finally:
        _restart(lab)
    try:
        assert result.returncode == 3, result.stderr
        out = json.loads(result.stdout)
        assert out["outcome"] == "unknown" and str(image) in out["xml"] and "check with virsh" in out["message"]
        [entry] = _journal(tmp_path)
        assert entry["action"] == "detach" and str(image) in str(entry["device_xml"])
        resolved = ztui("journal", how, out["journal"], "--json", state=tmp_path)
        assert resolved.returncode == 0, resolved.stderr
        assert _attached(uri, image) == (how == "rollback")
        assert _journal(tmp_path) == []
        assert _audit(tmp_path)[-1]["action"] == f"journal-{how}"
    finally:
        _detach_image(uri, image, tmp_path)
