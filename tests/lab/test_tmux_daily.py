"""The daily keys as an administrator uses them: ztui in a real terminal (tmux) at 160x50 and 80x24 on the
lab. `s`, `P`, `D` + `y` change the guest's state (asked of libvirt) and the tree shows it; `c` hands the
terminal to `virsh console` and ctrl+] brings ztui back."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid as uuidlib
from collections.abc import Callable, Iterator
from pathlib import Path

import libvirt
import pytest

from tests.lab.support import Lab
from tests.lab.test_lifecycle import own_guest  # noqa: F401 - the fixture

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

B = "zlab-b"


class Terminal:
    """One detached tmux session running ztui; the socket is private so no user session is touched."""

    def __init__(self, socket: Path, name: str) -> None:
        self.socket, self.name = socket, name

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", str(self.socket), *args], check=True, capture_output=True,
                              text=True).stdout

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", self.name, key)
            time.sleep(0.15)

    def paste(self, text: str) -> None:
        """The text as a terminal delivers a paste: all its characters at once, not key by key."""
        self.tmux("send-keys", "-t", self.name, "-l", text)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def wait(self, predicate: Callable[[str], bool], timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        text = self.screen()
        while not predicate(text) and time.monotonic() < deadline:
            time.sleep(0.1)
            text = self.screen()
        assert predicate(text), text
        return text


@pytest.fixture
def terminal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[int, int, str], Terminal]]:
    socket = tmp_path / "tmux.sock"
    made: list[Terminal] = []

    def start(width: int, height: int, uri: str) -> Terminal:
        name = f"ztui{uuidlib.uuid4().hex[:6]}"
        command = f"env XDG_STATE_HOME={tmp_path} TERM=xterm-256color {sys.executable} -m ztui -c '{uri}'"
        subprocess.run(["tmux", "-S", str(socket), "new-session", "-d", "-s", name, "-x", str(width), "-y",
                        str(height), command], check=True, env={**os.environ, "TMUX": ""})
        term = Terminal(socket, name)
        made.append(term)
        return term

    yield start
    for term in made:
        subprocess.run(["tmux", "-S", str(socket), "kill-session", "-t", term.name], capture_output=True)
    subprocess.run(["tmux", "-S", str(socket), "kill-server"], capture_output=True)


def state(uri: str, name: str) -> int:
    conn = libvirt.open(uri)
    try:
        return int(conn.lookupByName(name).state()[0])
    finally:
        conn.close()


def line_of(screen: str, name: str) -> str:
    return next((line for line in screen.splitlines() if name in line), "")


@pytest.mark.parametrize("size", [(160, 50), (80, 24)], ids=["160x50", "80x24"])
def test_s_p_d_and_the_console_in_a_real_terminal(lab: Lab, own_guest: str, terminal,  # type: ignore[no-untyped-def]  # noqa: F811
                                                  size: tuple[int, int]) -> None:
    uri = lab.uris[B]
    term = terminal(size[0], size[1], uri)
    term.wait(lambda s: own_guest[:8] in s and "lnxb01" in s, 30)
    term.keys("j")  # the first guest under the host: the test's own guest sorts before lnxb01
    term.keys("s")
    term.wait(lambda s: "running" in line_of(s, own_guest[:8]))
    assert state(uri, own_guest) == libvirt.VIR_DOMAIN_RUNNING
    term.keys("P")
    term.wait(lambda s: "paused" in line_of(s, own_guest[:8]))
    assert state(uri, own_guest) == libvirt.VIR_DOMAIN_PAUSED
    term.keys("s")
    term.wait(lambda s: "running" in line_of(s, own_guest[:8]))

    for _ in range(2):  # the console takes a clean terminal (nothing of the tree, nor of the last console)
        term.keys("c")
        console = term.wait(lambda s: "Escape character" in s)
        assert console.count("Connected to domain") == 1 and "lnxb01" not in console, console
        term.keys("C-]")
        term.wait(lambda s: "running" in line_of(s, own_guest[:8]) and "lnxb01" in s)

    term.keys("D")
    term.wait(lambda s: "Force off" in s and "destroy" in s)  # the question and the virsh command
    term.keys("y")
    term.wait(lambda s: "shut off" in line_of(s, own_guest[:8]))
    assert state(uri, own_guest) == libvirt.VIR_DOMAIN_SHUTOFF
    term.keys("q")


def test_80x24_every_blocker_mark_and_the_details_after_a_pasted_filter(lab: Lab, terminal) -> None:  # type: ignore[no-untyped-def]
    """At 80x24 on the simulated z16: the guest with pass-through devices shows its `⛔` mark; a pasted
    filter puts the cursor, and the details pane, on the device it matches; a free DASD no guest uses is
    shown under its host, and `H` opens the host devices view on it."""
    if not lab.z_uri:
        pytest.skip("the lab has no simulated Z host")
    term = terminal(80, 24, lab.z_uri)
    text = term.wait(lambda s: "zlnx04" in s, 30)
    assert "⛔ 4 migration blockers" in line_of(text, "zlnx04"), text
    term.keys("/")
    term.paste("5c05")  # zlnx02's DASD
    text = term.wait(lambda s: "Device of zlnx02" in s)
    assert "0.0.5c05" in text
    term.keys("C-u")
    term.paste("0.0.5c07")  # a DASD no guest uses
    text = term.wait(lambda s: "no guest matches" in s)
    assert "0.0.5c07" in line_of(text, "ccw") and "Host device" in text
    term.keys("Enter", "H")
    term.wait(lambda s: "host devices matching '0.0.5c07'" in s and re.search(r"│ id +0\.0\.5c07", s) is not None)
    term.keys("Escape", "q")
