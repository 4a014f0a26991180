"""`make bench`: ztui measured side by side with its floor, in one run, on this machine.

Every figure is a median of several runs made here and now, and every target is a ratio or an absolute
bound; the table is printed (and the README's Performance table, ready to paste) and written to
bench-results.json at the repo root. A missed target is reported; what fails the run is a guard: a figure
clearly worse than in the README's last Performance table (by `GUARD_WORSE`), which is read for that.
`ZTUI_BENCH_PARTS=single` or `=fleet` runs one part. Not part of `make test`: pyproject's addopts skip this
folder, `make bench` clears them.
"""

from __future__ import annotations

import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.bench.fleet import fleet_figures
from tests.bench.zscale import write_z_scale
from ztui.lab.testdriver import write_testdriver

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PY = sys.executable
RUNS = int(os.environ.get("ZTUI_BENCH_RUNS", "3"))
GUESTS = int(os.environ.get("ZTUI_BENCH_GUESTS", "1000"))
IDLE_SECONDS = float(os.environ.get("ZTUI_BENCH_IDLE", "60"))
PARTS = set(os.environ.get("ZTUI_BENCH_PARTS", "single,fleet").split(","))
README = REPO / "README.md"
GUARD_WORSE = 1.25

TARGETS: dict[str, tuple[str, float | bool]] = {
    "first_tree_ratio": ("<=", 2.0),
    "first_tree_ratio_lab": ("<=", 2.0),
    "first_tree_ratio_z": ("<=", 2.0),
    "first_tree_ratio_tcp": ("<=", 2.0),
    "tree_json_ratio_parse": ("<=", 1.3),
    "tree_json_ratio_parse_lab": ("<=", 1.3),
    "tree_json_ratio_parse_z": ("<=", 1.3),
    "tree_json_ratio_parse_tcp": ("<=", 1.3),
    "tree_json_ratio": ("<=", 2.5),
    "tree_json_ratio_lab": ("<=", 2.5),
    "tree_json_ratio_z": ("<=", 2.5),
    "tree_json_ratio_tcp": ("<=", 2.5),
    "first_tree_s_rtt20": ("<=", 2.5),
    "event_p50_ms_rtt20": ("<=", 70),
    "virsh_loop_speedup": (">=", 30),
    "event_p99_ms": ("<=", 100),
    "event_latency_ratio": ("<=", 1.5),
    "idle_cpu_pct": ("<=", 1),
    "idle_cpu_pct_selected": ("<=", 1),
    "rss_mb": ("<=", 200),
    "storm_keypress_p99_ms": ("<=", 150),
    "storm_keys_lost": ("==", 0),
    "storm_keys_undone": ("==", 0),
    "storm_final_correct": ("==", True),
    "hotplug_visible_ms": ("<=", 150),
    "tree_json_cpu_per_device_ratio": ("<=", 3),
    "tree_json_cpu_per_device_ratio_lab": ("<=", 3),
    "tree_json_cpu_per_device_ratio_tcp": ("<=", 3),
    "fleet_first_tree_ratio": ("<=", 1.3),
    "fleet_tree_json_ratio": ("<=", 1.3),
    "fleet_hang_delay_s": ("<=", 1.0),
    "fleet_rss_mb": ("<=", 300),
    "fleet_idle_cpu_pct": ("<=", 1),
}


def wall(cmd: list[str] | str, shell: bool = False, env: dict[str, str] | None = None) -> float:
    started = time.monotonic()
    subprocess.run(cmd, shell=shell, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, **(env or {})})
    return time.monotonic() - started


def daemon_cpu(pid: int | None) -> float:
    """CPU seconds a process (libvirtd) has used so far; 0 for none (the test driver runs in the client)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_use(cmd: list[str], daemon: int | None) -> tuple[float, float]:
    """CPU seconds of one run of `cmd` (with every process it forks) and of the daemon meanwhile."""
    before, served = resource.getrusage(resource.RUSAGE_CHILDREN), daemon_cpu(daemon)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime), daemon_cpu(daemon) - served


def devices_of(uri: str) -> int:
    """The number of guest devices `tree --json` shows for the host."""
    out = subprocess.run([PY, "-m", "ztui", "tree", "-c", uri, "--json"], check=True, capture_output=True).stdout
    return sum(len(g["devices"]) for h in json.loads(out)["hosts"] for g in h["guests"])


def cpu_figures(uri: str, daemon: int | None, suffix: str, results: dict[str, Any]) -> None:
    """Where the CPU goes, beside the ratios: the floor and `tree --json`, each with the daemon's share.
    The floor is serial (it waits for the daemon, the daemon waits for it); ztui spreads its work and the
    daemon's over the CPUs, so with `cpus` of them no run can take less than all its CPU seconds divided
    by `cpus`: `tree_json_cpu_bound_ratio` is that least possible time over the parse floor's time.
    `tree_json_cpu_per_device_ratio` is ztui's own CPU per device shown against the parse floor's, which
    parses the same documents (the daemon's share left out of both)."""
    parse_floor = [cpu_use([PY, str(HERE / "floor_parse.py"), uri], daemon) for _ in range(RUNS)]
    tree = [cpu_use([PY, "-m", "ztui", "tree", "-c", uri, "--json"], daemon) for _ in range(RUNS)]
    cpus = len(os.sched_getaffinity(0))
    results[f"floor_parse_cpu_s{suffix}"] = statistics.median(c for c, _ in parse_floor)
    results[f"floor_parse_daemon_cpu_s{suffix}"] = statistics.median(d for _, d in parse_floor)
    results[f"tree_json_cpu_s{suffix}"] = statistics.median(c for c, _ in tree)
    results[f"tree_json_daemon_cpu_s{suffix}"] = statistics.median(d for _, d in tree)
    least = (results[f"tree_json_cpu_s{suffix}"] + results[f"tree_json_daemon_cpu_s{suffix}"]) / cpus
    results[f"tree_json_cpu_bound_ratio{suffix}"] = least / results[f"floor_parse_s{suffix}"]
    devices = devices_of(uri)
    results[f"devices{suffix}"] = devices
    results[f"tree_json_cpu_us_per_device{suffix}"] = results[f"tree_json_cpu_s{suffix}"] / devices * 1e6
    results[f"floor_parse_cpu_us_per_device{suffix}"] = results[f"floor_parse_cpu_s{suffix}"] / devices * 1e6
    results[f"tree_json_cpu_per_device_ratio{suffix}"] = (results[f"tree_json_cpu_s{suffix}"]
                                                          / results[f"floor_parse_cpu_s{suffix}"])


def median_of(fn: Callable[[], float], runs: int = RUNS) -> float:
    return statistics.median(fn() for _ in range(runs))


def probe(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    out = subprocess.run([PY, str(HERE / "tui_probe.py"), *args], check=True, capture_output=True, text=True,
                         cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})}).stdout
    return json.loads(out.strip().splitlines()[-1])


def textual_import() -> float:
    base = median_of(lambda: wall([PY, "-c", "pass"]))
    with_textual = median_of(lambda: wall([PY, "-c", "import textual.app, textual.widgets"]))
    return with_textual - base


def interleaved(*measures: Callable[[], float], runs: int = RUNS) -> list[float]:
    """The median of each measure, taken in turns (a, b, c, a, b, c, ...): a machine that speeds up or
    slows down during the run moves every figure alike instead of the one measured at that moment."""
    samples: list[list[float]] = [[] for _ in measures]
    for _ in range(runs):
        for taken, measure in zip(samples, measures, strict=True):
            taken.append(measure())
    return [statistics.median(taken) for taken in samples]


def tree_json_run(uri: str, facts: Path | None = None) -> float:
    return wall([PY, "-m", "ztui", "tree", "-c", uri, "--json", *(["--host-facts", str(facts)] if facts else [])])


def first_tree_figures(uri: str, guests: int, suffix: str, results: dict[str, Any],
                       facts: Path | None = None) -> None:
    """`facts`: the host's facts are that snapshot (the simulated z16), for the app and the command alike."""
    env = {"ZTUI_BENCH_HOST_FACTS": str(facts)} if facts else {}
    floor, parse_floor, tui, tree_json = interleaved(
        lambda: wall([PY, str(HERE / "floor.py"), uri]),
        lambda: wall([PY, str(HERE / "floor_parse.py"), uri]),
        lambda: float(probe("first-tree", uri, str(guests), env=env)["seconds"]),
        lambda: tree_json_run(uri, facts))
    textual = results.setdefault("textual_import_s", textual_import())
    results[f"floor_s{suffix}"] = floor
    results[f"floor_parse_s{suffix}"] = parse_floor
    results[f"first_tree_s{suffix}"] = tui
    results[f"tree_json_s{suffix}"] = tree_json
    results[f"first_tree_ratio{suffix}"] = tui / (floor + textual)
    results[f"tree_json_ratio{suffix}"] = tree_json / floor
    results[f"tree_json_ratio_parse{suffix}"] = tree_json / parse_floor


def define_lab_guests(uri: str, count: int) -> None:
    """`count` more s390x guests on a lab host, defined (shut off), made from its first guest's config the
    way an administrator clones a template: own name, UUID, MACs and disk images (sparse files of the
    template's sizes beside its images), the rest of the devices as in the template."""
    import libvirt

    conn = libvirt.open(uri)
    try:
        template = ET.fromstring(conn.listAllDomains(0)[0].XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        sources = [s for s in template.iter("source") if s.get("file")]
        originals = [s.get("file", "") for s in sources]
        for i in range(count):
            name = f"bench{i:04d}"
            template.find("name").text = name  # type: ignore[union-attr]
            template.find("uuid").text = str(uuid.uuid4())  # type: ignore[union-attr]
            for mac in template.iter("mac"):
                mac.set("address", f"52:54:01:{(i >> 8) & 0xff:02x}:{i & 0xff:02x}:{hash(mac) & 0xff:02x}")
            for source, original in zip(sources, originals, strict=True):
                image = Path(original).with_name(f"{name}-{Path(original).name}")
                with image.open("wb") as f:
                    f.truncate(Path(original).stat().st_size)
                source.set("file", str(image))
            conn.defineXML(ET.tostring(template, encoding="unicode"))
        conn.storagePoolLookupByName("lab").refresh(0)  # the clones' images are volumes, as on a real host
    finally:
        conn.close()


def hotplug_visible(uri: str) -> float:
    """Median ms from the attach request to the node visible in the app's tree (lab s390x guest)."""
    import asyncio

    out = subprocess.run([PY, "-c", HOTPLUG_PROBE, uri], check=True, capture_output=True, text=True, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)}).stdout
    return float(json.loads(out.strip().splitlines()[-1])["median_ms"])
    del asyncio


HOTPLUG_PROBE = r'''
import asyncio, json, statistics, subprocess, sys, tempfile, time
import libvirt
from ztui.ui.app import ZtuiApp
uri = sys.argv[1]
async def main():
    app = ZtuiApp([uri])
    async with app.run_test(size=(120, 40)) as pilot:
        while not app.fleet.hosts[uri].connected:
            await pilot.pause(0.01)
        outside = libvirt.open(uri)
        dom = next(d for d in outside.listAllDomains(0) if d.isActive())
        node = app.main.guest_tree.find_guest(uri, dom.UUIDString())
        node.expand()
        await pilot.pause(0.2)
        tmp = tempfile.mkdtemp()
        times = []
        for i in range(5):
            path = f"{tmp}/h{i}.img"
            subprocess.run(["qemu-img", "create", "-q", "-f", "raw", path, "8M"], check=True)
            xml = (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{path}'/>"
                   f"<target dev='vdt' bus='virtio'/></disk>")
            started = time.monotonic()
            dom.attachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
            while not any(str(c.label).startswith("vdt") for c in node.children):
                await pilot.pause(0.001)
            times.append((time.monotonic() - started) * 1000)
            dom.detachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
            while any(str(c.label).startswith("vdt") for c in node.children):
                await pilot.pause(0.005)
        print(json.dumps({"median_ms": statistics.median(times)}))
asyncio.run(main())
'''


def holds(key: str, value: Any) -> bool:
    op, bound = TARGETS[key]
    if op == "<=":
        return bool(value <= bound)
    if op == ">=":
        return bool(value >= bound)
    return bool(value == bound)


_ROW = re.compile(r"^\|\s*`([a-z0-9_]+)`\s*\|\s*(-?[0-9]+(?:\.[0-9]+)?|true|false)\s*\|")
_FIGURE_ROW = re.compile(r"^\|\s*`")


def readme_figures(text: str | None = None) -> dict[str, float | bool]:
    """The figures of the README's Performance table: one per row, its name in backticks, then its value. A
    row that names a figure and cannot be read, or a figure named twice, is an error: a guard must not
    quietly stop guarding because the table was edited."""
    text = README.read_text() if text is None else text
    found = re.search(r"^## Performance$(.*?)(?=^## |\Z)", text, re.M | re.S)
    section = found.group(1) if found else ""
    figures: dict[str, float | bool] = {}
    for line in section.splitlines():
        match = _ROW.match(line)
        if not match:
            if _FIGURE_ROW.match(line):
                raise ValueError(f"README's Performance table: cannot read this row: {line}")
            continue
        key, value = match.groups()
        if key in figures:
            raise ValueError(f"README's Performance table: {key} is there twice")
        figures[key] = value == "true" if value in ("true", "false") else float(value)
    return figures


SCALE = ("guests", "fleet_hosts", "fleet_guests")
"""How big the run was: figures are compared with the README's only when it was as big as the README's."""

_UNIT_SLACK = {"pct": 0.25, "ms": 5.0, "s": 0.5, "mb": 5.0}
"""What a figure may move by, by its unit, without meaning anything: a quarter of a percent of one CPU, a few
ms, half a second of a wall clock shared with other work, a few MB."""


def _higher_is_better(key: str) -> bool:
    return TARGETS.get(key, ("<=", 0))[0] == ">=" or "speedup" in key


def _slack(key: str) -> float:
    """The slack of the unit the figure's name says (`_ms_`, `_s`, `_pct`, `_mb`); none for a ratio or a count."""
    return next((_UNIT_SLACK[part] for part in key.split("_") if part in _UNIT_SLACK), 0.0)


def guarded(key: str) -> bool:
    """Whether a figure of the README's table fails the run when it gets clearly worse: those with a target,
    and ratios (measured side by side, so the machine's speed moves both sides alike). A wall-clock figure
    that is only reported is not: this machine's speed alone moves it by more than a quarter, and a
    difference of two of them (`fleet_tree_json_hang_delay_s`) grows when ztui gets faster."""
    return key in TARGETS or "ratio" in key.split("_")


def guard_holds(key: str, value: Any, last: float | bool) -> bool:
    """Whether `value` is not clearly worse than the README's `last` (by `GUARD_WORSE`, plus `_slack`)."""
    if isinstance(last, bool) or isinstance(value, bool):
        return bool(value == last)
    if _higher_is_better(key):
        return bool(value >= last / GUARD_WORSE - _slack(key))
    return bool(value <= last * GUARD_WORSE + _slack(key))


def other_scale(results: dict[str, Any], last: dict[str, float | bool]) -> list[str]:
    """How this run's size differs from the README's (`SCALE`); nothing when they are alike."""
    return [f"{k} {results[k]} (README: {last[k]:g})" for k in SCALE if k in results and k in last
            and results[k] != last[k]]


def regressions(results: dict[str, Any], last: dict[str, float | bool]) -> list[str]:
    if other_scale(results, last):
        return []
    return [k for k, v in last.items() if k in results and guarded(k) and not guard_holds(k, results[k], v)]


def table(results: dict[str, Any], last: dict[str, float | bool]) -> str:
    lines = [f"{'figure':<34} {'value':>12}  {'target':<10} {'met':<4} {'last':>10} guard"]
    shown = [k for k in results if k in TARGETS or (k in last and k not in SCALE)]
    for key in shown:
        value = results[key]
        target = f"{TARGETS[key][0]} {TARGETS[key][1]!s}" if key in TARGETS else ""
        met = ("yes" if holds(key, value) else "NO") if key in TARGETS else ""
        before = f"{last[key]}" if key in last else ""
        guard = (("ok" if guard_holds(key, value, last[key]) else "WORSE") if key in last and guarded(key)
                 else "")
        lines.append(f"{key:<34} {_shown(value):>12}  {target:<10} {met:<4} {before:>10} {guard}")
    lines.append("")
    lines += [f"{k:<34} {_shown(v)}" for k, v in results.items() if k not in shown]
    return "\n".join(lines)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:.3f}" if isinstance(value, float) else str(value)


REPORTED = ("first_list_s_rtt20", "tree_json_s_rtt20", "tree_json_cpu_bound_ratio_lab", "tree_json_cpu_bound_ratio_tcp",
            "fleet_single_first_tree_s", "fleet_first_tree_s", "fleet_first_tree_one_at_a_time_s",
            "fleet_first_tree_s_hang", "fleet_hang_shown_s", "fleet_single_tree_json_s", "fleet_tree_json_s",
            "fleet_tree_json_one_at_a_time_s", "fleet_tree_json_s_hang", "fleet_tree_json_hang_delay_s",
            "fleet_tree_json_cpu_bound_ratio")
"""Figures without a target that the README's table shows (and so guards) beside those with one."""


def markdown(results: dict[str, Any]) -> str:
    """The README's Performance table for this run: one figure a row, which `readme_figures` reads back, the
    run's size first."""
    lines = ["| figure | value | target | |", "|---|---|---|---|"]
    lines += [f"| `{key}` | {results[key]} | | |" for key in SCALE if key in results]
    for key, value in results.items():
        if key in TARGETS:
            op, bound = TARGETS[key]
            verdict = "met" if holds(key, value) else "**missed**"
            lines.append(f"| `{key}` | {_shown(value)} | {op} {bound!s} | {verdict} |")
        elif key in REPORTED:
            lines.append(f"| `{key}` | {_shown(value)} | | |")
    return "\n".join(lines)


@pytest.mark.skipif(os.geteuid() != 0, reason="the lab scenarios need root")
def test_bench(tmp_path: Path) -> None:
    results: dict[str, Any] = {"guests": GUESTS}
    if "single" in PARTS:
        single_host_figures(results, tmp_path)
    if "fleet" in PARTS:
        fleet_figures(results, tmp_path, PY, RUNS, IDLE_SECONDS, probe)
    last = readme_figures()
    print("\n" + table(results, last) + "\n\nREADME table:\n" + markdown(results))
    (REPO / "bench-results.json").write_text(json.dumps(results, indent=2) + "\n")
    scale = other_scale(results, last)
    if scale:
        print(f"\nnot guarded: this run's size is not the README's: {', '.join(scale)}")
    worse = regressions(results, last)
    assert not worse, f"clearly worse than the README's last table: {worse}"


def single_host_figures(results: dict[str, Any], tmp_path: Path) -> None:
    from ztui.lab.hosts import start_lab, stop_lab

    big = tmp_path / "big.xml"
    small = tmp_path / "small.xml"
    write_testdriver(big, GUESTS)
    write_testdriver(small, 10)
    big_uri, small_uri = f"test://{big}", f"test://{small}"

    first_tree_figures(big_uri, GUESTS, "", results)
    cpu_figures(big_uri, None, "", results)

    # the simulated z16 at scale: every guest's DASD, zFCP, OSA and HiperSockets chains resolved
    z_uri, z_facts, z_devices = write_z_scale(tmp_path, GUESTS)
    results["z_host_devices"] = z_devices
    first_tree_figures(z_uri, GUESTS, "_z", results, facts=z_facts)

    big_events = probe("events", big_uri, str(GUESTS), "100", str(IDLE_SECONDS))
    small_events = probe("events", small_uri, "10", "100", "1")
    results["event_p50_ms"] = big_events["p50"]
    results["event_p99_ms"] = big_events["p99"]
    results["event_p50_ms_10"] = small_events["p50"]
    results["event_latency_ratio"] = big_events["p50"] / small_events["p50"]
    results["idle_cpu_pct"] = big_events["idle_cpu_pct"]
    results["idle_cpu_pct_selected"] = big_events["idle_cpu_pct_selected"]  # a running guest's live I/O shown
    results["rss_mb_testdriver"] = big_events["rss_mb"]  # includes libvirt's in-process test driver

    storm = probe("storm", big_uri, str(GUESTS), "2000", "10")
    results["storm_keypress_p99_ms"] = storm["keypress_p99_ms"]
    results["storm_keypress_p50_ms"] = storm["keypress_p50_ms"]
    results["storm_handled_p99_ms"] = storm["handled_p99_ms"]  # from the press until the binding ran
    results["storm_keys_lost"] = storm["lost"]  # never handled within the probe's give-up
    results["storm_keys_undone"] = storm["undone"]  # handled, but the cursor did not stay where it went
    results["storm_presses"] = storm["presses"]
    results["storm_final_correct"] = storm["final_correct"]

    lab_dir = Path(f"/var/tmp/ztui-bench-{os.getpid()}")
    try:
        (host,) = start_lab(hosts=1, base_dir=lab_dir, z=False)
        results["hotplug_visible_ms"] = hotplug_visible(host.uri)
        started = time.monotonic()
        define_lab_guests(host.uri, GUESTS - 3)
        results["lab_define_s"] = time.monotonic() - started
        first_tree_figures(host.uri, GUESTS, "_lab", results)
        assert host.pid is not None
        cpu_figures(host.uri, host.pid, "_lab", results)
        # the same daemon over the remote transport (qemu+tcp on loopback): no udev, files through pools
        first_tree_figures(host.tcp_uri, GUESTS, "_tcp", results)
        cpu_figures(host.tcp_uri, host.pid, "_tcp", results)
        # a host far away: the same daemon behind a proxy that adds 20 ms round trip (once each: slow)
        from ztui.lab.delay import start_delay_proxy

        far = start_delay_proxy(int(host.tcp_uri.split(":")[2].split("/")[0]), 20).uri()
        results["floor_s_rtt20"] = wall([PY, str(HERE / "floor.py"), far])
        # every guest and every device in the tree (the guest list alone comes first, and is shown beside)
        full = [probe("full-tree", far, str(GUESTS)) for _ in range(RUNS)]
        results["first_tree_s_rtt20"] = statistics.median(float(f["seconds"]) for f in full)
        results["first_list_s_rtt20"] = statistics.median(float(f["list_seconds"]) for f in full)
        results["tree_json_s_rtt20"] = tree_json_run(far)
        # a guest paused and resumed through the app's own connection: the change's trip to the host and
        # the event's trip back are the one round trip, the rest is ztui's
        results["event_p50_ms_rtt20"] = float(probe("events", far, str(GUESTS), "40", "1")["p50"])
        loaded = probe("rss", host.uri, str(GUESTS))
        results["rss_mb"] = loaded["rss_mb"]
        results["rss_devices"] = loaded["devices"]
        # the shell loop an administrator would write, against the same real daemon over its socket, and
        # `ztui tree --json` just before and after it
        before = median_of(lambda: tree_json_run(host.uri))
        started = time.monotonic()
        subprocess.run(f"for d in $(virsh -c '{host.uri}' list --all --name); do virsh -c '{host.uri}' dumpxml $d; "
                       "done", shell=True, check=True, stdout=subprocess.DEVNULL)
        results["virsh_loop_s"] = time.monotonic() - started
        results["tree_json_s_before_loop"] = before
        results["tree_json_s_after_loop"] = median_of(lambda: tree_json_run(host.uri))
        results["tree_json_s_beside_loop"] = (before + results["tree_json_s_after_loop"]) / 2
        results["virsh_loop_speedup"] = results["virsh_loop_s"] / results["tree_json_s_beside_loop"]
    finally:
        stop_lab(lab_dir)
