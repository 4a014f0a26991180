"""Run in a fresh process by the benchmarks: the real app, headless, against one URI.

Modes print one JSON line on stdout:
  first-tree  seconds from process start until every guest is in the tree
  full-tree   seconds from process start until every guest and every device is in the tree, the guest list's
              own moment beside it (a big host shows the list first)
  events      event latencies (change from outside → tree label updated), idle CPU, RSS
  storm       key-press latencies during a lifecycle-event storm (lost and undone presses counted apart from
              slow ones), and whether the tree ends equal to a fresh read
  fleet-tree  several hosts (URI is a file of URIs, one a line; EXPECTED guests each): seconds until every guest
              and device of all of them is in the tree; with a further URI after EXPECTED, that host also opened
              (one that hangs), and when it was shown as not answering
  fleet-idle  the same hosts loaded: RSS, and this process's CPU over IDLE seconds of nothing happening
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import threading
import time

START = time.monotonic()

from ztui.libvirt.reader import read_guests  # noqa: E402
from ztui.model import GuestState  # noqa: E402
from ztui.ui.app import ZtuiApp  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def wait(pilot, predicate, timeout: float = 60.0, step: float = 0.001) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await pilot.pause(step)
    return predicate()


def fully_loaded(app: ZtuiApp, uri: str, expected: int) -> bool:
    """Every guest in the tree and the full read done (big hosts show the guest list first)."""
    return (tree_complete(app, uri, expected) and app.backend.hosts.sessions[uri].connection is not None
            and any(g.devices for g in app.fleet.hosts[uri].guests.values()))


def tree_complete(app: ZtuiApp, uri: str, expected: int) -> bool:
    main = app.main
    if main is None or not app.fleet.hosts[uri].connected:
        return False
    hosts = main.guest_tree.root.children
    return bool(hosts) and len(hosts[0].children) == expected


async def first_tree(uri: str, expected: int) -> dict[str, float]:
    app = ZtuiApp([uri], host_udev=False)
    async with app.run_test(size=(120, 40)) as pilot:
        ok = await wait(pilot, lambda: tree_complete(app, uri, expected), 120)
        elapsed = time.monotonic() - START
        assert ok, "the tree never showed every guest"
    return {"seconds": elapsed}


async def full_tree(uri: str, expected: int) -> dict[str, float]:
    """Looked at every 2 ms without Pilot's pause, which has every widget on the screen answer a message
    each time: at this rate that would take the app's CPU from the read it is timing."""
    app = ZtuiApp([uri], host_udev=False)
    listed = 0.0
    async with app.run_test(size=(120, 40)):
        deadline = time.monotonic() + 120
        while not fully_loaded(app, uri, expected) and time.monotonic() < deadline:
            if not listed and tree_complete(app, uri, expected):
                listed = time.monotonic() - START
            await asyncio.sleep(0.002)
        elapsed = time.monotonic() - START
        assert fully_loaded(app, uri, expected), "the tree never showed every guest's devices"
    return {"seconds": elapsed, "list_seconds": listed or elapsed}


async def loaded_rss(uri: str, expected: int) -> dict[str, float]:
    """RSS with every guest's devices and chains loaded (against a daemon: libvirt's test driver would
    count its own in-process copy of the host file too)."""
    app = ZtuiApp([uri])
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait(pilot, lambda: tree_complete(app, uri, expected), 120)
        assert await wait(pilot, lambda: sum(len(g.devices) for g in app.fleet.hosts[uri].guests.values())
                          >= expected * 5, 120)
        await pilot.pause(1.0)
        return {"rss_mb": rss_mb(), "devices": float(sum(len(g.devices)
                                                           for g in app.fleet.hosts[uri].guests.values()))}


def _label(app: ZtuiApp, uri: str, uuid: str) -> str:
    node = app.main.guest_tree.find_guest(uri, uuid)  # type: ignore[union-attr]
    return str(node.label) if node is not None else ""


async def events(uri: str, expected: int, count: int, idle_seconds: float) -> dict[str, object]:
    app = ZtuiApp([uri], host_udev=False)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait(pilot, lambda: fully_loaded(app, uri, expected), 120)
        conn = app.backend.hosts.sessions[uri].connection
        assert conn is not None
        running = [g for g in app.fleet.hosts[uri].guests.values() if g.state is GuestState.RUNNING]
        latencies = []
        for i in range(count):
            guest = running[i % len(running)]
            dom = conn.lookupByUUIDString(guest.uuid)
            started = time.monotonic()
            dom.suspend()
            assert await wait(pilot, lambda g=guest: "paused" in _label(app, uri, g.uuid), 10)
            latencies.append((time.monotonic() - started) * 1000)
            dom.resume()
            assert await wait(pilot, lambda g=guest: "running" in _label(app, uri, g.uuid), 10)
        idle_cpu = await idle_cpu_pct(pilot, idle_seconds)
        # the same with a running guest selected: its live I/O is read once a second
        from ztui.ui.noderef import NodeRef
        from ztui.ui.widgets.iostats import IoStatsView

        app.main.guest_tree.select_ref(NodeRef("guest", uri, running[0].uuid))  # type: ignore[union-attr]
        view = app.main.query_one(IoStatsView)  # type: ignore[union-attr]
        assert await wait(pilot, lambda: view.polls > 0, 10)
        polls_before = view.polls
        idle_selected = await idle_cpu_pct(pilot, idle_seconds)
        return {"p50": statistics.median(latencies), "p99": sorted(latencies)[int(len(latencies) * 0.99) - 1]
                if len(latencies) >= 100 else max(latencies), "idle_cpu_pct": idle_cpu,
                "idle_cpu_pct_selected": idle_selected, "iostats_reads": view.polls - polls_before,
                "rss_mb": rss_mb()}


async def idle_cpu_pct(pilot, seconds: float) -> float:  # type: ignore[no-untyped-def]
    """This process's CPU (all threads) over `seconds` of doing nothing, in percent of one core."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    started = time.monotonic()
    await pilot.pause(seconds)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (usage.ru_utime + usage.ru_stime - cpu_before) / (time.monotonic() - started) * 100


GIVE_UP = 5.0  # seconds a key press may take before the probe counts it lost


async def storm(uri: str, expected: int, events_total: int, seconds: float) -> dict[str, object]:
    """Key presses during a lifecycle-event storm. Each press is followed until the tree's binding handled it
    and until the cursor stood on the row below (or above) the one it was on: a press never handled is
    *lost*, one handled whose move did not stay (a re-read put the cursor back) is *undone*, the rest are
    timed. The cursor goes between the first two guests, so that no press meets the end of the tree."""
    from ztui.ui.screens.main import MainScreen

    app = ZtuiApp([uri], host_udev=False)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait(pilot, lambda: fully_loaded(app, uri, expected), 120)
        # nothing may stand between the keys and the tree (the journal's screen would take them all)
        assert isinstance(app.screen, MainScreen), f"{type(app.screen).__name__} is in front of the tree"
        conn = app.backend.hosts.sessions[uri].connection
        assert conn is not None
        running = [conn.lookupByUUIDString(g.uuid) for g in app.fleet.hosts[uri].guests.values()
                   if g.state is GuestState.RUNNING]
        done = threading.Event()

        def fire() -> None:
            pace = seconds / (events_total / 2)
            for i in range(events_total // 2):
                dom = running[i % len(running)]
                dom.suspend()
                dom.resume()
                time.sleep(max(0.0, pace - 0.0002))
            done.set()

        tree = app.main.guest_tree  # type: ignore[union-attr]
        tree.focus()
        await pilot.press("j")  # the first guest
        first = tree.cursor_node
        await pilot.press("j")
        second = tree.cursor_node
        await pilot.press("k")
        assert first is not None and second is not None and tree.cursor_node is first
        handled: list[float] = []
        for name in ("action_cursor_down", "action_cursor_up"):  # the bindings call these by name
            original = getattr(tree, name)

            def counting(original=original) -> None:  # type: ignore[no-untyped-def]
                handled.append(time.monotonic())
                original()

            setattr(tree, name, counting)
        threading.Thread(target=fire, daemon=True).start()
        presses: list[float] = []
        waits: list[float] = []  # from the press until the binding ran
        lost = undone = 0
        while not done.is_set():
            # a key as the terminal would deliver it, timed until the cursor has moved (Pilot's `press`
            # would also wait for the whole message queue to drain, which a storm never lets happen)
            target, key = (second, "j") if tree.cursor_node is first else (first, "k")
            count = len(handled)
            started = time.monotonic()
            app.simulate_key(key)
            while tree.cursor_node is not target and time.monotonic() - started < GIVE_UP:
                await asyncio.sleep(0.0005)
            moved = tree.cursor_node is target
            if len(handled) == count:
                lost += 1
            else:
                waits.append((handled[count] - started) * 1000)
                if not moved:
                    undone += 1
            presses.append((time.monotonic() - started) * 1000)
            if not moved:  # back to a known row before the next press
                tree.move_cursor(first)
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.02)
        await pilot.pause(1.0)  # let the last reads land
        fresh = {g.uuid: g for g in read_guests(conn)}
        shown = app.fleet.hosts[uri].guests
        def ids(guest):  # type: ignore[no-untyped-def]  # what the tree shows of each device (chains aside)
            return [(d.kind, d.target, d.alias, d.address_text, d.source) for d in guest.devices]

        correct = set(fresh) == set(shown) and all(
            fresh[u].state == shown[u].state and ids(fresh[u]) == ids(shown[u]) for u in fresh)
        for uuid, guest in shown.items():
            correct = correct and (guest.state.value in _label(app, uri, uuid) if guest.state else True)
        presses.sort()
        waits.sort()
        return {"keypress_p99_ms": percentile(presses, 99), "keypress_p50_ms": percentile(presses, 50),
                "handled_p99_ms": percentile(waits, 99), "presses": len(presses), "lost": lost,
                "undone": undone, "final_correct": correct}


def percentile(ordered: list[float], p: int) -> float:
    """The p-th percentile of sorted values (nearest rank), 0 for none."""
    if not ordered:
        return 0.0
    return ordered[max(0, min(len(ordered) - 1, -(-len(ordered) * p // 100) - 1))]


def host_loaded(app: ZtuiApp, uri: str, expected: int) -> bool:
    """One host of several: every guest in its subtree and its full read done."""
    main = app.main
    entry = app.fleet.hosts[uri]
    if main is None or not entry.connected or len(entry.guests) != expected:
        return False
    node = next((n for n in main.guest_tree.root.children if n.data is not None and n.data.uri == uri), None)
    return (node is not None and len(node.children) == expected
            and app.backend.hosts.sessions[uri].connection is not None
            and any(g.devices for g in entry.guests.values()))


async def fleet_tree(uris: list[str], expected: int, hung: str = "") -> dict[str, float]:
    """Looked at every 5 ms without Pilot's pause (see `full_tree`)."""
    app = ZtuiApp([*uris, *([hung] if hung else [])], host_udev=False)
    shown_hung = 0.0
    async with app.run_test(size=(160, 50)):
        deadline = time.monotonic() + 180
        while not all(host_loaded(app, u, expected) for u in uris) and time.monotonic() < deadline:
            if hung and not shown_hung and app.fleet.hosts[hung].error:
                shown_hung = time.monotonic() - START
            await asyncio.sleep(0.005)
        elapsed = time.monotonic() - START
        usage = resource.getrusage(resource.RUSAGE_SELF)
        assert all(host_loaded(app, u, expected) for u in uris), "the tree never showed every host whole"
        if hung:
            while not app.fleet.hosts[hung].error and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            shown_hung = shown_hung or time.monotonic() - START
            assert "not answering" in app.fleet.hosts[hung].error, app.fleet.hosts[hung].error
    return {"seconds": elapsed, "hung_shown_seconds": shown_hung, "cpu_seconds": usage.ru_utime + usage.ru_stime}


async def fleet_idle(uris: list[str], expected: int, idle_seconds: float) -> dict[str, float]:
    app = ZtuiApp(uris, host_udev=False)
    async with app.run_test(size=(160, 50)) as pilot:
        assert await wait(pilot, lambda: all(host_loaded(app, u, expected) for u in uris), 180, 0.05)
        await pilot.pause(1.0)
        guests = sum(len(e.guests) for e in app.fleet.hosts.values())
        devices = sum(len(g.devices) for e in app.fleet.hosts.values() for g in e.guests.values())
        return {"rss_mb": rss_mb(), "idle_cpu_pct": await idle_cpu_pct(pilot, idle_seconds), "guests": guests,
                "devices": devices}


def main() -> None:
    mode, uri, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
    # a state directory of its own: an unfinished operation in the user's journal opens a screen at start
    # that takes every key (the storm then measured the probe's give-up) and costs CPU besides
    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="ztui-probe-state-")
    if mode.startswith("fleet-"):
        with open(uri) as listing:
            uris = listing.read().split()
        if mode == "fleet-tree":
            fleet = asyncio.run(fleet_tree(uris, expected, sys.argv[4] if len(sys.argv) > 4 else ""))
        else:
            fleet = asyncio.run(fleet_idle(uris, expected, float(sys.argv[4])))
        print(json.dumps(fleet))
        return
    facts = os.environ.get("ZTUI_BENCH_HOST_FACTS", "")
    if facts:  # the simulated z16 at scale: resolve against its facts, as `--host-facts FILE` does
        from ztui.host.facts_source import use_snapshot

        use_snapshot(uri, facts)
    if mode == "first-tree":
        result: dict[str, object] = asyncio.run(first_tree(uri, expected))  # type: ignore[arg-type]
    elif mode == "full-tree":
        result = asyncio.run(full_tree(uri, expected))  # type: ignore[arg-type]
    elif mode == "rss":
        result = asyncio.run(loaded_rss(uri, expected))  # type: ignore[arg-type]
    elif mode == "events":
        result = asyncio.run(events(uri, expected, int(sys.argv[4]), float(sys.argv[5])))
    else:
        result = asyncio.run(storm(uri, expected, int(sys.argv[4]), float(sys.argv[5])))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
