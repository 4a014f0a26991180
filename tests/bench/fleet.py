"""The fleet scenario of `make bench`: sixteen hosts of a hundred guests each, far away, read at once.

Each host is a real lab libvirtd serving a libvirt test-driver file of IBM Z guests (~12 devices each, ~700
node devices) to remote clients, behind its own latency proxy (`ztui.lab.delay`, 20 ms round trip): real
daemons, real RPC over TCP, without 1600 QEMU processes. A seventeenth daemon is stopped (SIGSTOP) behind its
proxy: it accepts connections and never answers, as a hung or frozen host does.

Figures (each a median of `RUNS`, taken in turns):
* the TUI with every guest and device of the sixteen, and `tree --json` over them, each against one host
  alone (the hosts are alike: one stands for the slowest) and against reading them one after another;
* the same with the hung host among them: how much later the sixteen are whole, and when the hung one is
  shown as not answering;
* RSS and idle CPU with the 1600 guests shown.
"""

from __future__ import annotations

import os
import resource
import signal
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

FLEET_HOSTS = int(os.environ.get("ZTUI_BENCH_FLEET_HOSTS", "16"))
FLEET_GUESTS = int(os.environ.get("ZTUI_BENCH_FLEET_GUESTS", "100"))
RTT_MS = 20.0


def _timed(cmd: list[str]) -> float:
    """Seconds one run took, whatever its exit status (with a hung host, `tree` says so and exits 1)."""
    started = time.monotonic()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.monotonic() - started


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_shares(cmd: list[str], daemons: list[int]) -> tuple[float, float, float]:
    """CPU seconds of one run of `cmd` (its processes), of the daemons serving it, and of this process (the
    latency proxies are its threads)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    mine = resource.getrusage(resource.RUSAGE_SELF)
    served = sum(_cpu_of(pid) for pid in daemons)
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    now = resource.getrusage(resource.RUSAGE_SELF)
    return (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
            sum(_cpu_of(pid) for pid in daemons) - served,
            now.ru_utime + now.ru_stime - mine.ru_utime - mine.ru_stime)


def fleet_figures(results: dict[str, Any], work: Path, py: str, runs: int, idle_seconds: float,
                  probe: Callable[..., dict[str, Any]]) -> None:
    from ztui.lab.delay import start_delay_proxy
    from ztui.lab.hosts import start_lab, stop_lab
    from ztui.lab.testdriver import write_testdriver

    base = Path(f"/var/tmp/ztui-bench-fleet-{os.getpid()}")
    stopped: int | None = None
    try:
        started = time.monotonic()
        hosts = start_lab(hosts=FLEET_HOSTS + 1, base_dir=base, z=False)
        uris = []
        for i, host in enumerate(hosts):
            served = base / f"fleet-{i:02d}.xml"  # under the lab directory: every daemon's namespace sees it
            write_testdriver(served, FLEET_GUESTS)
            port = urlsplit(host.tcp_uri).port
            assert port is not None
            uris.append(f"test+tcp://127.0.0.1:{start_delay_proxy(port, RTT_MS).port}{served}")
        results["fleet_setup_s"] = time.monotonic() - started
        good, hung = uris[:FLEET_HOSTS], uris[FLEET_HOSTS]
        stopped = hosts[FLEET_HOSTS].pid
        assert stopped is not None
        os.kill(stopped, signal.SIGSTOP)
        listing = work / "fleet-uris.txt"
        listing.write_text("\n".join(good) + "\n")
        guests = str(FLEET_GUESTS)
        results["fleet_hosts"], results["fleet_guests"] = FLEET_HOSTS, FLEET_HOSTS * FLEET_GUESTS

        # the TUI: every guest and device of all hosts, one host alone, the same with a hung host beside
        single, whole, with_hung, shown, cpu = [], [], [], [], []
        for _ in range(runs):
            single.append(float(probe("full-tree", good[0], guests)["seconds"]))
            loaded = probe("fleet-tree", str(listing), guests)
            whole.append(float(loaded["seconds"]))
            cpu.append(float(loaded["cpu_seconds"]))
            hang = probe("fleet-tree", str(listing), guests, hung)
            with_hung.append(float(hang["seconds"]))
            shown.append(float(hang["hung_shown_seconds"]))
        one = statistics.median(single)
        results["fleet_single_first_tree_s"] = one
        results["fleet_first_tree_s"] = statistics.median(whole)
        results["fleet_first_tree_ratio"] = results["fleet_first_tree_s"] / one
        results["fleet_first_tree_cpu_s"] = statistics.median(cpu)  # the app's own, in one process
        results["fleet_first_tree_one_at_a_time_s"] = one * FLEET_HOSTS  # each host alone, one after another
        results["fleet_first_tree_s_hang"] = statistics.median(with_hung)
        results["fleet_hang_delay_s"] = results["fleet_first_tree_s_hang"] - results["fleet_first_tree_s"]
        results["fleet_hang_shown_s"] = statistics.median(shown)

        # tree --json over all of them, one alone, one after another (as a shell loop would), with a hung host
        tree = [py, "-m", "ztui", "tree", "--json"]
        everyone = [arg for uri in good for arg in ("-c", uri)]
        alone, fleet, hanging = [], [], []
        for _ in range(runs):
            alone.append(_timed([*tree, "-c", good[0]]))
            fleet.append(_timed([*tree, *everyone]))
            hanging.append(_timed([*tree, *everyone, "-c", hung]))
        results["fleet_single_tree_json_s"] = statistics.median(alone)
        results["fleet_tree_json_s"] = statistics.median(fleet)
        results["fleet_tree_json_ratio"] = results["fleet_tree_json_s"] / results["fleet_single_tree_json_s"]
        results["fleet_tree_json_one_at_a_time_s"] = sum(_timed([*tree, "-c", uri]) for uri in good)
        results["fleet_tree_json_s_hang"] = statistics.median(hanging)
        results["fleet_tree_json_hang_delay_s"] = results["fleet_tree_json_s_hang"] - results["fleet_tree_json_s"]
        # where the CPU goes: with `cpus` CPUs, no run can take less than all its CPU seconds over `cpus`
        daemons = [h.pid for h in hosts[:FLEET_HOSTS] if h.pid is not None]
        ztui, served, proxies = _cpu_shares([*tree, *everyone], daemons)
        results["fleet_tree_json_cpu_s"], results["fleet_tree_json_daemons_cpu_s"] = ztui, served
        results["fleet_proxies_cpu_s"] = proxies
        cpus = len(os.sched_getaffinity(0))
        results["fleet_tree_json_cpu_bound_ratio"] = ((ztui + served + proxies) / cpus
                                                      / results["fleet_single_tree_json_s"])

        idle = probe("fleet-idle", str(listing), guests, str(idle_seconds))
        results["fleet_rss_mb"] = idle["rss_mb"]
        results["fleet_idle_cpu_pct"] = idle["idle_cpu_pct"]
        results["fleet_devices"] = idle["devices"]
    finally:
        if stopped is not None:
            os.kill(stopped, signal.SIGCONT)
        stop_lab(base)
