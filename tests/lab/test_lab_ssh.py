"""Lab hosts over `qemu+ssh` through the lab's own sshd, as administrators reach their Z hosts: the tree and a
hotplug work over it; where ssh would ask (a host key never seen, a key with a passphrase) ztui never lets it
ask on its terminal but says in one line what ssh needs and the command to run once; a daemon that stops
answering is shown as such within a bound; `ztui lab stop` leaves no sshd behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid as uuidlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.lab.support import Lab, shared_image
from tests.lab.test_tmux_daily import Terminal

A, B = "zlab-a", "zlab-b"


def ztui(*args: str, state: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_STATE_HOME": str(state)}
    return subprocess.run([sys.executable, "-m", "ztui", *args], capture_output=True, text=True, timeout=120,
                          env=env, stdin=subprocess.DEVNULL)


def never_seen(uri: str) -> str:
    """The URI with plain `ssh` instead of the lab's wrapper: its host key is one this user never accepted."""
    return uri.split("&command=")[0]


def port_of(uri: str) -> int:
    port = urlsplit(uri).port
    assert port is not None
    return port


@pytest.fixture
def user_ssh_untouched() -> Iterator[None]:
    """Nothing of the lab lands in the user's own ssh files."""
    home = Path.home() / ".ssh"
    before = {p.name: p.read_bytes() for p in home.iterdir()} if home.is_dir() else None
    yield
    after = {p.name: p.read_bytes() for p in home.iterdir()} if home.is_dir() else None
    assert after == before


def _shown(doc: dict[str, object]) -> list[tuple[object, ...]]:
    (host,) = doc["hosts"]  # type: ignore[misc]
    return [(g["name"], g["state"], tuple((d["kind"], d["target"], d["alias"], d["address"], d["source"])
                                          for d in g["devices"])) for g in host["guests"]]


def test_the_tree_over_ssh_is_the_tree(lab: Lab, tmp_path: Path, user_ssh_untouched: None) -> None:
    over_ssh = ztui("tree", "--json", "-c", lab.ssh_uris[A], state=tmp_path)
    assert over_ssh.returncode == 0, over_ssh.stderr
    doc = json.loads(over_ssh.stdout)
    assert doc["hosts"][0]["uri"] == lab.ssh_uris[A] and doc["hosts"][0]["hostname"] == A
    assert _shown(doc) == _shown(json.loads(ztui("tree", "--json", "-c", lab.uris[A], state=tmp_path).stdout))


def test_a_hotplug_over_ssh(lab: Lab, tmp_path: Path, user_ssh_untouched: None) -> None:
    uri = lab.ssh_uris[A]
    image = shared_image(lab, "over-ssh.img")
    attached = ztui("attach", "lnxa03", "--disk", str(image), "-c", uri, "--json", state=tmp_path)
    assert attached.returncode == 0, attached.stderr
    doc = json.loads(attached.stdout)
    assert doc["outcome"] == "attached" and doc["uri"] == uri
    tree = json.loads(ztui("tree", "--json", "-c", uri, "lnxa03", state=tmp_path).stdout)
    assert str(image) in [d["source"] for d in tree["hosts"][0]["guests"][0]["devices"]]
    detached = ztui("detach", "lnxa03", doc["target"], "-c", uri, state=tmp_path)
    assert detached.returncode == 0, detached.stderr


def test_a_host_key_never_seen_is_one_line_with_the_command_to_run_once(lab: Lab, tmp_path: Path,
                                                                         user_ssh_untouched: None) -> None:
    uri = never_seen(lab.ssh_uris[A])
    started = time.monotonic()
    done = ztui("tree", "-c", uri, state=tmp_path)
    assert time.monotonic() - started < 10  # ssh was not left waiting for a "yes"
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    key = lab.base / "ssh" / "client_ed25519_key"
    assert (f"ssh does not know the host key of 127.0.0.1:{port_of(uri)} yet and ztui never asks (check it and "
            f"accept it once: ssh -p {port_of(uri)} -i {key} root@127.0.0.1 true)") in done.stderr


def test_a_key_with_a_passphrase_is_one_line(lab: Lab, tmp_path: Path, user_ssh_untouched: None) -> None:
    key = tmp_path / "locked"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-f", str(key)], check=True)
    authorized = lab.base / "ssh" / "authorized_keys"
    before = authorized.read_text()
    authorized.write_text(before + Path(f"{key}.pub").read_text())  # the key is welcome; only its passphrase lacks
    try:
        uri = lab.ssh_uris[A].replace(str(lab.base / "ssh" / "client_ed25519_key"), str(key))
        done = ztui("tree", "-c", uri, state=tmp_path)
    finally:
        authorized.write_text(before)
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert (f"ssh could not log in to 127.0.0.1:{port_of(uri)} with a key it can use unasked (a key with a "
            "passphrase only from ssh-agent), and ztui never asks") in done.stderr
    assert "load the key into ssh-agent (ssh-add)" in done.stderr


def _tty_fds(pid: int) -> list[str]:
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(("/dev/pts/", "/dev/tty")):
            found.append(target)
    return found


def _controlling_tty(pid: int) -> int:
    """The device number of a process's controlling terminal (0: none), from /proc/PID/stat."""
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[4])


def _ssh_processes(port: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and Path(argv[0].decode(errors="replace")).name == "ssh" and str(port).encode() in argv:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
def test_the_tui_asks_nothing_on_its_terminal(lab: Lab, tmp_path: Path, size: tuple[int, int],
                                              user_ssh_untouched: None) -> None:
    """The issue's case: a host whose key ssh has never seen, beside one it knows. Before, ssh sat on the TUI's
    terminal waiting for "yes" and the borders tore; now the host's line says what to do and nothing waits."""
    known, unknown = lab.ssh_uris[A], never_seen(lab.ssh_uris[B])
    socket, name = tmp_path / "tmux.sock", f"ztui{uuidlib.uuid4().hex[:6]}"
    command = (f"env XDG_STATE_HOME={tmp_path} XDG_CONFIG_HOME={tmp_path} TERM=xterm-256color {sys.executable} "
               f"-m ztui -c '{known}' -c '{unknown}'")
    width, height = size
    subprocess.run(["tmux", "-S", str(socket), "new-session", "-d", "-s", name, "-x", str(width), "-y", str(height),
                    command], check=True, env={**os.environ, "TMUX": ""})
    term = Terminal(socket, name)
    try:
        screen = term.wait(lambda s: "lnxa03" in s and f"✗ root@127.0.0.1:{port_of(unknown)}  not connected" in s)
        if width >= 160:
            assert "not connected: ssh does not know the host key of" in screen
        lines = screen.splitlines()
        assert lines[0].startswith("╭") and lines[0].rstrip().endswith("╮")
        frame = [line for line in lines[1:] if line.startswith("│")]
        assert frame and all(line.rstrip().endswith("│") for line in frame)  # no line torn by ssh's text
        term.keys("j", "j", "j", "j")  # onto the host: its details say it whole (beside the tree, or under it
        # on a narrow screen, where the host's own line is cut)
        shown = term.screen().splitlines()
        details = ("".join(line.split("││")[-1] for line in shown if "││" in line) if width >= 100 else
                   "".join(shown[next(i for i, line in enumerate(shown) if "details" in line):]))
        said = "".join(c for c in details if not c.isspace() and c not in "│╭╮╰╯─▁▂▃▄▅▆▇█▔")  # text, not frames
        assert "notconnected:sshdoesnotknowthehostkey" in said and f"ssh-p{port_of(unknown)}-i" in said
        # the keys are ztui's: a filter typed (pasted) into its input
        term.keys("/")
        term.tmux("send-keys", "-t", name, "-l", "lnxa02")
        term.wait(lambda s: "lnxa02" in s and "lnxa03" not in s)
        for pid in _ssh_processes(port_of(known)):  # the connection's ssh, and any retry of the unknown host
            assert _tty_fds(pid) == [], f"ssh {pid} holds the terminal"
            assert _controlling_tty(pid) == 0, f"ssh {pid} has the terminal as its controlling terminal"
            assert b"BatchMode=yes" in Path(f"/proc/{pid}/cmdline").read_bytes()
    finally:
        subprocess.run(["tmux", "-S", str(socket), "kill-server"], capture_output=True)


def _libvirtd(lab: Lab, name: str) -> int:
    return int((lab.base / "hosts" / name / "run" / "libvirtd.pid").read_text().split()[0])


def test_a_daemon_that_stops_answering_is_shown_within_a_bound(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stopped daemon still has its socket accept connections: libvirt's keepalive ends the open connection,
    and the reconnect, which gets no answer, is shown as not answering; once it answers again it is up."""
    from ztui.libvirt.session import HostSession
    from ztui.libvirt.session_updates import HostDown, HostUp, Update

    monkeypatch.setenv("ZTUI_CONNECT_TIMEOUT", "1")
    got: list[Update] = []
    session = HostSession(lab.ssh_uris[B], got.append, reconnect_delays=(0.2,))
    session.start()
    pid = _libvirtd(lab, B)

    def wait(predicate: object, timeout: float) -> float:
        started = time.monotonic()
        while not predicate() and time.monotonic() - started < timeout:  # type: ignore[operator]
            time.sleep(0.05)
        assert predicate(), got  # type: ignore[operator]
        return time.monotonic() - started

    try:
        wait(lambda: any(isinstance(u, HostUp) for u in got), 30)
        os.kill(pid, signal.SIGSTOP)
        took = wait(lambda: any(isinstance(u, HostDown) for u in got), 40)
        assert took < 30  # keepalive: five seconds, three times
        wait(lambda: any(isinstance(u, HostDown) and "not answering" in u.reason for u in got), 10)
        os.kill(pid, signal.SIGCONT)
        count = len(got)
        wait(lambda: any(isinstance(u, HostUp) for u in got[count:]), 30)
    finally:
        os.kill(pid, signal.SIGCONT)
        session.stop()


def test_lab_stop_leaves_no_sshd(tmp_path: Path) -> None:
    from ztui.lab.daemon import process_alive
    from ztui.lab.hosts import start_lab, stop_lab
    from ztui.lab.sshd import SshPaths, sshd_pid

    base = Path(f"/var/tmp/ztui-lab-sshstop-{os.getpid()}")
    try:
        (host,) = start_lab(hosts=1, base_dir=base, z=False)
        pid = sshd_pid(SshPaths(base / "ssh"))
        assert pid is not None and host.ssh_uri.startswith("qemu+ssh://root@127.0.0.1:")
        session = subprocess.Popen([sys.executable, "-m", "ztui", "tree", "-c", host.ssh_uri],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        session.wait(60)
    finally:
        stop_lab(base)
    assert not base.exists()
    assert not process_alive(pid)  # gone, or a zombie that init has yet to reap
    for entry in Path("/proc").iterdir():  # nothing has the lab's ssh directory mounted any more
        if entry.name.isdigit():
            try:
                assert str(base) not in (entry / "mountinfo").read_text()
            except OSError:
                continue
