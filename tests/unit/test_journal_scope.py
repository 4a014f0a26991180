"""`ztui journal` lists the unfinished operations of its own hosts (every one with --all), and settles an
entry whose guest or host is gone by reading that host, saying so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from ztui.cli.main import main
from ztui.ops.safety.journal import JournalAction, Operation, unfinished

DEFAULT = "test:///default"
DEFAULT_GUEST = "6695eb01-f6a4-8304-79aa-97f2502e193f"  # the test driver's own guest `test`
ZHOST = f"test://{FIXTURES / 'testdriver' / 'zhost.xml'}"
DB01 = "0b1e9a52-3c7d-4f60-8e21-a4d5c6b7e801"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setenv("ZTUI_LAB_DIR", str(tmp_path / "no-lab"))
    monkeypatch.delenv("LIBVIRT_DEFAULT_URI", raising=False)
    return tmp_path / "ztui"


def dead_entry(state: Path, uri: str, uuid: str, **plan: str) -> str:
    """An entry a ztui that died mid-way left: its process is gone."""
    op = Operation.begin(JournalAction.DETACH if not plan else JournalAction.MIGRATE, uri, "g", uuid,
                         device_xml="<disk/>", plan=dict(plan))
    path = state / "journal" / f"{op.id}.json"
    doc = json.loads(path.read_text())
    doc["pid"] = 2**22 + 1  # above pid_max: no such process
    path.write_text(json.dumps(doc))
    return op.id


def listed(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[list[str], str]:
    assert main(["journal", "--json", *args]) == 0
    out = capsys.readouterr()
    return [e["id"] for e in json.loads(out.out)], out.err


def test_each_host_sees_its_own_entries(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    here = dead_entry(state, DEFAULT, DEFAULT_GUEST)
    there = dead_entry(state, ZHOST, DB01)
    assert listed(capsys, "-c", DEFAULT) == ([here], "")
    assert listed(capsys, "-c", ZHOST) == ([there], "")
    assert sorted(listed(capsys, "--all")[0]) == sorted([here, there])
    assert main(["journal", "-c", DEFAULT]) == 0
    text = capsys.readouterr().out
    assert here in text and there not in text and "1 more on other hosts: ztui journal --all" in text


def test_saved_names_groups_and_the_saved_hosts_choose_the_hosts_as_for_any_command(
        state: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ztui.config import SavedHost, edit_config, with_host

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    edit_config(lambda c: with_host(c, SavedHost("small", DEFAULT, "dev")))
    edit_config(lambda c: with_host(c, SavedHost("z16", ZHOST, "prod")))
    here = dead_entry(state, DEFAULT, DEFAULT_GUEST)
    there = dead_entry(state, ZHOST, DB01)
    assert listed(capsys, "-c", "z16") == ([there], "")
    assert listed(capsys, "-g", "dev") == ([here], "")
    assert sorted(listed(capsys)[0]) == sorted([here, there])  # no -c: every saved host
    assert main(["journal", "-g", "test"]) == 2
    assert "no saved host is in group 'test'" in capsys.readouterr().err


def test_resolving_an_entry_needs_no_saved_hosts(state: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The entry names its host: a saved-hosts config that cannot be read does not stand in the way."""
    (tmp_path / "config" / "ztui").mkdir(parents=True)
    (tmp_path / "config" / "ztui" / "config.toml").write_bytes(b"[hosts\0")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    gone = dead_entry(state, DEFAULT, "0b1e9a52-3c7d-4f60-8e21-000000000000")
    assert main(["journal", "rollback", gone]) == 0
    assert "settled" in capsys.readouterr().out
    assert main(["journal"]) == 2  # listing does: it lists the saved hosts' entries
    assert "config.toml: not valid TOML" in capsys.readouterr().err


def test_a_migration_belongs_to_its_destination_too(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    moved = dead_entry(state, DEFAULT, DEFAULT_GUEST, destination=ZHOST)
    assert listed(capsys, "-c", ZHOST)[0] == [moved]


def test_an_entry_whose_guest_or_host_is_gone_is_settled_and_said(state: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    gone_guest = dead_entry(state, DEFAULT, "00000000-0000-0000-0000-00000000dead")
    gone_host = dead_entry(state, "qemu+unix:///system?socket=/nonexistent-lab/hosts/zlab-a/run/libvirt-sock",
                           DEFAULT_GUEST)
    unreachable = dead_entry(state, "qemu+unix:///system?socket=/tmp/no-daemon-here.sock", DEFAULT_GUEST)
    ids, err = listed(capsys, "--all")
    assert ids == [unreachable]  # a host that does not answer is not gone: its entry stays
    assert f"{gone_guest} (detach g) settled: {DEFAULT} has no guest" in err
    assert f"{gone_host} (detach g) settled: its host is gone (/nonexistent-lab/hosts/zlab-a/run" in err
    assert [e.id for e in unfinished()] == [unreachable]
    audit = [json.loads(line) for line in (state / "audit.jsonl").read_text().splitlines()]
    assert sorted((r["action"], r["journal"]) for r in audit) == sorted([("journal-settled", gone_guest),
                                                                         ("journal-settled", gone_host)])


def test_finishing_an_entry_whose_guest_is_gone_settles_it(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entry = dead_entry(state, DEFAULT, "00000000-0000-0000-0000-00000000dead")
    assert main(["journal", "finish", entry]) == 0
    assert "settled" in capsys.readouterr().out and unfinished() == []


def test_hosts_that_do_not_answer_hold_the_list_up_once_not_once_an_entry(
        state: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Three entries on each of two hosts that accept a connection and then say nothing: listing them (the
    TUI does at every start) waits one timeout in all, and every entry stays."""
    import socket
    import time

    monkeypatch.setenv("ZTUI_CONNECT_TIMEOUT", "1")
    silent = [socket.socket() for _ in range(2)]
    try:
        ids = []
        for sock in silent:
            sock.bind(("127.0.0.1", 0))
            sock.listen(8)
            uri = f"qemu+tcp://127.0.0.1:{sock.getsockname()[1]}/system"
            ids += [dead_entry(state, uri, f"00000000-0000-0000-0000-00000000000{n}") for n in range(3)]
        started = time.monotonic()
        listed_ids, err = listed(capsys, "--all")
        elapsed = time.monotonic() - started
    finally:
        for sock in silent:
            sock.close()
    assert sorted(listed_ids) == sorted(ids) and "settled" not in err
    assert elapsed < 2.5, f"{elapsed:.1f} s: each entry or host waited for in turn"
