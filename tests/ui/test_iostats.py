"""Live I/O in the details pane (libvirt's test driver answers blockStats and interfaceStats): polled once
a second while a running guest or its device is selected, and never while nothing measurable is."""

from __future__ import annotations

from tests.ui.conftest import wait_until
from ztui.ops.iostats import io_sources
from ztui.ui.app import ZtuiApp
from ztui.ui.widgets.guest_tree import NodeRef
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
