"""The key table, built from the bindings themselves: the help screen shows it and the README carries it.

Each binding of the main screen (`ztui.ui.bindings`) and of the tree has a `tooltip`: its line in the
table. Bindings with the same tooltip next to each other share a line (`↑ k ↓ j  move`). A new key is one
`Binding` with a tooltip; the help screen follows by itself, and `python -m ztui.ui.keys` prints the README's table
(a test checks that the README has it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.binding import Binding

from ztui.ui.bindings import MAIN_BINDINGS
from ztui.ui.widgets.guest_tree import GuestTree

_SHOWN = {"up": "↑", "down": "↓", "left": "←", "right": "→", "slash": "/", "question_mark": "?",
          "escape": "esc", "space": "space", "enter": "enter"}

#: the command palette is the app's own binding; it belongs in the table all the same
PALETTE = Binding("ctrl+p", "command_palette", "Jump", id="palette",
                  tooltip="jump to any host, guest or device: words in any order (`zlnx02 zlab-y`, `lnx01 vdb`)")


@dataclass(frozen=True)
class KeyRow:
    keys: tuple[str, ...]
    text: str


def key_name(key: str) -> str:
    """A key as people write it: `slash` → `/`, `up` → `↑`, `ctrl+p` stays."""
    return _SHOWN.get(key, key)


def key_rows(bindings: Iterable[Binding]) -> list[KeyRow]:
    """One row per tooltip; neighbouring bindings with the same tooltip share the row."""
    rows: list[KeyRow] = []
    for binding in bindings:
        if not binding.tooltip:
            continue
        keys = tuple(key_name(k.strip()) for k in binding.key.split(","))
        if rows and rows[-1].text == binding.tooltip:
            rows[-1] = KeyRow(rows[-1].keys + keys, binding.tooltip)
        else:
            rows.append(KeyRow(keys, binding.tooltip))
    return rows


def main_screen_keys() -> list[KeyRow]:
    """Every key of the main screen: moving in the tree, then the screen's actions, then the palette."""
    bindings = [b for b in [*GuestTree.BINDINGS, *MAIN_BINDINGS, PALETTE] if isinstance(b, Binding)]
    actions = [b for b in bindings if b.id not in ("help", "quit")]
    last = [b for b in bindings if b.id in ("help", "quit")]
    return key_rows([*actions, *last])


def markdown_table(rows: Iterable[KeyRow]) -> str:
    """The README's table."""
    lines = ["| key | what it does |", "|---|---|"]
    lines += [f"| {' '.join(f'`{k}`' for k in row.keys)} | {row.text} |" for row in rows]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(main_screen_keys()), end="")
