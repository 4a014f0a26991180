"""The host devices view (`H`): each host's inventory grouped like `ztui hostdevs`, with its users.

The inventory is scanned afresh when the view opens (one worker per host), never at start-up. Grouping,
users, conflicts and VFIO readiness come from the same pure code as `ztui hostdevs --json`, so the view
and the command always agree.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Static, Tree

from ztui.fleet import Fleet
from ztui.host.usage import conflicts, users_of
from ztui.report.hostdevs import inventory_json
from ztui.ui.widgets.details import DetailsPane, hostdev_details

Entry = dict[str, Any]


def device_line(dev: Entry) -> Text:
    """One device: id, kind, summary, then who uses it or whether it is free for pass-through."""
    label = Text(str(dev["id"]), style="bold")
    label.append(f"  {dev['kind']}", style="cyan")
    if dev.get("summary"):
        label.append(f"  {dev['summary']}", style="dim")
    users = dev.get("users", [])
    if dev.get("conflict"):
        label.append(f"  ⚠ conflict: {dev['conflict']}", style="bold yellow")
    if users:
        label.append("  used by " + ", ".join(f"{u['guest']}/{u['target']}" for u in users), style="green")
    else:
        elig = dev.get("eligibility")
        if elig is not None and elig["ready"]:
            label.append("  ✓ ready for pass-through, unused", style="magenta")
        elif elig is not None:
            label.append("  not ready for VFIO", style="dim")
    return label


class HostDevicesScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,H,q", "app.pop_screen", "Back", id="back"),
        Binding("u", "toggle_free", "Free for pass-through only", id="free"),
        Binding("j", "tree_down", "Down", show=False),
        Binding("k", "tree_up", "Up", show=False),
    ]

    def __init__(self, fleet: Fleet) -> None:
        super().__init__()
        self.fleet = fleet
        self.groups: dict[str, list[Entry]] = {}
        self.free_only = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            tree: Tree[Entry | None] = Tree("host devices", id="hostdev-tree")
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
            if entry.connected:
                self._read(uri)

    def reload(self, uri: str) -> None:
        """The host's devices changed while the view is open: read them again."""
        if self.fleet.hosts[uri].connected:
            self._read(uri)

    @work(thread=True)
    def _read(self, uri: str) -> None:
        session = self.app.sessions.get(uri)  # type: ignore[attr-defined]
        snapshot = self.fleet.snapshot(uri)
        inv = session.fresh_inventory(snapshot.guests) if session is not None else None
        if inv is None:
            groups: list[Entry] = []
        else:
            users = users_of([snapshot], inv)
            groups = inventory_json(inv, users, conflicts(users))
        self.app.call_from_thread(self._loaded, uri, groups)

    def _loaded(self, uri: str, groups: list[Entry]) -> None:
        self.groups[uri] = groups
        self._rebuild_tree()
        total = sum(len(g["devices"]) for gs in self.groups.values() for g in gs)
        self.query_one("#status", Static).update(f"{total} host devices and objects on {len(self.groups)} host(s)")

    def _rebuild_tree(self) -> None:
        tree: Tree[Entry | None] = self.query_one(Tree)
        tree.clear()
        for uri, groups in self.groups.items():
            entry = self.fleet.hosts[uri]
            hnode = tree.root.add(Text(entry.host.hostname or uri, style="bold"), None, expand=True)
            for group in groups:
                devices = group["devices"]
                if self.free_only:
                    devices = [d for d in devices if not d.get("users") and (d.get("eligibility") or {}).get("ready")]
                if not devices:
                    continue
                gnode = hnode.add(Text(f"{group['name']} ({len(devices)})", style="bold cyan"), None, expand=True)
                for dev in devices:
                    gnode.add_leaf(device_line(dev), dev)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Entry | None]) -> None:
        dev = event.node.data
        self.query_one(DetailsPane).show(hostdev_details(dev) if dev is not None else Text(""))

    def action_toggle_free(self) -> None:
        self.free_only = not self.free_only
        self._rebuild_tree()

    def action_tree_down(self) -> None:
        self.query_one(Tree).action_cursor_down()

    def action_tree_up(self) -> None:
        self.query_one(Tree).action_cursor_up()
