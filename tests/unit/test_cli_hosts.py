"""`ztui hosts` and saved hosts in every command: names for -c, groups for -g, a plain `ztui` opening them all,
a host saved read-only refusing every change, a broken config as one line — on libvirt's test driver."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import TESTDRIVER


def ztui(*args: str, xdg: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "XDG_CONFIG_HOME": str(xdg), "XDG_STATE_HOME": str(xdg / "state"), **(env or {})}
    full.pop("LIBVIRT_DEFAULT_URI", None)
    return subprocess.run([sys.executable, "-m", "ztui", *args], capture_output=True, text=True, timeout=120,
                          env=full)


@pytest.fixture
def fleet(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Three test-driver hosts saved: a and b in group z, c read-only in no group; b's db01 is called db99."""
    xdg = tmp_path / "xdg"
    uris = {}
    for name in ("a", "b", "c"):
        path = tmp_path / f"{name}.xml"
        text = TESTDRIVER.read_bytes()
        path.write_bytes(text.replace(b"<name>db01</name>", b"<name>db99</name>") if name == "b" else text)
        uris[name] = f"test://{path}"
    for name, extra in (("a", ["-g", "z"]), ("b", ["--group", "z"]), ("c", ["--readonly"])):
        done = ztui("hosts", "add", f"host-{name}", uris[name], *extra, xdg=xdg)
        assert done.returncode == 0, done.stderr
    return xdg, uris


def test_hosts_list_and_remove(fleet: tuple[Path, dict[str, str]]) -> None:
    xdg, uris = fleet
    listed = json.loads(ztui("hosts", "list", "--json", xdg=xdg).stdout)
    assert listed["file"] == str(xdg / "ztui" / "config.toml")
    assert listed["hosts"] == [
        {"name": "host-a", "uri": uris["a"], "group": "z", "readonly": False},
        {"name": "host-b", "uri": uris["b"], "group": "z", "readonly": False},
        {"name": "host-c", "uri": uris["c"], "group": None, "readonly": True}]
    text = ztui("hosts", "list", "-g", "z", xdg=xdg).stdout.splitlines()
    assert [line.split()[0] for line in text] == ["host-a", "host-b"]
    assert ztui("hosts", "remove", "host-b", xdg=xdg).returncode == 0
    again = ztui("hosts", "remove", "host-b", xdg=xdg)
    assert again.returncode == 2 and again.stderr.count("\n") == 1 and "no saved host is named 'host-b'" in again.stderr
    assert [h["name"] for h in json.loads(ztui("hosts", "list", "--json", xdg=xdg).stdout)["hosts"]] == [
        "host-a", "host-c"]


@pytest.mark.parametrize(("args", "says"), [
    (["hosts", "add", "qemu:///system", "qemu:///system"], "looks like a URI"),
    (["hosts", "add", "host-a", "test:///default"], "saved already"),
    (["hosts", "add", "x", "nonsense"], "not a libvirt URI"),
    (["hosts", "add", "x", "test:///default", "-g", "a b"], "is not a name"),
    (["hosts"], "a command is required"),
])
def test_bad_hosts_commands_are_one_line_and_change_nothing(fleet: tuple[Path, dict[str, str]], args: list[str],
                                                            says: str) -> None:
    xdg, _ = fleet
    before = (xdg / "ztui" / "config.toml").read_bytes()
    done = ztui(*args, xdg=xdg)
    assert done.returncode == 2 and says in done.stderr
    assert "Traceback" not in done.stderr and done.stderr.strip().count("\n") <= 1 + ("usage" in done.stderr) * 2
    assert (xdg / "ztui" / "config.toml").read_bytes() == before


def test_saved_names_and_groups_in_tree(fleet: tuple[Path, dict[str, str]]) -> None:
    xdg, uris = fleet
    by_name = json.loads(ztui("tree", "--json", "-c", "host-c", xdg=xdg).stdout)
    assert [h["uri"] for h in by_name["hosts"]] == [uris["c"]]
    grouped = json.loads(ztui("tree", "--json", "-g", "z", "-c", "host-c", xdg=xdg).stdout)
    assert [h["uri"] for h in grouped["hosts"]] == [uris["c"], uris["a"], uris["b"]]
    assert all(h["connected"] and h["guests"] for h in grouped["hosts"])
    # before the command name too, and for hostdevs
    assert [h["uri"] for h in json.loads(ztui("-g", "z", "hostdevs", "--json", xdg=xdg).stdout)["hosts"]] == [
        uris["a"], uris["b"]]
    unknown = ztui("tree", "-g", "nope", xdg=xdg)
    assert unknown.returncode == 2 and "no saved host is in group 'nope' (groups: z)" in unknown.stderr


def test_without_c_every_saved_host_is_read(fleet: tuple[Path, dict[str, str]]) -> None:
    xdg, uris = fleet
    everything = json.loads(ztui("tree", "--json", xdg=xdg, env={"LIBVIRT_DEFAULT_URI": "test:///default"}).stdout)
    assert [h["uri"] for h in everything["hosts"]] == [uris["a"], uris["b"], uris["c"]]
    plain = ztui(xdg=xdg)  # no terminal: the TUI's hosts as text
    assert plain.returncode == 0 and all(uri in plain.stdout for uri in uris.values())


def test_a_host_saved_read_only_refuses_changes_before_connecting(fleet: tuple[Path, dict[str, str]]) -> None:
    xdg, _ = fleet
    refused = ztui("destroy", "db01", "-c", "host-c", xdg=xdg)
    assert refused.returncode == 2
    assert "host-c is saved read-only: the connection is read-only, so ztui does not force off" in refused.stderr



def test_a_command_on_one_guest_finds_its_host(fleet: tuple[Path, dict[str, str]]) -> None:
    xdg, uris = fleet
    found = ztui("suspend", "db01", "-g", "z", "--json", xdg=xdg)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["uri"] == uris["a"]
    both = ztui("suspend", "web01", "-g", "z", xdg=xdg)
    assert both.returncode == 2 and "'web01' is running on 2 hosts" in both.stderr
    assert "say which with -c" in both.stderr
    none = ztui("suspend", "nosuch", "-g", "z", xdg=xdg)
    assert none.returncode == 2 and "none of the hosts (2) has a guest named 'nosuch'" in none.stderr


def test_a_broken_config_is_one_line_and_exit_2(fleet: tuple[Path, dict[str, str]]) -> None:
    xdg, _ = fleet
    (xdg / "ztui" / "config.toml").write_text("[hosts.a]\nuri = 'test:///default'\nurl = 1\n")
    for args in (["tree"], ["hosts", "list"], ["tree", "-c", "host-a"], []):
        done = ztui(*args, xdg=xdg)
        assert done.returncode == 2, args
        assert done.stderr.count("\n") == 1 and "config.toml: host 'a': unknown key 'url'" in done.stderr
    # a URI given as it is needs no config
    assert ztui("tree", "-c", "test:///default", xdg=xdg).returncode == 0


def test_a_host_that_does_not_answer_costs_one_answer_time_and_is_not_taken_for_no_guest(
        fleet: tuple[Path, dict[str, str]], silent_host: str) -> None:
    xdg, uris = fleet
    env = {"ZTUI_CONNECT_TIMEOUT": "1"}
    started = time.monotonic()
    found = ztui("suspend", "db99", "-c", "host-b", "-c", silent_host, "--json", xdg=xdg, env=env)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["uri"] == uris["b"]  # it runs there: the silent host cannot change that
    assert time.monotonic() - started < 8
    # shut off on the one that answered: it may run on the one that did not, so nothing is started
    unsure = ztui("start", "idle-shutoff", "-c", "host-a", "-c", silent_host, xdg=xdg, env=env)
    assert unsure.returncode == 1 and unsure.stderr.count("\n") == 1
    assert (f"'idle-shutoff' runs on none of the hosts that answered, and 1 did not ({silent_host}): it may run "
            "there; say which host with -c; nothing was changed") in unsure.stderr


def test_a_saved_host_that_does_not_answer_holds_a_start_up_for_the_answer_time(
        fleet: tuple[Path, dict[str, str]], silent_host: str) -> None:
    """Every other host is asked whether the guest runs there: one that does not answer costs the answer time
    every command gives a host (ZTUI_CONNECT_TIMEOUT), and the start is refused (it may run there)."""
    xdg, _ = fleet
    assert ztui("hosts", "add", "hung", silent_host, xdg=xdg).returncode == 0
    started = time.monotonic()
    refused = ztui("start", "idle-shutoff", "-c", "host-a", xdg=xdg, env={"ZTUI_CONNECT_TIMEOUT": "2"})
    assert time.monotonic() - started < 6
    assert refused.returncode != 0 and "ztui could not ask hung (no answer within 2 s)" in refused.stderr
