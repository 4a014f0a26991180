"""A `Tree` whose labels fit its width.

Textual's tree cuts a long line at the edge (and offers a horizontal scroll), so `0.0.0010` could show as
`0.0.001` — another bus-ID, and the marks at the end of a line (`⛔ 4 migration blockers`) are the first to
go. Here a label is fitted to the cells right of its guides: a `FitLabel` gives way part by part (facts,
then names, never its marks), any other label ends in `…`; the tree is never wider than its widget.
"""

from __future__ import annotations

from typing import TypeVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text, TextType
from textual.widgets import Tree
from textual.widgets._tree import TOGGLE_STYLE
from textual.widgets.tree import TreeNode

from ztui.ui.fitlabel import FitLabel

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

    def process_label(self, label: TextType) -> Text:
        """A `FitLabel` is kept as it is (Textual's own processing would make a plain `Text` of it)."""
        return label if isinstance(label, FitLabel) else super().process_label(label)

    def _icon(self, node: TreeNode[T]) -> str:
        if not node.allow_expand:
            return ""
        return self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE

    def fitted_label(self, node: TreeNode[T]) -> Text:
        """The node's label as it fits right of its guides and its expand icon."""
        label = node._label
        room = self.room(node)
        if not room:
            return label
        room -= cell_len(self._icon(node))
        if isinstance(label, FitLabel):
            return label.fitted(room)
        if label.cell_len > room:
            label = label.copy()
            label.truncate(max(room, 1), overflow="ellipsis")
        return label

    def render_label(self, node: TreeNode[T], base_style: Style, style: Style) -> Text:
        label = self.fitted_label(node).copy()
        label.stylize(style)
        icon = self._icon(node)
        prefix = (icon, base_style + TOGGLE_STYLE) if icon else ("", base_style)
        return Text.assemble(prefix, label)

    def get_label_width(self, node: TreeNode[T]) -> int:
        """The width `render_label` gives, without styling the label: a structural change (a guest defined,
        a device hot-plugged into an expanded guest) measures every line again."""
        return cell_len(self._icon(node)) + self.fitted_label(node).cell_len
