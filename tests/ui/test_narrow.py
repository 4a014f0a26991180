"""At 80x24 every mark is on screen: the details pane goes under the tree, a line gives way part by part
(facts, paths, names) and never loses its marks, and `z` makes the details pane bigger, hides it, brings
it back."""

from __future__ import annotations

from dataclasses import replace

from textual.pilot import Pilot

from tests.ui.conftest import screen_text, wait_until
from ztui.ui.app import ZtuiApp
from ztui.ui.fitlabel import FitLabel, Part, cut_text
from ztui.ui.widgets.details import DetailsPane
from ztui.ui.widgets.guest_tree import GuestTree


async def _ready(app: ZtuiApp, pilot: Pilot[object], uri: str) -> None:
    assert await wait_until(pilot, lambda: app.fleet.hosts[uri].connected)
    await pilot.pause(0.1)


def _line_with(lines: list[str], word: str) -> str:
    found = [line for line in lines if word in line]
    assert found, f"{word!r} is not on the screen:\n" + "\n".join(lines)
    return found[0]


async def test_every_blocker_mark_is_on_screen_at_80x24(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy], host_udev=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(app, pilot, testdriver_copy)
        await pilot.press("j", "l")  # db01, opened: three pass-through devices that block migration
        await pilot.press("z", "z")  # the details hidden: the tree has the whole screen
        await pilot.pause(0.1)
        lines = screen_text(pilot)
        assert "⛔ 3 migration blockers" in _line_with(lines, "db01")
        for name in ("6f2c9d41", "2b8d4f61", "0001:00:00.0"):
            assert "⛔" in _line_with(lines, name)
        for name in ("idle-crashed", "idle-paused", "template"):
            assert "⚠" in _line_with(lines, name)


async def test_a_long_name_is_cut_before_the_marks(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy], host_udev=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(app, pilot, testdriver_copy)
        main = app.main
        assert main is not None
        db01 = next(g for g in app.fleet.hosts[testdriver_copy].guests.values() if g.name == "db01")
        long = replace(db01, uuid="00000000-0000-0000-0000-0000000000aa", name="a-guest-" + "x" * 80)
        main.apply(app.fleet.guest_updated(testdriver_copy, long))
        await pilot.pause(0.1)
        line = _line_with(screen_text(pilot), "a-guest-")
        assert "…" in line and "⛔ 3 migration blockers" in line and "⚠ 4" in line


async def test_details_go_below_the_tree_when_narrow_and_beside_it_when_wide(testdriver_copy: str) -> None:
    for size, below in (((80, 24), True), ((120, 40), False)):
        app = ZtuiApp([testdriver_copy], host_udev=False)
        async with app.run_test(size=size) as pilot:
            await _ready(app, pilot, testdriver_copy)
            tree = app.screen.query_one(GuestTree).region
            details = app.screen.query_one(DetailsPane).region
            assert (details.y >= tree.bottom) is below, size
            assert (details.x >= tree.right) is not below, size


async def test_z_makes_the_details_bigger_then_hides_them_then_brings_them_back(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy], host_udev=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(app, pilot, testdriver_copy)
        pane = app.screen.query_one(DetailsPane)
        tree = app.screen.query_one(GuestTree)
        normal = (tree.region.height, pane.region.height)
        await pilot.press("z")
        assert pane.region.height > normal[1] and tree.region.height < normal[0]
        await pilot.press("z")
        assert not pane.display and tree.region.height > normal[0]
        await pilot.press("z")
        assert pane.display and (tree.region.height, pane.region.height) == normal


async def test_host_devices_keep_used_by_at_80x24(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy], host_udev=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(app, pilot, testdriver_copy)
        await pilot.press("H")
        assert await wait_until(pilot, lambda: "host devices and objects" in "\n".join(screen_text(pilot)))
        await pilot.press("z", "z")
        await pilot.pause(0.1)
        lines = screen_text(pilot)
        for device in ("encbd00", "0001:00:00.0", "ap_matrix"):
            assert "used by db01" in _line_with(lines, device)


def test_a_label_gives_way_by_rank_and_keeps_its_marks() -> None:
    label = FitLabel([Part("zlnx04", cut=True, rank=5), Part("  shut off"), Part("  s390x", short="", rank=0),
                      Part("  256 MiB", short="", rank=1), Part("  ⛔ 4"),
                      Part(" migration blockers", short="", rank=6)])
    assert label.fitted(80).plain == "zlnx04  shut off  s390x  256 MiB  ⛔ 4 migration blockers"
    assert label.fitted(50).plain == "zlnx04  shut off  256 MiB  ⛔ 4 migration blockers"
    assert label.fitted(41).plain == "zlnx04  shut off  ⛔ 4 migration blockers"  # ⛔ takes two cells
    assert label.fitted(39).plain == "zln…  shut off  ⛔ 4 migration blockers"
    assert label.fitted(26).plain == "zlnx04  shut off  ⛔ 4"  # the name whole again once the words went
    assert label.fitted(10).cell_len == 10


def test_a_path_is_cut_in_its_middle() -> None:
    assert cut_text("  /dev/disk/by-path/ccw-0.0.5c01", 20) == "  /dev/d…cw-0.0.5c01"
    assert cut_text("zlnx04", 4) == "zln…"
    assert cut_text("short", 10) == "short"
