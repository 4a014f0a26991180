"""A `Tree` whose labels fit its width: a label that does not fit ends in `…`.

Textual's tree cuts a long line at the edge (and offers a horizontal scroll), so `0.0.0010` could show as
`0.0.001` — another bus-ID. Here a label is shortened to the cells right of its guides, with `…` at the
end, and the tree is never wider than its widget.
"""

from __future__ import annotations

from typing import TypeVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

T = TypeVar("T")


class FittingTree(Tree[T]):
    """Also: every key acts from the node under the cursor. After a structural change Textual's `Tree` keeps
    the cursor's old line number until it lays its lines out again (at idle); a key handled before that
    moved from the stale number, one line too few (the key seemed lost) or too many (a row never seen)."""

    def settle_lines(self) -> None:
        """Lay the lines out now, if a change made them stale: the cursor line follows its node."""
        _ = self._tree_lines

    def action_cursor_up(self) -> None:
        self.settle_lines()
        super().action_cursor_up()

    def action_cursor_down(self) -> None:
        self.settle_lines()
        super().action_cursor_down()

    def action_page_up(self) -> None:
        self.settle_lines()
        super().action_page_up()

    def action_page_down(self) -> None:
        self.settle_lines()
        super().action_page_down()

    def room(self, node: TreeNode[T]) -> int:
        """The cells left for this node's label right of its guides; 0 before the tree has a size."""
        width = self.scrollable_content_region.width
        if width <= 0:
            return 0
        depth, parent = 0, node.parent
        while parent is not None:
            depth, parent = depth + 1, parent.parent
        return max(8, width - depth * self.guide_depth)

    def render_label(self, node: TreeNode[T], base_style: Style, style: Style) -> Text:
        text = super().render_label(node, base_style, style)
        room = self.room(node)
        if room and text.cell_len > room:
            text.truncate(room, overflow="ellipsis")
        return text

    def get_label_width(self, node: TreeNode[T]) -> int:
        """The width `render_label` gives, without building the styled label: a structural change (a guest
        defined, a device hot-plugged into an expanded guest) measures every line again."""
        label = node.label
        width = label.cell_len if isinstance(label, Text) else cell_len(label)
        if node.allow_expand:
            width += cell_len(self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE)
        room = self.room(node)
        return min(width, room) if room else width
