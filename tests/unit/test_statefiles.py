"""State files: 0700 directories, 0600 files, never through a symlink; one error for all of it."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ztui import faults
from ztui.errors import Busy, Interrupted, StateUnwritable
from ztui.ops.safety.audit import audit_path, record
from ztui.ops.safety.guestlock import guest_lock, holder
from ztui.ops.safety.signals import SignalGuard
from ztui.statefiles import open_dir, read_json, state_dir, write_json


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    return tmp_path / "ztui"


def test_audit_file_0600_in_0700_dir(state: Path) -> None:
    state.mkdir(mode=0o755)
    record("attach", "qemu:///system", "g", "attached")
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE(audit_path().stat().st_mode) == 0o600
    assert json.loads(audit_path().read_text())["result"] == "attached"


def test_audit_refuses_a_symlinked_file(state: Path, tmp_path: Path) -> None:
    state.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    (state / "audit.jsonl").symlink_to(victim)
    with pytest.raises(StateUnwritable, match="cannot be used"):
        record("attach", "u", "g", "attached")
    assert victim.read_text() == "keep\n"


def test_symlinked_state_dir_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    base = tmp_path / "base"
    base.mkdir()
    (base / "ztui").symlink_to(elsewhere)
    monkeypatch.setenv("XDG_STATE_HOME", str(base))
    with pytest.raises(StateUnwritable, match="symlink"):
        record("attach", "u", "g", "attached")
    assert list(elsewhere.iterdir()) == []


def test_parent_writable_by_others_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path / "open"
    base.mkdir()
    base.chmod(0o777)
    monkeypatch.setenv("XDG_STATE_HOME", str(base))
    with pytest.raises(StateUnwritable, match="writable by others"):
        record("attach", "u", "g", "attached")


def test_unwritable_state_dir_is_one_error(state: Path) -> None:
    if os.geteuid() == 0:
        state.parent.joinpath("ztui").write_text("a file where the directory should be")
    else:
        state.mkdir(mode=0o500)
    with pytest.raises(StateUnwritable):
        record("attach", "u", "g", "attached")


def test_write_json_atomic_and_private(state: Path) -> None:
    with open_dir("journal") as dfd:
        write_json(dfd, "x.json", {"a": 1})
        write_json(dfd, "x.json", {"a": 2})
        assert read_json(dfd, "x.json") == {"a": 2}
    files = list((state / "journal").iterdir())
    assert [f.name for f in files] == ["x.json"]
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert state_dir() == state


def test_guest_lock_refuses_a_second_holder_with_who(state: Path) -> None:
    with guest_lock("qemu:///system", "UUID-1", guest="g1", action="attach") as me:
        assert holder("qemu:///system", "uuid-1") == me
        code = ("from ztui.ops.safety.guestlock import guest_lock\n"
                "with guest_lock('qemu:///system', 'UUID-1', guest='g1', action='detach'): pass\n")
        other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               env={**os.environ, "XDG_STATE_HOME": str(state.parent)})
        assert other.returncode != 0 and "Busy" in other.stderr
        assert f"g1 is busy: attach by pid {os.getpid()}" in other.stderr
        with guest_lock("qemu:///system", "UUID-2", guest="g2", action="attach"):
            pass  # another guest is free
    assert holder("qemu:///system", "UUID-1") is None
    # a second open file description in the same process is refused too
    with guest_lock("qemu:///system", "UUID-1", guest="g1", action="detach"), pytest.raises(Busy), \
            guest_lock("qemu:///system", "UUID-1", guest="g1", action="detach"):
        pass


def test_signal_guard_defers_to_the_step_boundary(capfd: pytest.CaptureFixture[str]) -> None:
    with SignalGuard("the attach") as guard:
        os.kill(os.getpid(), signal.SIGTERM)
        assert guard.signum == signal.SIGTERM  # noted, the process still runs
        with guard.at_risk("<disk>XML</disk>"):
            os.kill(os.getpid(), signal.SIGHUP)
        with pytest.raises(Interrupted) as caught:
            guard.check("the image")
    assert caught.value.status == 128 + signal.SIGTERM
    assert "SIGTERM: the attach stopped after the image" in str(caught.value)
    err = capfd.readouterr().err
    assert "stops after its current step" in err and "<disk>XML</disk>" in err
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_step_hook_runs_at_the_named_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str]] = []
    remove = faults.add_hook(lambda a, s: seen.append((a, s)))
    marker = tmp_path / "hit"
    monkeypatch.setenv(faults.ENV_STEP, "attach:device-asked#2")
    monkeypatch.setenv(faults.ENV_RUN, f'echo "$ZTUI_ACTION $ZTUI_STEP $ZTUI_PID" >> {marker}')
    monkeypatch.setenv(faults.ENV_LOG, str(tmp_path / "log"))
    for _ in range(3):
        faults.reached("attach", "device-asked")
    faults.reached("detach", "device-asked")
    remove()
    assert marker.read_text() == f"attach device-asked {os.getpid()}\n"
    assert len(seen) == 4 and len((tmp_path / "log").read_text().splitlines()) == 4


def test_tui_log_file_private_and_never_fatal(state: Path) -> None:
    import logging

    from ztui.cli.main import _log_to_file

    root = logging.getLogger()
    saved = list(root.handlers)
    try:
        _log_to_file()
        logging.getLogger("ztui.test").warning("hello")
        assert stat.S_IMODE((state / "ztui.log").stat().st_mode) == 0o600
        assert "hello" in (state / "ztui.log").read_text()
        (state / "ztui.log").unlink()
        (state / "ztui.log").symlink_to(state / "elsewhere")
        _log_to_file()  # refused quietly: no log file, no error
        assert not (state / "elsewhere").exists()
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved:
            root.addHandler(handler)
