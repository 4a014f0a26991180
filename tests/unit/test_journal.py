"""The operation journal: written before any change, step by step, listed until closed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ztui import faults
from ztui.errors import BadInput, StateUnwritable
from ztui.ops.safety.journal import EntryState, JournalAction, Operation, load, resume, unfinished


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    return tmp_path / "ztui"


def test_entry_written_before_and_at_each_step(state: Path) -> None:
    seen: list[tuple[str, list[str]]] = []
    remove = faults.add_hook(lambda _a, s: seen.append((s, [e.step for e in unfinished()])))
    try:
        op = Operation.begin(JournalAction.ATTACH, "qemu:///system", "g1", "u-1", device_xml="<disk/>",
                             plan={"live": True})
        op.step("image-created", image="/x.qcow2")
        assert load(op.id).facts == {"image": "/x.qcow2"}
        path = state / "journal" / f"{op.id}.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        op.leave_open(EntryState.UNKNOWN, "connection lost")
        [entry] = unfinished()
        assert (entry.state, entry.note, entry.device_xml, entry.plan) == (EntryState.UNKNOWN, "connection lost",
                                                                          "<disk/>", {"live": True})
        assert [s for s, _ in entry.steps] == ["intent", "image-created"] and entry.process_alive
        taken = resume(entry)
        taken.close()
    finally:
        remove()
    # the hook sees the journal already holding the step it is told about
    assert seen[:2] == [("intent", ["intent"]), ("image-created", ["image-created"])]
    assert unfinished() == []


def test_unwritable_journal_refuses_before_anything(state: Path) -> None:
    state.mkdir(mode=0o700)
    (state / "journal").write_text("not a directory")
    hits: list[str] = []
    remove = faults.add_hook(lambda _a, s: hits.append(s))
    try:
        with pytest.raises(StateUnwritable, match="nothing was changed"):
            Operation.begin(JournalAction.DETACH, "u", "g", "uuid")
    finally:
        remove()
    assert hits == []


def test_a_later_write_failure_is_kept_not_raised(state: Path) -> None:
    op = Operation.begin(JournalAction.DETACH, "u", "g", "uuid")
    (state / "journal").chmod(0o500)
    try:
        if os.geteuid() == 0:  # root writes anyway: take the directory away instead
            (state / "journal").chmod(0o700)
            for f in (state / "journal").iterdir():
                f.unlink()
            (state / "journal").rmdir()
            (state / "journal").write_text("gone")
        op.step("detach-asked")
    finally:
        if (state / "journal").is_dir():
            (state / "journal").chmod(0o700)
    assert "could not be updated" in op.write_error


def test_load_rejects_bad_ids(state: Path) -> None:
    for bad in ("", "../x", ".hidden", "a\x1bb", "nope"):
        with pytest.raises(BadInput):
            load(bad)
