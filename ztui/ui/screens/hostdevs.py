"""The host devices view (`H`): each host's inventory grouped like `ztui hostdevs`, with its users.

The inventory is scanned afresh when the view opens (one worker per host), never at start-up. Grouping,
users, conflicts and VFIO readiness come from the same pure code as `ztui hostdevs --json`, so the view
and the command always agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Static, Tree
from textual.widgets.tree import NodeID, TreeNode

from ztui.backend.prepare import request_for
from ztui.backend.updates import Inventory
from ztui.fleet import Fleet
from ztui.model import DeviceUse
from ztui.report.filtering import match_host_device
from ztui.report.hostdevs import DeviceEntry, DeviceGroup, Entry, host_listing
from ztui.ui.labels import hostdev_label
from ztui.ui.messages import InventoryRead
from ztui.ui.screens.prepare import PrepareScreen
from ztui.ui.shell import ZtuiShell
from ztui.ui.widgets.details import DETAILS_BINDING, DetailsPane, hostdev_details
from ztui.ui.widgets.fitting_tree import FittingTree


class HostDevicesScreen(Screen[None]):
    """Each host's devices, scanned by its session when the view opens (and again after a device event)."""

    app = getters.app(ZtuiShell)

    BINDINGS = [
        Binding("escape,H,q", "app.pop_screen", "Back", id="back"),
        Binding("u", "toggle_free", "Free for pass-through only", id="free"),
        Binding("p", "prepare", "Prepare", id="prepare",
                tooltip="prepare the device for pass-through, or give it back (the plan first)"),
        DETAILS_BINDING,
        Binding("j", "tree_down", "Down", show=False),
        Binding("k", "tree_up", "Up", show=False),
    ]

    def __init__(self, fleet: Fleet, query: str = "", select: tuple[str, str] | None = None) -> None:
        """`query`: the main screen's filter (only the devices it matches are shown); `select`: the (host
        URI, device key) to put the cursor on once it is read."""
        super().__init__()
        self.fleet = fleet
        self.filter_text = query
        self.groups: dict[str, list[DeviceGroup]] = {}
        self.matching: dict[str, set[str]] = {}  # host URI → keys of the devices the query matches
        self.uses: dict[str, Mapping[str, Sequence[DeviceUse]]] = {}  # host URI → device key → guests' uses
        self._host_nodes: dict[NodeID, str] = {}  # the tree's host lines → their URIs
        self._cursor: tuple[str, str] | None = None  # (host URI, device key) the cursor is on
        self._wanted = select  # where the cursor goes once that host's devices are read
        # the first device, where the view put the cursor itself (no device chosen, or not read yet): it does
        # not hold the cursor when a host read later comes before it, as a device the user chose does
        self._placed: TreeNode[Entry | None] | None = None
        self.free_only = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            tree: FittingTree[Entry | None] = FittingTree("host devices", id="hostdev-tree")
            tree.show_root = False
            yield tree
            yield DetailsPane(id="details")
        yield Static("reading the host devices…", id="status")
        yield Footer()

    def on_mount(self) -> None:
        tree = self.query_one(Tree)
        tree.border_title = "host devices" + (f" matching '{self.filter_text}'" if self.filter_text else "")
        self.query_one(DetailsPane).border_title = "details"
        tree.focus()
        for uri, entry in self.fleet.hosts.items():
            if entry.connected:
                self.app.backend.refresh_inventory(uri)  # the answer arrives as InventoryRead
        if not any(e.connected for e in self.fleet.hosts.values()):
            self.query_one("#status", Static).update("no connected host: no host devices to show")

    def on_inventory_read(self, message: InventoryRead) -> None:
        self.inventory_read(message.uri, message.inventory)

    def inventory_read(self, uri: str, inventory: Inventory | None) -> None:
        """A host's session scanned its devices (on its own thread): group them with their users."""
        if inventory is None:
            groups: list[DeviceGroup] = []
        else:
            listing = host_listing(self.fleet.snapshot(uri), inventory, self.app.volumes.join)
            groups = listing.groups
            self.uses[uri] = listing.uses
            self.matching[uri] = {d.key for d in inventory.devices if match_host_device(d, self.filter_text)}
        self.groups[uri] = groups
        self._rebuild_tree()
        self._show_count()

    def _show_count(self) -> None:
        total = sum(len(g.entries) for gs in self.groups.values() for g in gs)
        shown = sum(len(self._shown(uri, g.entries)) for uri, gs in self.groups.items() for g in gs)
        text = f"{total} host devices and objects on {len(self.groups)} host(s)"
        if self.filter_text:
            text = f"{shown} of {total} host devices match '{self.filter_text}'" + (" and are free" if self.free_only
                                                                               else "")
        elif self.free_only:
            text = (f"{shown} of {total} free for pass-through (used by no guest nor the host, bound to vfio) — "
                    "u shows all" if shown else
                    f"none of the {total} host devices is free for pass-through (used by no guest nor the host, "
                    "bound to vfio) — u shows all")
        self.query_one("#status", Static).update(text)

    def _shown(self, uri: str, entries: Sequence[Entry]) -> list[Entry]:
        if self.filter_text:
            matching = self.matching.get(uri, set())
            entries = [e for e in entries if e.key in matching]
        if not self.free_only:
            return list(entries)
        return [e for e in entries if isinstance(e, DeviceEntry) and e.ready]

    def host_of(self, node: TreeNode[Entry | None]) -> str | None:
        """The URI of a host line of the tree."""
        return self._host_nodes.get(node.id)

    def _rebuild_tree(self) -> None:
        """The hosts in the main tree's order (the order their scans come back in varies), each with its groups;
        the cursor stays on its device while that is shown, else goes to the first one, and the details follow."""
        tree: FittingTree[Entry | None] = self.query_one(FittingTree)
        tree.clear()
        self._host_nodes.clear()
        target: TreeNode[Entry | None] | None = None
        first: TreeNode[Entry | None] | None = None
        for uri in [u for u in self.fleet.hosts if u in self.groups]:
            entry = self.fleet.hosts[uri]
            hnode = tree.root.add(Text(entry.host.hostname or uri, style="bold"), None, expand=True)
            self._host_nodes[hnode.id] = uri
            for group in self.groups[uri]:
                devices = self._shown(uri, group.entries)
                if not devices:
                    continue
                gnode = hnode.add(Text(f"{group.name} ({len(devices)})", style="bold cyan"), None, expand=True)
                for dev in devices:
                    leaf = gnode.add_leaf(hostdev_label(dev), dev)
                    first = first or leaf
                    if (self._wanted or self._cursor) == (uri, dev.key):
                        target = leaf
            if not hnode.children:
                hnode.add_leaf(Text(self._nothing_shown(), style="dim"), None)
        if target is not None:
            self._wanted = None
        node = target or first
        tree.settle_lines()
        tree.move_cursor(node if node is not None else (tree.root.children[0] if tree.root.children else None))
        self._placed = None if target is not None else tree.cursor_node
        if self._placed is not None:
            self._cursor = None
        self._show_details(tree.cursor_node)

    def _nothing_shown(self) -> str:
        """The line of a host none of whose devices is shown."""
        free = "free " if self.free_only else ""
        if self.filter_text:
            return f"nothing {free}matches '{self.filter_text}'"
        return "none free for pass-through" if self.free_only else "no host devices read"

    def _show_details(self, node: TreeNode[Entry | None] | None) -> None:
        dev = node.data if node is not None else None
        if (dev is not None and node is not None and node is not self._placed and node.parent is not None
                and node.parent.parent is not None):
            uri = self._host_nodes.get(node.parent.parent.id)
            self._cursor = (uri, dev.key) if uri is not None else None
        self.query_one(DetailsPane).show(hostdev_details(dev) if dev is not None else Text(""))

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Entry | None]) -> None:
        if event.node is self.query_one(FittingTree).cursor_node:  # not a move a rebuild has overtaken
            if event.node is not self._placed:  # the user moved: from now on the cursor keeps its device
                self._placed = None
            self._show_details(event.node)

    def action_prepare(self) -> None:
        """`p`: the preparation (or its undo) of the device under the cursor, in a dialog that shows the plan
        before anything changes; the host's devices are read again when it ran."""
        node = self.query_one(Tree).cursor_node
        dev = node.data if node is not None else None
        host = node.parent.parent if node is not None and node.parent is not None else None
        uri = self._host_nodes.get(host.id) if host is not None else None
        if dev is None or uri is None:
            self.notify("put the cursor on a host device first", severity="warning")
            return
        device = dev.device if isinstance(dev, DeviceEntry) else None
        request = request_for(device.kind.value, device.id, device.driver, {f.key: f.value for f in device.facts}) \
            if device is not None else None
        if request is None:
            self.notify(f"{dev.id}: only an ECKD DASD, a subchannel, a PCI function, an AP queue or a vfio-ap "
                        "mdev is prepared for pass-through", severity="warning")
            return

        def ran(proven: bool | None) -> None:
            if proven:
                self.app.backend.refresh_inventory(uri)

        self.app.push_screen(PrepareScreen(uri, request, self.uses.get(uri)), ran)

    def action_toggle_free(self) -> None:
        self.free_only = not self.free_only
        self._rebuild_tree()
        self._show_count()

    def action_tree_down(self) -> None:
        self.query_one(Tree).action_cursor_down()

    def action_tree_up(self) -> None:
        self.query_one(Tree).action_cursor_up()
