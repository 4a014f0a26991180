"""Live I/O in the details pane (libvirt's test driver answers blockStats and interfaceStats): polled once
a second while a running guest or its device is selected, and never while nothing measurable is."""

from __future__ import annotations

from tests.ui.conftest import screen_text, wait_until
from ztui.ops.iostats import io_sources
from ztui.ui.app import ZtuiApp
from ztui.ui.noderef import NodeRef
from ztui.ui.widgets.iostats import IoStatsView


async def test_no_polling_without_a_selected_running_guest_then_once_a_second(testdriver_copy: str) -> None:
    uri = testdriver_copy
    app = ZtuiApp([uri], host_udev=False)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_until(pilot, lambda: app.fleet.hosts[uri].connected)
        main = app.main
        assert main is not None
        view = main.query_one(IoStatsView)
        await pilot.pause(2.5)  # the cursor is on the host: nothing to measure
        assert view.polls == 0 and not view.polling and not view.display

        guests = app.fleet.hosts[uri].guests.values()
        off = next(g for g in guests if g.state is not None and not g.state.is_active and io_sources(g))
        main.guest_tree.select_ref(NodeRef("guest", uri, off.uuid))
        await pilot.pause(1.5)
        assert view.polls == 0 and not view.polling  # a shut-off guest has no counters

        running = next(g for g in guests if g.state is not None and g.state.is_active and
                       any(s.kind.value == "block" for s in io_sources(g)))
        main.guest_tree.select_ref(NodeRef("guest", uri, running.uuid))
        assert await wait_until(pilot, lambda: view.polls >= 3, 4.5), view.polls
        assert view.polling and view.display
        assert await wait_until(pilot, lambda: len(view.lines) > 1, 2.0), view.lines
        assert view.lines[0] == "live I/O, per second"
        assert any(" read " in line and " op/s" in line and " write " in line for line in view.lines), view.lines

        main.guest_tree.select_ref(NodeRef("host", uri, ""))
        await pilot.pause(0.1)
        stopped_at = view.polls
        await pilot.pause(2.2)
        assert view.polls == stopped_at and not view.polling and not view.display


BARS = set("▁▂▃▄▅▆▇█")


async def test_the_last_minute_as_a_sparkline_beside_the_numbers(testdriver_copy: str) -> None:
    uri = testdriver_copy
    app = ZtuiApp([uri], host_udev=False)
    async with app.run_test(size=(80, 40)) as pilot:  # 80 columns, and lines enough for five devices
        assert await wait_until(pilot, lambda: app.fleet.hosts[uri].connected)
        main = app.main
        assert main is not None
        view = main.query_one(IoStatsView)
        guests = app.fleet.hosts[uri].guests.values()
        running = next(g for g in guests if g.state is not None and g.state.is_active and
                       sum(1 for s in io_sources(g) if s.kind.value == "block") >= 2)
        main.guest_tree.select_ref(NodeRef("guest", uri, running.uuid))
        assert await wait_until(pilot, lambda: view.polls >= 4, 6.0), view.polls
        await pilot.pause(0.2)
        sources = io_sources(running)
        assert {s for s, h in view.history.items() if len(h) >= 2} == set(sources)  # a rate per read, per device
        shown = [line for line in screen_text(pilot) if any(s.name in line for s in sources)]
        assert len(shown) >= len(sources)
        for source in sources:  # each device: its name, its sparkline and its numbers, none of them cut
            line = next(line for line in shown if source.name in line)
            assert BARS & set(line), line
        text = "\n".join(screen_text(pilot))
        assert text.count(" op/s") >= 2 and "…" not in "".join(line for line in shown)

        # another guest: its own minute, not the last one's
        other = next(g for g in guests if g.uuid != running.uuid and g.state is not None and g.state.is_active
                     and io_sources(g))
        main.guest_tree.select_ref(NodeRef("guest", uri, other.uuid))
        await pilot.pause(0.1)
        assert all(len(h) <= 1 for h in view.history.values())


async def test_nothing_is_read_while_another_screen_covers_the_details(testdriver_copy: str) -> None:
    uri = testdriver_copy
    app = ZtuiApp([uri], host_udev=False)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_until(pilot, lambda: app.fleet.hosts[uri].connected)
        main = app.main
        assert main is not None
        view = main.query_one(IoStatsView)
        running = next(g for g in app.fleet.hosts[uri].guests.values()
                       if g.state is not None and g.state.is_active and io_sources(g))
        main.guest_tree.select_ref(NodeRef("guest", uri, running.uuid))
        assert await wait_until(pilot, lambda: view.polls >= 1, 3.0)
        await pilot.press("H")
        await pilot.pause(0.2)
        covered = view.polls
        await pilot.pause(2.2)
        assert view.polls == covered
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: view.polls > covered, 2.5)


def test_the_sparkline_starts_at_zero_and_fills_from_the_right() -> None:
    from rich.console import Console

    from ztui.ui.widgets.iostats import spark_text

    console = Console()
    assert spark_text(console, [0.0] * 10, 12).plain == " " * 10 + "▁▁"  # idle: a baseline, not full bars
    assert spark_text(console, [5.0], 12).plain == " " * 11 + "█"
    assert spark_text(console, [0.0] * 30 + [100.0] * 30, 12).plain == "▁" * 6 + "█" * 6
