"""A tree the keyboard walks like a file manager, whose cursor stays with what it shows across updates.

`h`/`j`/`k`/`l` (and the arrows) move, expand and collapse; the cursor goes to a node by what the node stands
for (`find`), never by its line number, which every update may change; when the node under the cursor is
removed, the cursor is the node that takes its line.
"""

from __future__ import annotations

from typing import TypeVar

from textual.binding import Binding
from textual.widgets.tree import TreeNode, UnknownNodeID

from ztui.ui.widgets.fitting_tree import FittingTree

T = TypeVar("T")


class NavigableTree(FittingTree[T]):
    """A subclass says where the node for a piece of data is (`find`); the moves and the cursor are here."""

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False, id="up", tooltip="move"),
        Binding("down,j", "cursor_down", "Down", show=False, id="down", tooltip="move"),
        Binding("right,l", "expand_or_down", "Expand", show=False, id="expand",
                tooltip="expand / collapse (`h` on a collapsed node goes to its parent)"),
        Binding("left,h", "collapse_or_parent", "Collapse or go to parent", show=False, id="collapse",
                tooltip="expand / collapse (`h` on a collapsed node goes to its parent)"),
        Binding("enter", "select_cursor", "Toggle", show=False, id="toggle", tooltip="expand or collapse"),
        Binding("space", "toggle_node", "Toggle", show=False, id="toggle_space", tooltip="expand or collapse"),
    ]

    def find(self, ref: T) -> TreeNode[T] | None:
        """The node showing `ref`, if one does."""
        raise NotImplementedError

    # --- keys -----------------------------------------------------------------------------------------

    def action_expand_or_down(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and not node.is_expanded:
            node.expand()
        else:
            self.action_cursor_down()

    def action_collapse_or_parent(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.is_expanded:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)

    # --- the cursor -----------------------------------------------------------------------------------

    def select_ref(self, ref: T) -> bool:
        """Move the cursor to the node showing `ref`, expanding its parents (and building what `find`
        builds on the way); False while no node shows it."""
        node = self.find(ref)
        if node is None:
            return False
        parent = node.parent
        while parent is not None:
            if not parent.is_expanded and parent is not self.root:
                parent.expand()
            parent = parent.parent
        self.move_cursor_to(node)
        return True

    def move_cursor_to(self, node: TreeNode[T]) -> None:
        """`move_cursor` for a node added in this same turn: lay out the lines first, else its line
        number is not known yet and the cursor would land elsewhere."""
        self.settle_lines()
        self.move_cursor(node)

    def cursor_follows_line(self) -> None:
        """After the node under the cursor was removed: the cursor is the node now on its line.

        `Tree` keeps its removed cursor node until the cursor line changes, so `cursor_node` (and what the
        screens show and do from it: the details pane, `d`) would go on naming a node that is gone."""
        node = self.cursor_node
        if node is None:
            return
        try:
            self.get_node_by_id(node.id)
        except UnknownNodeID:
            self.cursor_line = min(self.cursor_line, self.last_line)
            self.watch_cursor_line(self.cursor_line, self.cursor_line)
