"""`tree --json` over several hosts: read at once, shared out among processes, printed in the order given, a
host that cannot be read or does not answer as one line and a disconnected host, and the same text however
many processes read it (or when one of them fails)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import TESTDRIVER
from ztui.cli import tree_fleet
from ztui.cli.tree_read import EncodedHost, HostRead, read_hosts_here


@pytest.fixture
def hosts(tmp_path: Path) -> list[str]:
    uris = []
    for name in ("a", "b", "c"):
        path = tmp_path / f"{name}.xml"
        shutil.copy(TESTDRIVER, path)
        uris.append(f"test://{path}")
    uris.insert(2, f"qemu+unix:///system?socket={tmp_path}/no-daemon-here")
    return uris


def _stable(text: str) -> str:
    """The test driver makes an Open vSwitch port's interfaceid afresh at every open of its file."""
    return re.sub(r"interfaceid='[^']*'", "interfaceid=''", text)


def _texts(reads: list[HostRead]) -> tuple[list[str], list[str]]:
    return ([_stable(r.host.text) for r in reads if isinstance(r.host, EncodedHost)],
            [line for r in reads for line in r.errors])


def test_every_process_count_gives_the_same_text(hosts: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    here = _texts(read_hosts_here(hosts, True, [], as_json=True))
    assert len(here[0]) == 3 and len(here[1]) == 1 and "no-daemon-here" in here[1][0]
    for count in (1, 2, 3, 4):
        monkeypatch.setattr(tree_fleet, "processes_for", lambda _n, count=count: min(count, len(hosts)))
        texts, errors = _texts(tree_fleet.fleet_json(hosts, True, []))
        # the host that failed is a disconnected record in its place, and its line in its place
        assert len(texts) == 4 and json.loads(texts[2])["connected"] is False
        assert [t for i, t in enumerate(texts) if i != 2] == here[0] and errors == here[1]


def test_a_reading_process_that_fails_has_its_hosts_read_here(hosts: list[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tree_fleet, "processes_for", lambda _n: 2)
    whole = tree_fleet.fleet_json(hosts, True, [])
    parent = os.getpid()

    def broken(fd: int, data: bytes) -> None:
        if os.getpid() != parent:
            raise OSError("the pipe broke")

    monkeypatch.setattr(tree_fleet, "send_frame", broken)
    again = tree_fleet.fleet_json(hosts, True, [])
    assert _texts(again) == _texts(whole)


def test_a_host_that_does_not_answer_is_one_line_and_holds_up_no_other(hosts: list[str], silent_host: str) -> None:
    started = time.monotonic()
    args = [a for uri in [hosts[0], silent_host, hosts[1]] for a in ("-c", uri)]
    done = subprocess.run([sys.executable, "-m", "ztui", "tree", "--json", *args], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "ZTUI_CONNECT_TIMEOUT": "1"})
    assert time.monotonic() - started < 10
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"ztui: cannot connect to {silent_host}: not answering (no answer within 1 s) (the host or its daemon hangs, "
        "or the network drops the connection)"]
    printed = json.loads(done.stdout)["hosts"]
    assert [h["uri"] for h in printed] == [hosts[0], silent_host, hosts[1]]
    assert [h["connected"] for h in printed] == [True, False, True] and printed[0]["guests"]


@pytest.fixture
def two_lpars(tmp_path: Path) -> Iterator[list[str]]:
    """Two test-driver hosts resolved against host facts of two LPARs that see DASD 0.0.5c3f of the first
    as 0.0.6c3f (the same uid): one volume under two names."""
    from ztui.host.facts_source import forget_snapshots, use_snapshot, write_snapshot
    from ztui.lab.zhost import DESCRIPTION, Dasd, z_host_facts

    uris = []
    for name, dasd in (("a", Dasd("0.0.5c3f", "0.0.003f")), ("b", Dasd("0.0.6c3f", "0.0.013f", unit="0.0.5c3f"))):
        path = tmp_path / f"{name}.xml"
        shutil.copy(TESTDRIVER, path)
        facts = tmp_path / f"{name}-facts.json"
        write_snapshot(z_host_facts(replace(DESCRIPTION, dasds=(*DESCRIPTION.dasds, dasd)), hostname=f"lpar-{name}"),
                       str(facts))
        uris.append(f"test://{path}")
        use_snapshot(uris[-1], str(facts))
    yield uris
    forget_snapshots()


def test_volumes_are_joined_across_hosts_alike_in_every_process_count(two_lpars: list[str],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    here = _texts(read_hosts_here(two_lpars, True, [], as_json=True))
    first = json.loads(here[0][0])
    steps = [s for g in first["guests"] for d in g["devices"] for s in d["backing"] if s.get("also_on")]
    assert steps and {s["also_on"][0]["device"] for s in steps if s["kind"] == "dasd"} == {"0.0.6c3f"}
    for count in (1, 2):
        monkeypatch.setattr(tree_fleet, "processes_for", lambda _n, count=count: count)
        assert _texts(tree_fleet.fleet_json(two_lpars, True, [])) == here
