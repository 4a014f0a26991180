"""`make bench-peers`: the first guest on screen, ztui beside virtui-manager (the other Textual libvirt TUI).

Both run in a real terminal (tmux, 120x40) on the same libvirt test-driver host file, at 10 and at 1000
guests, taken in turns (ztui, each virtui-manager version, ztui, ...) so that a machine that speeds up or
slows down moves every figure alike. The figure is the time from starting the program until a guest's
line is on the terminal: ztui's tree line (`lnx0001  running`), virtui-manager's VM card (the name, and
its state on the card's next line). Medians of `ZTUI_BENCH_RUNS` (default 5) runs; the ratio ztui /
virtui-manager is printed per version and size and written to bench-peers-results.json. Not part of
`make test`.

virtui-manager is installed from PyPI into a virtualenv of its own under `.bench-peers/` (once):
`pip install --no-deps virtui-manager==VERSION`, then its dependencies by name, with the Textual version
ztui runs on. Its `gi` (PyGObject) and `libvirt` imports come from Debian's python3-gi and python3-libvirt:
the virtualenv is made by Debian's python3 with `--system-site-packages`. Each version gets a home
directory of its own with an autoconnect configuration for the host file (`~/.config/virtui-manager/
config.yaml`), so nothing of the user's is read or changed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PEERS = REPO / ".bench-peers"
VERSIONS = tuple(os.environ.get("ZTUI_PEER_VERSIONS", "3.3.3 3.3.2").split())  # the two newest on PyPI
SIZES = tuple(int(n) for n in os.environ.get("ZTUI_PEER_SIZES", "10 1000").split())
RUNS = int(os.environ.get("ZTUI_BENCH_RUNS", "5"))
TERMINAL = (120, 40)
TIMEOUT = 120.0
SOCKET = f"ztui-bench-peers-{os.getpid()}"
DEPENDENCIES = ("PyYAML", "markdown-it-py", "packaging", "requests", "netifaces")  # beside textual and the two
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's: python3-gi and python3-libvirt are built for it


@dataclass(frozen=True)
class Program:
    """One program to time: how to start it, and the text on screen that means a guest is shown."""

    name: str
    command: list[str]
    env: dict[str, str]
    shown: re.Pattern[str]


def run(*cmd: str | Path) -> None:
    subprocess.run([str(c) for c in cmd], check=True, stdout=subprocess.DEVNULL)


def textual_version() -> str:
    from importlib.metadata import version

    return version("textual")


def install_virtui(version: str) -> Path:
    """The virtualenv with virtui-manager VERSION (made once; a failed install is removed again)."""
    root = PEERS / f"virtui-manager-{version}"
    command = root / "bin" / "virtui-manager"
    if command.exists():
        return command
    if not Path(SYSTEM_PYTHON).exists():
        raise SystemExit(f"{SYSTEM_PYTHON} is missing: Debian's python3 (with python3-gi, python3-libvirt) is needed")
    print(f"installing virtui-manager {version} into {root} …", flush=True)
    try:
        run(SYSTEM_PYTHON, "-m", "venv", "--system-site-packages", root)
        run(root / "bin" / "pip", "install", "--quiet", "--no-deps", f"virtui-manager=={version}")
        run(root / "bin" / "pip", "install", "--quiet", f"textual=={textual_version()}", *DEPENDENCIES)
        run(root / "bin" / "python", "-c", "import gi, libvirt, textual, vmanager")
    except (subprocess.CalledProcessError, SystemExit):
        shutil.rmtree(root, ignore_errors=True)
        raise
    return command


def virtui_home(base: Path, uri: str) -> Path:
    """A home directory whose virtui-manager configuration connects to `uri` at start, and to nothing else."""
    home = base / "home"
    config = home / ".config" / "virtui-manager"
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.yaml").write_text(f"servers:\n- name: bench\n  uri: {uri}\n  autoconnect: true\n")
    return home


def programs(uri: str, base: Path) -> list[Program]:
    state = base / "ztui-state"  # a state directory of its own: a journal entry would open a screen first
    found = [Program("ztui", [str(REPO / ".venv" / "bin" / "ztui"), "-c", uri],
                     {"XDG_STATE_HOME": str(state)}, re.compile(r"lnx\d+ +(running|shut off|paused)"))]
    for version in VERSIONS:
        home = virtui_home(base / version, uri)
        found.append(Program(f"virtui-manager {version}", [str(install_virtui(version))],
                             {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")},
                             re.compile(r"lnx\d+[^\n]*\n[^\n]*│ +(Running|Stopped|Paused)")))
    return found


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], check=True, capture_output=True, text=True).stdout


def first_guest_seconds(program: Program) -> float:
    """Start the program in a fresh tmux session and wait for a guest on the terminal."""
    width, height = TERMINAL
    env = " ".join(f"{k}={v}" for k, v in {"TERM": "xterm-256color", **program.env}.items())
    started = time.monotonic()
    tmux("new-session", "-d", "-s", "bench", "-x", str(width), "-y", str(height),
         f"env {env} {' '.join(program.command)}")
    try:
        while time.monotonic() - started < TIMEOUT:
            if program.shown.search(tmux("capture-pane", "-p", "-t", "bench")):
                return time.monotonic() - started
            time.sleep(0.01)
        raise SystemExit(f"{program.name} showed no guest within {TIMEOUT:.0f} s")
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)
        time.sleep(0.3)  # let the program's process go before the next one starts


def interleaved(measures: list[Callable[[], float]], runs: int) -> list[list[float]]:
    samples: list[list[float]] = [[] for _ in measures]
    for _ in range(runs):
        for taken, measure in zip(samples, measures, strict=True):
            taken.append(measure())
    return samples


def main() -> int:
    from ztui.lab.testdriver import write_testdriver

    if shutil.which("tmux") is None:
        print("tmux is needed", file=sys.stderr)
        return 1
    results: dict[str, object] = {"terminal": "x".join(map(str, TERMINAL)), "runs": RUNS}
    lines = []
    with tempfile.TemporaryDirectory(prefix="ztui-bench-peers-") as tmp:
        for size in SIZES:
            host = Path(tmp) / f"host-{size}.xml"
            write_testdriver(host, size)
            progs = programs(f"test://{host}", Path(tmp) / str(size))
            samples = interleaved([lambda p=p: first_guest_seconds(p) for p in progs], RUNS)  # type: ignore[misc]
            medians = {p.name: statistics.median(s) for p, s in zip(progs, samples, strict=True)}
            for p, s in zip(progs, samples, strict=True):
                results[f"first_guest_s_{size}_{p.name.replace(' ', '_')}"] = medians[p.name]
                results[f"first_guest_samples_{size}_{p.name.replace(' ', '_')}"] = [round(x, 3) for x in s]
            for version in VERSIONS:
                ratio = medians["ztui"] / medians[f"virtui-manager {version}"]
                results[f"first_guest_ratio_{size}_virtui_{version}"] = ratio
                lines.append(f"{size:>5} guests  ztui {medians['ztui']:.2f} s  virtui-manager {version} "
                             f"{medians[f'virtui-manager {version}']:.2f} s  ratio {ratio:.2f} "
                             f"({'met' if ratio <= 0.7 else 'missed'}: target <= 0.7)")
    (REPO / "bench-peers-results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"first guest on screen, {TERMINAL[0]}x{TERMINAL[1]} in tmux, median of {RUNS} interleaved runs")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
