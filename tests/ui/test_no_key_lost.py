"""A key press acts once, on the row the user saw, whatever the host changed just before it.

After a structural change (a guest defined or gone, device lines added) Textual's `Tree` keeps the old line
number of the cursor until the lines are laid out again; a key handled before that moved from the stale
number: one line too few (the key seemed lost) or too many (it acted on a row never seen).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.ui.conftest import wait_until
from ztui.model import Guest
from ztui.ui.app import ZtuiApp


def _guest_named(app: ZtuiApp, uri: str, name: str) -> Guest:
    return next(g for g in app.fleet.hosts[uri].guests.values() if g.name == name)


@pytest.mark.parametrize(("change", "key", "lands_on"), [
    ("added", "down", "idle-pmsuspended"),  # a guest that sorts first arrives: the key must not be eaten
    ("gone", "up", "idle-crashed"),  # db01 goes: the key must not skip a row
])
async def test_a_structural_change_above_the_cursor_does_not_move_the_next_key(
        testdriver_copy: str, change: str, key: str, lands_on: str) -> None:
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_until(pilot, lambda: app.fleet.hosts[testdriver_copy].connected)
        main = app.main
        assert main is not None
        tree = main.guest_tree
        await pilot.press("j", "j", "j")  # host → db01 → idle-crashed → idle-paused
        seen = tree.cursor_node
        assert seen is not None and seen.data is not None
        assert _guest_named(app, testdriver_copy, "idle-paused").uuid == seen.data.uuid
        db01 = _guest_named(app, testdriver_copy, "db01")
        if change == "added":
            new = replace(db01, uuid="00000000-0000-0000-0000-0000000000aa", name="aaa-new")
            main.apply(app.fleet.guest_updated(testdriver_copy, new))
        else:
            main.apply(app.fleet.guest_gone(testdriver_copy, db01.uuid))
        # the key comes before the tree laid its lines out again
        tree.action_cursor_down() if key == "down" else tree.action_cursor_up()
        assert tree.cursor_node is not None and tree.cursor_node.data is not None
        assert tree.cursor_node.data.uuid == _guest_named(app, testdriver_copy, lands_on).uuid


async def test_keys_typed_into_the_filter_at_once_act_in_their_order(testdriver_copy: str) -> None:
    """A burst (a paste, or typing while the tree re-filters): backspaces must not wait behind the letters."""
    from textual.widgets import Input

    app = ZtuiApp([testdriver_copy], host_udev=False)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_until(pilot, lambda: app.fleet.hosts[testdriver_copy].connected)
        await pilot.press("slash")
        for key in [*"lnx02 vdb", "backspace", "backspace", "backspace", "backspace", *"mapper", "left", "left",
                    "delete", "home", "delete"]:
            app.simulate_key(key)
        await pilot.pause(1.0)
        assert app.screen.query_one("#filter", Input).value == "nx02mappr"
