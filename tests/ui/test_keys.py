"""One list of keys: the bindings. The help screen and the README's table are built from them."""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding

from ztui.ui.keys import key_rows, main_screen_keys, markdown_table
from ztui.ui.screens.main import MainScreen
from ztui.ui.widgets.guest_tree import GuestTree

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_key_table_is_the_bindings() -> None:
    """After a new binding: `python -m ztui.ui.keys` prints the table to paste into the README."""
    assert markdown_table(main_screen_keys()) in README.read_text(encoding="utf-8")


def test_every_key_of_the_main_screen_is_explained() -> None:
    bindings = [b for b in [*MainScreen.BINDINGS, *GuestTree.BINDINGS] if isinstance(b, Binding)]
    assert all(b.tooltip for b in bindings), [b.key for b in bindings if not b.tooltip]
    assert all(b.id for b in bindings), [b.key for b in bindings if not b.id]
    shown = {k for row in main_screen_keys() for k in row.keys}
    assert {"/", "x", "a", "d", "m", "H", "r", "?", "q", "ctrl+p", "j", "k", "esc"} <= shown


def test_neighbouring_bindings_with_one_meaning_share_a_row() -> None:
    rows = key_rows([Binding("up,k", "a", tooltip="move"), Binding("down,j", "b", tooltip="move"),
                     Binding("slash", "c", tooltip="filter"), Binding("z", "d")])
    assert [(r.keys, r.text) for r in rows] == [(("↑", "k", "↓", "j"), "move"), (("/",), "filter")]


async def test_help_screen_lists_every_row() -> None:
    from textual.app import App
    from textual.widgets import Static

    from ztui.ui.screens.help import HelpScreen

    app: App[None] = App()
    async with app.run_test(size=(160, 50)) as pilot:
        app.push_screen(HelpScreen())
        await pilot.pause(0.1)
        text = "\n".join("".join(s.text for s in app.console.render(w.content))  # type: ignore[arg-type]
                         for w in app.screen.query(Static))
        flat = " ".join(text.split())  # a long line wraps inside its column
        for row in main_screen_keys():
            assert " ".join(row.text.replace("`", "").split()) in flat, row
