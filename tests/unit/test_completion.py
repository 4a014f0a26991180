"""Shell completion's answers (`ztui __complete`): from ztui's own parsers, and from real hosts — libvirt's
test driver on the project's host file — for guests, their devices and networks. Each shell's script is
driven for real in tests/unit/test_shell_scripts.py; the lab's hosts in tests/lab/test_completion_lab.py."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ztui.cli import main
from ztui.cli.completion import Answer, Kind, complete, kind_of

pytest.importorskip("libvirt", reason="libvirt-python is not installed")


def answer(*words: str, shell: str = "fish", env: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """What the scripts get for these words (the last one is being completed): the first line and the values."""
    argv = ["ztui", *words]
    result = subprocess.run([sys.executable, "-m", "ztui", "__complete", shell, str(len(argv) - 1), *argv],
                            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
                            env={**os.environ, **(env or {})})
    assert result.returncode == 0, result.stderr
    first, *values = result.stdout.splitlines()
    return first, values


def values_of(*words: str, **kw: object) -> list[str]:
    first, values = answer(*words, **kw)  # type: ignore[arg-type]
    assert first == "words"
    return [v.split("\t")[0] for v in values]


def test_a_command_name_completes_from_the_parsers() -> None:
    assert values_of("att", shell="bash") == ["attach"]
    every = values_of("")
    assert {"tree", "attach", "detach", "migrate", "start", "lab", "completion"} <= set(every)
    assert "__complete" not in every  # hidden
    _, values = answer("")
    assert "attach\thotplug a device into a guest" in values  # zsh and fish show what it does


def test_options_of_the_command_on_the_line() -> None:
    options = values_of("detach", "--")
    assert {"--timeout", "--config", "--json", "--connect", "--lab"} <= set(options)
    assert "--dasd" not in options
    assert values_of("migrate", "--pass", shell="bash") == ["--passthrough"]
    assert values_of("migrate", "--passthrough=r", shell="bash") == ["--passthrough=refuse"]
    assert values_of("migrate", "--passthrough", "") == ["detach-reattach", "refuse"]


def test_file_values_are_left_to_the_shell() -> None:
    assert answer("attach", "g", "--disk", "/va")[0] == Answer.FILES
    assert answer("attach", "g", "--disk=/va")[0] == Answer.FILES
    assert answer("lab", "start", "--dir", "")[0] == Answer.DIRS
    assert answer("attach", "g", "--size", "")[1] == []  # a free value: nothing to offer


def test_guests_come_from_the_hosts_on_the_line(testdriver_uri: str) -> None:
    import libvirt

    conn = libvirt.openReadOnly(testdriver_uri)
    every = sorted(d.name() for d in conn.listAllDomains(0))
    conn.close()
    assert values_of("-c", testdriver_uri, "tree", "") == every
    assert values_of("tree", "-c", testdriver_uri, "w", shell="bash") == ["web01", "web02"]
    assert values_of(f"--connect={testdriver_uri}", "attach", "") == every
    assert values_of(f"-c{testdriver_uri}", "migrate", "--to", "x", "") == every
    _, values = answer("-c", testdriver_uri, "tree", "")
    assert "idle-paused\tpaused" in values and "web01\trunning" in values


def test_a_lifecycle_command_offers_the_guests_in_a_state_for_it(testdriver_uri: str) -> None:
    def offered(command: str) -> set[str]:
        return set(values_of("-c", testdriver_uri, command, ""))

    assert offered("start") == {"idle-shutoff", "template", "idle-crashed"}
    assert offered("resume") == {"idle-paused"}
    assert {"db01", "web01", "transient01"} <= offered("shutdown")
    assert not offered("shutdown") & {"idle-shutoff", "idle-paused"}
    assert "idle-paused" in offered("destroy") and "idle-shutoff" not in offered("destroy")


def test_a_guests_devices_by_target_alias_and_bus_id(testdriver_uri: str) -> None:
    import xml.etree.ElementTree as ET

    import libvirt

    conn = libvirt.openReadOnly(testdriver_uri)
    root = ET.fromstring(conn.lookupByName("db01").XMLDesc(0))
    conn.close()
    targets = {t.get("dev") for t in root.iter("target") if t.get("dev") and t.get("bus")}  # disks
    targets |= {m.get("address") for m in root.iter("mac")}  # an interface is named by its MAC
    busids = {f"0.0.{int(a.get('devno', '0'), 16):04x}" for a in root.iter("address") if a.get("type") == "ccw"}
    offered = set(values_of("-c", testdriver_uri, "detach", "db01", ""))
    assert targets and targets <= offered
    assert busids and busids <= offered
    assert set(values_of("-c", testdriver_uri, "migrate", "db01", "--detach", "")) == offered
    assert values_of("-c", testdriver_uri, "detach", "nosuch", "") == []


def test_networks(testdriver_uri: str) -> None:
    assert values_of("-c", testdriver_uri, "attach", "db01", "--net", "") == ["default"]


def test_kinds_follow_how_the_parsers_name_values() -> None:
    """Every value of every command has a kind; the ones that name hosts' things are recognised."""
    parser = main.build_parser([])
    kinds: dict[tuple[str, str], Kind] = {}

    def walk(p: argparse.ArgumentParser, path: str) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}".strip())
            else:
                kinds[(path, action.option_strings[-1] if action.option_strings else action.dest)] = kind_of(action)

    walk(parser, "")
    assert kinds[("attach", "guest")] is Kind.GUEST
    assert kinds[("", "--expand")] is Kind.GUEST
    assert kinds[("detach", "device")] is Kind.DEVICE
    assert kinds[("migrate", "--detach")] is Kind.DEVICE
    assert kinds[("attach", "--target")] is Kind.FREE  # a new name
    assert kinds[("attach", "--dasd")] is Kind.CCW
    assert kinds[("prepare vfio-ccw", "busid")] is Kind.CCW
    assert kinds[("attach", "--mdev")] is Kind.MDEV
    assert kinds[("prepare vfio-ccw", "--uuid")] is Kind.FREE  # a new mdev's UUID
    assert kinds[("attach", "--pci")] is Kind.PCI
    assert kinds[("attach", "--net")] is Kind.NETWORK
    assert kinds[("attach", "--disk")] is Kind.FILE
    assert kinds[("migrate", "--passthrough")] is Kind.CHOICE
    assert all(kinds[(c, "guest")] is Kind.GUEST for c in ("start", "shutdown", "resume", "migrate", "detach"))


def test_words_before_the_cursor_set_the_context() -> None:
    """The word walk itself, with the hosts' values stubbed out by what they were asked."""
    asked: list[tuple[Kind, list[str], bool, str]] = []

    def hosts(kind: Kind, line: object) -> list[tuple[str, str]]:
        asked.append((kind, list(line.uris), line.lab, line.guest))  # type: ignore[attr-defined]
        return [("v", "")]

    parser = main.build_parser([])
    found = complete(parser, ["-c", "u1", "--lab", "detach", "-c", "u2", "g1"], "", hosts)
    assert found.values == [("v", "")]
    assert asked[-1] == (Kind.DEVICE, ["u1", "u2"], True, "g1")
    # `--` ends the options: what follows is a positional even when it starts with a dash
    complete(parser, ["tree", "--", "-odd"], "", hosts)
    assert asked[-1][0] is Kind.GUEST
    # a command's value after a flag, and after an option given with `=`
    complete(parser, ["detach", "--config", "--timeout=3", "g2"], "", hosts)
    assert asked[-1] == (Kind.DEVICE, [], False, "g2")
    assert complete(parser, ["detach", "g", "vda"], "", hosts).values == []  # nothing more to give


def test_a_host_that_does_not_answer_is_not_waited_for(silent_host: str, testdriver_uri: str) -> None:
    started = time.monotonic()
    offered = values_of("-c", silent_host, "-c", testdriver_uri, "tree", "")
    elapsed = time.monotonic() - started
    assert "web01" in offered  # the host that answers still counts
    assert elapsed < 10, f"the completion waited {elapsed:.1f} s for a host that does not answer"


def test_the_completion_command_prints_each_shells_script() -> None:
    for shell, marker in (("bash", "complete -F _ztui ztui"), ("zsh", "#compdef ztui"),
                          ("fish", "complete -c ztui")):
        result = subprocess.run([sys.executable, "-m", "ztui", "completion", shell], capture_output=True,
                                text=True, timeout=30, check=True)
        assert marker in result.stdout
        script = Path(__file__).resolve().parents[2] / "ztui" / "cli" / "shells"
        assert result.stdout in {p.read_text() for p in script.iterdir()}
    bad = subprocess.run([sys.executable, "-m", "ztui", "completion", "tcsh"], capture_output=True, text=True,
                         timeout=30)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_saved_hosts_and_groups_complete_and_choose_the_hosts_read(tmp_path: Path) -> None:
    host_file = Path(__file__).parent.parent / "fixtures" / "testdriver" / "zhost.xml"
    config = tmp_path / "ztui" / "config.toml"
    config.parent.mkdir()
    config.write_text(f'[hosts."lpar1"]\nuri = "test://{host_file}"\ngroup = "prod"\n\n'
                      '[hosts."lpar2"]\nuri = "qemu+ssh://root@lpar2.example.com/system"\n')
    env = {"XDG_CONFIG_HOME": str(tmp_path), "ZTUI_LAB_DIR": str(tmp_path / "nolab")}
    assert values_of("tree", "-c", "", env=env) == ["lpar1", "lpar2"]
    assert values_of("migrate", "g", "--to", "lpar", env=env, shell="bash") == ["lpar1", "lpar2"]
    assert values_of("tree", "-g", "", env=env) == ["prod"]
    by_name = values_of("start", "-c", "lpar1", "", env=env)
    assert by_name and by_name == values_of("start", "-g", "prod", "", env=env)


def test_a_saved_hosts_config_that_cannot_be_read_costs_only_what_needs_it(tmp_path: Path) -> None:
    """The script is printed and the commands complete as ever; only values the config holds are missing."""
    (tmp_path / "ztui").mkdir()
    (tmp_path / "ztui" / "config.toml").write_bytes(b"\xff\xfe")
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "ZTUI_LAB_DIR": str(tmp_path / "nolab")}
    script = subprocess.run([sys.executable, "-m", "ztui", "completion", "bash"], capture_output=True, text=True,
                            timeout=30, env=env)
    assert script.returncode == 0 and "complete -F _ztui ztui" in script.stdout and script.stderr == ""
    assert values_of("att", shell="bash", env=env) == ["attach"]
    assert values_of("tree", "-g", "", env=env) == []


def test_the_hosts_read_are_chosen_by_the_rule_every_command_follows(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from ztui.cli.completion import Line, line_uris
    from ztui.cli.main import build_parser
    from ztui.lab import hosts as lab
    from ztui.lab.hosts import LabHost

    running = [LabHost("zlab-a", "qemu+unix:///system?socket=/a", pid=1),
               LabHost("zlab-b", "qemu+unix:///system?socket=/b", pid=2), LabHost("zlab-c", "qemu:///c")]
    monkeypatch.setattr(lab, "lab_hosts", lambda: running)  # the lab's record, as a running lab has it
    (tmp_path / "ztui").mkdir()
    (tmp_path / "ztui" / "config.toml").write_text('[hosts."lpar1"]\nuri = "test:///default"\ngroup = "prod"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))

    def uris(*words: str) -> list[str]:
        line = Line(build_parser(list(words)))
        for word in words:
            line.read(word)
        return line_uris(line)

    assert uris("--lab", "start") == [running[0].uri, running[1].uri]  # the running ones
    assert uris("--lab", "start", "-c", "zlab-b") == [running[1].uri]
    assert uris("--lab", "start", "-g", "prod") == ["test:///default"]  # a group is a group, lab or not
    assert uris("--lab", "start", "-c", "lpar1", "-c", "zlab-a") == ["test:///default", running[0].uri]
    assert uris("start", "-c", "lpar1") == ["test:///default"]
    monkeypatch.setattr(lab, "lab_hosts", lambda: [])
    assert uris("--lab", "start") == []  # no lab runs: nothing is read, and nothing started


def test_the_names_offered_for_c_are_those_it_takes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Saved names always, by the name they were saved under (also for a lab host saved by its socket); lab
    hosts' names only with --lab, the only line on which -c takes them."""
    from ztui.cli.completion import complete, read_hosts
    from ztui.cli.main import build_parser
    from ztui.lab import hosts as lab
    from ztui.lab.hosts import LabHost

    running = [LabHost("zlab-a", "qemu+unix:///system?socket=/a", pid=1)]
    monkeypatch.setattr(lab, "lab_hosts", lambda: running)
    (tmp_path / "ztui").mkdir()
    (tmp_path / "ztui" / "config.toml").write_text('[hosts."mine"]\nuri = "qemu+unix:///system?socket=/a"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))

    def offered(*before: str) -> list[str]:
        return [value for value, _ in complete(build_parser(list(before)), list(before), "", read_hosts).values]

    assert offered("tree", "-c") == ["mine"]
    assert offered("--lab", "tree", "-c") == ["mine", "zlab-a"]
    assert offered("migrate", "g", "--to") == ["mine"]
