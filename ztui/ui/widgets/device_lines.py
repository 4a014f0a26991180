"""A guest's device lines and their backing steps, kept equal to the model by diffing, never by rebuilding.

Textual's `Tree` re-renders every expanded line on a structural change, while `set_label` does not
(docs/ARCHITECTURE.md §3): a guest's device lines are built when it is first expanded, and from then on
a device that stays (by its identity, `device_identity`) keeps its line and is relabelled only when what
it shows changed; only devices that came or went add or remove lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets.tree import TreeNode

from ztui.model import GuestDevice
from ztui.ui.labels import device_label_text, step_label
from ztui.ui.noderef import NodeRef

#: a device line as the tree shows it: (device identity, device), in the guest's order
DeviceLine = tuple[str, GuestDevice]


class DeviceLines:
    """The device lines of every guest of a tree: which guests have theirs built, what each line shows, and
    the removals pending or unproven that a device line says (set by the screens that detach)."""

    def __init__(self) -> None:
        #: (uri, uuid, device key) → what the device's line says of its removal ("removal pending", …)
        self.removals: dict[tuple[str, str, str], str] = {}
        self._built: set[tuple[str, str]] = set()
        #: what each device line shows, by guest and then device key: a line is relabelled only when it changed
        self._shown: dict[tuple[str, str], dict[str, tuple[GuestDevice, str]]] = {}

    def is_built(self, uri: str, uuid: str) -> bool:
        """Whether the guest's device lines exist (they are built on first expand)."""
        return (uri, uuid) in self._built

    def build(self, node: TreeNode[NodeRef], uri: str, uuid: str, wanted: Sequence[DeviceLine]) -> None:
        """Build the guest's device lines under its `node`; from now on `sync` keeps them."""
        self._built.add((uri, uuid))
        self.sync(node, uri, uuid, wanted)

    def forget(self, uri: str, uuid: str) -> None:
        """The guest's line is gone (or rebuilt): its device lines are to be built anew."""
        self._built.discard((uri, uuid))
        self._shown.pop((uri, uuid), None)

    def sync(self, node: TreeNode[NodeRef], uri: str, uuid: str, wanted: Sequence[DeviceLine]) -> None:
        """Make the device children equal `wanted`, in the domain XML's order: relabel kept ones, add and
        remove the rest. A kept device whose place changed is rebuilt at its place."""
        wanted_keys = {k for k, _ in wanted}
        existing = {c.data.key: c for c in node.children if c.data is not None}
        shown = self._shown.setdefault((uri, uuid), {})
        kept_order = [k for k in existing if k in wanted_keys]
        if kept_order != [k for k, _ in wanted if k in existing]:  # the order changed: rebuild the lines
            kept_order = []
        for key, child in existing.items():
            if key not in kept_order:
                child.remove()
                shown.pop(key, None)
        existing = {k: existing[k] for k in kept_order}
        previous: TreeNode[NodeRef] | None = None
        for key, device in wanted:
            removal = self.removals.get((uri, uuid, key), "")
            ref = NodeRef("device", uri, uuid, key)
            found = existing.get(key)
            if found is None:
                first = node.children[0] if previous is None and node.children else None
                child = node.add(device_label_text(device, removal), ref, after=previous, before=first,
                                 allow_expand=bool(device.backing))
                _add_steps(child, ref, device)
            else:
                child = found
            if found is not None and shown.get(key) != (device, removal):
                child.set_label(device_label_text(device, removal))
                old = shown.get(key)
                if old is None or old[0].backing != device.backing:
                    child.remove_children()
                    _add_steps(child, ref, device)
                child.allow_expand = bool(device.backing)
            shown[key] = (device, removal)
            previous = child


def _add_steps(line: TreeNode[NodeRef], ref: NodeRef, device: GuestDevice) -> None:
    """The device's backing chain as leaves under its line (`ref`), one a step."""
    for i, step in enumerate(device.backing):
        line.add_leaf(step_label(step), NodeRef("step", ref.uri, ref.uuid, ref.key, i))
