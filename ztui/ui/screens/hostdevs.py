"""The host devices view (`H`): each host's inventory grouped like `ztui hostdevs`, with its users.

The inventory is scanned afresh when the view opens (one worker per host), never at start-up. Grouping,
users, conflicts and VFIO readiness come from the same pure code as `ztui hostdevs --json`, so the view
and the command always agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Static, Tree
from textual.widgets.tree import NodeID

from ztui.fleet import Fleet
from ztui.host.hostuse import HostUseKind, HostUseReason
from ztui.host.inventory import Inventory
from ztui.host.usage import conflicts, users_of
from ztui.model import DeviceUse
from ztui.ops.prepare.request import request_for
from ztui.report.hostdevs import inventory_json
from ztui.ui.app import ZtuiApp
from ztui.ui.screens.prepare import PrepareScreen
from ztui.ui.widgets.details import DetailsPane, hostdev_details
from ztui.ui.widgets.fitting_tree import FittingTree

Entry = dict[str, Any]


def device_line(dev: Entry) -> Text:
    """One device: id, kind, the host's own use of it (first: it is why a device that looks idle is not
    free), summary, then the guests that use it or whether it is free for pass-through."""
    label = Text(str(dev["id"]), style="bold")
    label.append(f"  {dev['kind']}", style="cyan")
    host_use = dev.get("host_use", [])
    if host_use:
        words = dict.fromkeys(HostUseReason(HostUseKind(r["kind"]), r["device"], r["detail"]).short for r in host_use)
        label.append("  host: " + ", ".join(words), style="yellow")
    if dev.get("summary"):
        label.append(f"  {dev['summary']}", style="dim")
    users = dev.get("users", [])
    if dev.get("conflict"):
        label.append(f"  ⚠ conflict: {dev['conflict']}", style="bold yellow")
    if users:
        label.append("  used by " + ", ".join(f"{u['guest']}/{u['target']}" for u in users), style="green")
    elif not host_use:
        elig = dev.get("eligibility")
        if elig is not None and elig["ready"]:
            label.append("  ✓ ready for pass-through, unused", style="magenta")
        elif elig is not None:
            label.append("  not ready for VFIO", style="dim")
    return label


class HostDevicesScreen(Screen[None]):
    """Each host's devices, scanned by its session when the view opens (and again after a device event)."""

    app = getters.app(ZtuiApp)

    BINDINGS = [
        Binding("escape,H,q", "app.pop_screen", "Back", id="back"),
        Binding("u", "toggle_free", "Free for pass-through only", id="free"),
        Binding("p", "prepare", "Prepare", id="prepare",
                tooltip="prepare the device for pass-through, or give it back (the plan first)"),
        Binding("j", "tree_down", "Down", show=False),
        Binding("k", "tree_up", "Up", show=False),
    ]

    def __init__(self, fleet: Fleet) -> None:
        super().__init__()
        self.fleet = fleet
        self.groups: dict[str, list[Entry]] = {}
        self.uses: dict[str, Mapping[str, Sequence[DeviceUse]]] = {}  # host URI → device key → guests' uses
        self._host_nodes: dict[NodeID, str] = {}  # the tree's host lines → their URIs
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
        tree.border_title = "host devices"
        self.query_one(DetailsPane).border_title = "details"
        tree.focus()
        for uri, entry in self.fleet.hosts.items():
            session = self.app.sessions.get(uri)
            if entry.connected and session is not None:
                session.refresh_inventory()  # the answer arrives as InventoryChanged → inventory_read
        if not any(e.connected for e in self.fleet.hosts.values()):
            self.query_one("#status", Static).update("no connected host: no host devices to show")

    def inventory_read(self, uri: str, inventory: Inventory | None) -> None:
        """A host's session scanned its devices (on its own thread): group them with their users."""
        if inventory is None:
            groups: list[Entry] = []
        else:
            snapshot = self.fleet.snapshot(uri)
            users = users_of([snapshot], inventory)
            groups = inventory_json(inventory, users, conflicts(users))
            self.uses[uri] = users
        self.groups[uri] = groups
        self._rebuild_tree()
        self._show_count()

    def _show_count(self) -> None:
        total = sum(len(g["devices"]) for gs in self.groups.values() for g in gs)
        text = f"{total} host devices and objects on {len(self.groups)} host(s)"
        if self.free_only:
            free = sum(len(self._shown(g["devices"])) for gs in self.groups.values() for g in gs)
            text = (f"{free} of {total} free for pass-through (used by no guest nor the host, bound to vfio) — "
                    "u shows all" if free else
                    f"none of the {total} host devices is free for pass-through (used by no guest nor the host, "
                    "bound to vfio) — u shows all")
        self.query_one("#status", Static).update(text)

    def _shown(self, devices: list[Entry]) -> list[Entry]:
        if not self.free_only:
            return devices
        return [d for d in devices if d.get("free") and (d.get("eligibility") or {}).get("ready")]

    def _rebuild_tree(self) -> None:
        tree: Tree[Entry | None] = self.query_one(Tree)
        tree.clear()
        self._host_nodes.clear()
        for uri, groups in self.groups.items():
            entry = self.fleet.hosts[uri]
            hnode = tree.root.add(Text(entry.host.hostname or uri, style="bold"), None, expand=True)
            self._host_nodes[hnode.id] = uri
            for group in groups:
                devices = self._shown(group["devices"])
                if not devices:
                    continue
                gnode = hnode.add(Text(f"{group['name']} ({len(devices)})", style="bold cyan"), None, expand=True)
                for dev in devices:
                    gnode.add_leaf(device_line(dev), dev)
            if not hnode.children:
                hnode.add_leaf(Text("none free for pass-through" if self.free_only
                                    else "no host devices read", style="dim"), None)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Entry | None]) -> None:
        dev = event.node.data
        self.query_one(DetailsPane).show(hostdev_details(dev) if dev is not None else Text(""))

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
        facts = {f["key"]: f["value"] for f in dev.get("facts", [])}
        request = request_for(str(dev["kind"]), str(dev["id"]), str(dev.get("driver") or ""), facts)
        if request is None:
            self.notify(f"{dev['id']}: only a DASD or tape, a subchannel, a PCI function, an AP queue or a vfio-ap "
                        "mdev is prepared for pass-through", severity="warning")
            return

        def ran(proven: bool | None) -> None:
            session = self.app.sessions.get(uri)
            if proven and session is not None:
                session.refresh_inventory()

        self.app.push_screen(PrepareScreen(uri, request, self.uses.get(uri)), ran)

    def action_toggle_free(self) -> None:
        self.free_only = not self.free_only
        self._rebuild_tree()
        self._show_count()

    def action_tree_down(self) -> None:
        self.query_one(Tree).action_cursor_down()

    def action_tree_up(self) -> None:
        self.query_one(Tree).action_cursor_up()
