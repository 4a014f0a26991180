"""The fault bench: run ztui's actions against the lab many times, strike each with a fault at a varied
moment, and judge every end state from the hosts themselves — not from what ztui says.

Each scenario (registered with `scenario`) sets up one try on the lab, runs the real `ztui` command with
one fault injected, restores the lab (a killed daemon comes back, as a service manager would bring it),
and returns a `Verdict`: whether the outcome was correct (exit status consistent with the report, the
report consistent with both hosts), how many devices ended lost (detached and neither attached where
the guest runs nor reported with their XML), how many images were lost (gone although a guest may use
them), and whether the report said something false. `make faults` prints the table.

Scenarios for each action live in their own module (`migrate.py`, `hotplug.py`) and register themselves;
a new one is one decorated function.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import libvirt

from ztui.lab.daemon import daemon_pid
from ztui.lab.paths import HostPaths, LabPaths

A, B = "zlab-a", "zlab-b"


@dataclass
class Verdict:
    """One try, judged from both hosts."""

    correct: bool = True
    devices_lost: int = 0
    images_lost: int = 0
    false_report: bool = False
    manual: int = 0  # devices reported (with their XML) as needing a person: not lost, but counted
    fault: str = ""
    notes: list[str] = field(default_factory=list)

    def wrong(self, why: str) -> None:
        self.correct = False
        self.notes.append(why)

    def false(self, why: str) -> None:
        self.false_report = True
        self.wrong(f"false report: {why}")


@dataclass
class Lab:
    base: Path
    uris: dict[str, str]

    def host(self, name: str) -> HostPaths:
        return LabPaths.for_dir(self.base).host(name)


Scenario = Callable[["Try"], Verdict]
SCENARIOS: dict[str, tuple[str, Scenario]] = {}


def scenario(name: str, action: str) -> Callable[[Scenario], Scenario]:
    """Register a scenario under `name` for `action` (attach, detach, migrate)."""

    def register(fn: Scenario) -> Scenario:
        SCENARIOS[name] = (action, fn)
        return fn

    return register


class Try:
    """What one try works with: the lab, a fresh state directory, a random source for its variations."""

    def __init__(self, lab: Lab, work: Path, rng: random.Random, number: int) -> None:
        self.lab = lab
        self.work = work
        self.rng = rng
        self.number = number
        self.state = work / "state"
        self.state.mkdir(parents=True, exist_ok=True)

    def image(self, name: str) -> Path:
        """A path for an image on the lab's shared storage (pool `lab` on every host): ztui checks and creates
        a lab host's images through its storage pools, so an image under `work` would be refused there."""
        return self.lab.base / "images" / f"faults-try{self.number:04d}-{name}"

    # --- running ztui ---------------------------------------------------------------------------------

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "XDG_STATE_HOME": str(self.state), "ZTUI_RECONNECT_TIMEOUT": "15", **extra}

    def ztui(self, *args: str, env: dict[str, str] | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run([sys.executable, "-m", "ztui", *args], capture_output=True, text=True,
                                  timeout=timeout, env=env or self.env(), stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            return subprocess.CompletedProcess(list(args), -1, str(exc.stdout or ""), f"timed out: {exc}")

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "ztui", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env or self.env(),
                                stdin=subprocess.DEVNULL)

    # --- the lab --------------------------------------------------------------------------------------

    def daemon(self, host: str) -> int | None:
        return daemon_pid(self.lab.host(host))

    def restore(self) -> None:
        """Every daemon runs again (started when it is down)."""
        if any(self.daemon(h) is None for h in self.lab.uris):
            from ztui.lab.hosts import start_lab

            start_lab(hosts=len(self.lab.uris), base_dir=self.lab.base)

    def restart_host(self, host: str) -> None:
        """Kill and start one host's daemon (libvirt drops records it cannot recover only on a restart)."""
        pid = self.daemon(host)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while self.daemon(host) is not None and time.monotonic() < deadline:
                time.sleep(0.05)
        self.restore()

    @contextlib.contextmanager
    def restarted_after(self, host: str, delay: float | None) -> Iterator[None]:
        """When `host`'s daemon dies, start it again after `delay` s (None: leave it down until the end)."""
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                if self.daemon(host) is None:
                    if done.wait(delay or 0.0):
                        return
                    self.restore()
                    return
                time.sleep(0.02)

        thread = threading.Thread(target=watch, daemon=True)
        if delay is not None:
            thread.start()
        try:
            yield
        finally:
            done.set()
            if delay is not None:
                thread.join(60)

    def connect(self, host: str) -> libvirt.virConnect:
        return libvirt.open(self.lab.uris[host])

    def copies(self, guest: str) -> dict[str, tuple[int, int] | None]:
        """Each host's active copy of the guest as (state, reason); None when it has none."""
        seen: dict[str, tuple[int, int] | None] = {}
        for host in self.lab.uris:
            conn = self.connect(host)
            try:
                dom = conn.lookupByName(guest)
                seen[host] = (int(dom.state()[0]), int(dom.state()[1])) if dom.isActive() else None
            except libvirt.libvirtError:
                seen[host] = None
            finally:
                conn.close()
        return seen

    def live_xml(self, host: str, guest: str) -> str:
        conn = self.connect(host)
        try:
            return str(conn.lookupByName(guest).XMLDesc(0))
        except libvirt.libvirtError:
            return ""
        finally:
            conn.close()

    def destroy_everywhere(self, guest: str) -> None:
        """Remove a try's transient guest from both hosts; a copy libvirt keeps under a stuck job goes with
        a restart of that host's daemon."""
        for host in self.lab.uris:
            for attempt in range(3):
                conn = self.connect(host)
                try:
                    dom = conn.lookupByName(guest)
                except libvirt.libvirtError:
                    conn.close()
                    break
                done = threading.Event()

                def kill(dom: libvirt.virDomain = dom, done: threading.Event = done) -> None:
                    with contextlib.suppress(libvirt.libvirtError):
                        dom.destroy()
                    done.set()

                threading.Thread(target=kill, daemon=True).start()
                finished = done.wait(5)
                with contextlib.suppress(libvirt.libvirtError):
                    conn.close()
                if finished and not self._present(host, guest):
                    break
                if attempt == 0:
                    self.restart_host(host)
                elif attempt == 1:
                    self.forget(host, guest)

    def forget(self, host: str, guest: str) -> None:
        """Drop a record libvirt 9.0 keeps for good: an incoming migration recovered in phase prepare stays
        listed (paused, starting up) under a job nobody owns, across restarts, after its QEMU is gone. Only
        ever done to the bench's private lab: its daemon stopped, the status file removed, started again."""
        pid = self.daemon(host)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while self.daemon(host) is not None and time.monotonic() < deadline:
                time.sleep(0.05)
        with contextlib.suppress(OSError, ValueError):  # its QEMU, should it still run
            qemu = int((self.lab.host(host).run / "qemu" / f"{guest}.pid").read_text().split()[0])
            if Path(f"/proc/{qemu}/comm").read_text().startswith("qemu"):
                os.kill(qemu, signal.SIGKILL)
        for suffix in (".xml", ".pid"):
            (self.lab.host(host).run / "qemu" / f"{guest}{suffix}").unlink(missing_ok=True)
        self.restore()

    def _present(self, host: str, guest: str) -> bool:
        conn = self.connect(host)
        try:
            conn.lookupByName(guest)
            return True
        except libvirt.libvirtError:
            return False
        finally:
            conn.close()


def json_objects(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            obj = json.loads(line)
            if isinstance(obj, dict):
                out.append(obj)
    return out


# --- the run and its table ------------------------------------------------------------------------------

@dataclass
class Row:
    tries: int = 0
    correct: int = 0
    devices_lost: int = 0
    images_lost: int = 0
    false_reports: int = 0
    manual: int = 0
    errors: int = 0
    seconds: float = 0.0


def run(lab: Lab, work: Path, tries: int, seed: int, budget: float, only: str = "",
        log: Callable[[str], None] = print) -> dict[str, Row]:
    """Run `tries` tries round-robin over the scenarios (within `budget` seconds); the table's rows."""
    rng = random.Random(seed)
    names = [n for n in SCENARIOS if only in n]
    rows = {name: Row() for name in names}
    started = time.monotonic()
    for number in range(tries):
        if time.monotonic() - started > budget:
            log(f"budget of {budget:.0f} s reached after {number} tries")
            break
        name = names[number % len(names)]
        action, fn = SCENARIOS[name]
        one = Try(lab, work / f"try{number:04d}", random.Random(rng.random()), number)
        t0 = time.monotonic()
        row = rows[name]
        row.tries += 1
        try:
            verdict = fn(one)
        except Exception as exc:  # a harness failure is counted apart, never as a correct outcome
            row.errors += 1
            log(f"#{number} {name}: harness error {type(exc).__name__}: {exc}")
            with contextlib.suppress(Exception):
                one.restore()
            continue
        finally:
            row.seconds += time.monotonic() - t0
        row.correct += verdict.correct
        row.devices_lost += verdict.devices_lost
        row.images_lost += verdict.images_lost
        row.false_reports += verdict.false_report
        row.manual += verdict.manual
        mark = "ok" if verdict.correct else "WRONG"
        log(f"#{number} {action} {name} [{verdict.fault}] {mark} {time.monotonic() - t0:.1f} s"
            + (f" — {'; '.join(verdict.notes)}" if verdict.notes else ""))
    return rows


def table(rows: dict[str, Row]) -> str:
    """The Markdown table README's Reliability section carries."""
    head = ("| scenario | tries | outcomes correct | devices lost | images lost | false reports | "
            "reported for a person | harness errors | s/try |")
    lines = [head, "|" + "---|" * 9]
    total = Row()
    for name, row in rows.items():
        if not row.tries:
            continue
        lines.append(f"| {name} | {row.tries} | {row.correct} | {row.devices_lost} | {row.images_lost} | "
                     f"{row.false_reports} | {row.manual} | {row.errors} | {row.seconds / row.tries:.1f} |")
        for attr in ("tries", "correct", "devices_lost", "images_lost", "false_reports", "manual", "errors"):
            setattr(total, attr, getattr(total, attr) + getattr(row, attr))
        total.seconds += row.seconds
    lines.append(f"| **all** | {total.tries} | {total.correct} | {total.devices_lost} | {total.images_lost} | "
                 f"{total.false_reports} | {total.manual} | {total.errors} | "
                 f"{total.seconds / max(total.tries, 1):.1f} |")
    return "\n".join(lines)
