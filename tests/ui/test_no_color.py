"""NO_COLOR (https://no-color.org) in the TUI: Textual turns the screen monochrome, so ztui running in a real
terminal (tmux) draws only shades of grey; without it the same screen has colours. The CLI's side (plain
text) is tested with `ztui tree`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.pty_text import read_to_end

pytest.importorskip("libvirt", reason="libvirt-python is not installed")

_SGR = re.compile(r"\x1b\[([0-9;]*)m")


def _colours(env: dict[str, str], socket: Path) -> set[tuple[int, ...]]:
    """Every colour the TUI's first screen uses, as (r, g, b) or (palette index,); tmux on a private socket."""
    server = ["-S", str(socket)]
    command = " ".join(f"{k}={v}" for k, v in env.items())
    subprocess.run(["tmux", *server, "new-session", "-d", "-x", "100", "-y", "30",
                    f"env {command} {sys.executable} -m ztui -c test:///default"], check=True,
                   env={**os.environ, "TMUX": ""})
    try:
        screen = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "1 guest" not in screen:
            time.sleep(0.3)
            screen = subprocess.run(["tmux", *server, "capture-pane", "-e", "-p"], capture_output=True,
                                    text=True).stdout
        assert "1 guest" in screen, screen
    finally:
        subprocess.run(["tmux", *server, "kill-server"], check=False, capture_output=True)
    found: set[tuple[int, ...]] = set()
    for params in _SGR.findall(screen):
        codes = [int(p) for p in params.split(";") if p]
        i = 0
        while i < len(codes):
            if codes[i] in (38, 48) and codes[i + 1:i + 2] == [5]:
                found.add((codes[i + 2],))
                i += 3
            elif codes[i] in (38, 48) and codes[i + 1:i + 2] == [2]:
                found.add(tuple(codes[i + 2:i + 5]))
                i += 5
            else:
                if 30 <= codes[i] <= 37 or 40 <= codes[i] <= 47 or 90 <= codes[i] <= 107:
                    found.add((codes[i],))  # a basic colour: never a grey here
                i += 1
    return found


def _grey(colour: tuple[int, ...]) -> bool:
    if len(colour) == 3:
        return colour[0] == colour[1] == colour[2]
    (index,) = colour
    return index in (0, 7, 8, 15, 16, 231) or 232 <= index <= 255  # black, white, the grey ramp


def test_no_color_makes_the_tui_monochrome(tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "TERM": "xterm-256color",
            "XDG_STATE_HOME": str(tmp_path)}
    coloured = _colours(base, tmp_path / "coloured.sock")
    assert any(not _grey(c) for c in coloured), coloured  # the test can fail: there are colours to lose
    plain = _colours({**base, "NO_COLOR": "1"}, tmp_path / "plain.sock")
    assert plain and all(_grey(c) for c in plain), sorted(plain)


def _tree_on_a_terminal(env: dict[str, str]) -> str:
    """`ztui tree` with its standard output on a terminal (a pty), as a person runs it."""
    import pty

    main_fd, sub_fd = pty.openpty()
    try:
        subprocess.run([sys.executable, "-m", "ztui", "tree", "-c", "test:///default"], stdout=sub_fd,
                       stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env, timeout=60, check=True)
        os.close(sub_fd)
        return read_to_end(main_fd).decode()
    finally:
        os.close(main_fd)


def test_no_color_makes_the_tree_plain() -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert _SGR.search(_tree_on_a_terminal(env))  # coloured on a terminal
    plain = _tree_on_a_terminal({**env, "NO_COLOR": "1"})
    assert "test" in plain and not _SGR.search(plain)
