"""The host devices view (`H`): each host's devices grouped like `ztui hostdevs`, with their users.

Node devices are read when the view opens (one worker per host), never at start-up: most sessions never
need them, and a big host has hundreds.
"""

from __future__ import annotations

from collections import defaultdict

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Static, Tree

from ztui.fleet import Fleet
from ztui.hostgroups import GROUP_ORDER, group_of, users_by_device
from ztui.model import HostDevice
from ztui.ui.widgets.details import DetailsPane


class HostDevicesScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,H,q", "app.pop_screen", "Back", id="back"),
        Binding("j", "tree_down", "Down", show=False),
        Binding("k", "tree_up", "Up", show=False),
        Binding("u", "toggle_unused", "Unused only", id="unused"),
    ]

    def __init__(self, fleet: Fleet) -> None:
        super().__init__()
        self.fleet = fleet
        self.devices: dict[str, tuple[HostDevice, ...]] = {}
        self.unused_only = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            tree: Tree[HostDevice | None] = Tree("host devices", id="hostdev-tree")
            tree.show_root = False
            yield tree
            yield DetailsPane(id="details")
        yield Static("reading node devices…", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Tree).focus()
        for uri, entry in self.fleet.hosts.items():
            if entry.connected:
                self._read(uri)

    @work(thread=True, exclusive=False)
    def _read(self, uri: str) -> None:
        devices = self.app.read_node_devices(uri)  # type: ignore[attr-defined]
        self.app.call_from_thread(self._loaded, uri, devices)

    def _loaded(self, uri: str, devices: tuple[HostDevice, ...]) -> None:
        self.devices[uri] = devices
        self._rebuild_tree()
        total = sum(len(d) for d in self.devices.values())
        self.query_one("#status", Static).update(f"{total} host devices on {len(self.devices)} host(s)")

    def _rebuild_tree(self) -> None:
        tree: Tree[HostDevice | None] = self.query_one(Tree)
        tree.clear()
        for uri, devices in self.devices.items():
            entry = self.fleet.hosts[uri]
            users = users_by_device(devices, list(entry.guests.values()))
            hnode = tree.root.add(Text(entry.host.hostname or uri, style="bold"), None, expand=True)
            groups: dict[str, list[HostDevice]] = defaultdict(list)
            for dev in devices:
                groups[group_of(dev)].append(dev)
            for group in GROUP_ORDER:
                members = groups.get(group, [])
                if self.unused_only:
                    members = [d for d in members if not users.get(d.id)]
                if not members:
                    continue
                gnode = hnode.add(Text(f"{group} ({len(members)})", style="bold cyan"), None,
                                  expand=group != "other")
                for dev in sorted(members, key=lambda d: d.id):
                    label = Text(dev.id, style="bold")
                    label.append(f"  {dev.kind.value}", style="cyan")
                    if dev.driver:
                        label.append(f"  driver {dev.driver}", style="dim")
                    used = users.get(dev.id, [])
                    if used:
                        label.append("  used by " + ", ".join(used), style="green")
                    elif dev.driver in ("vfio_ccw", "vfio-pci", "vfio_ap") or dev.mdev_types:
                        label.append("  ready for pass-through, unused", style="magenta")
                    gnode.add_leaf(label, dev)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[HostDevice | None]) -> None:
        dev = event.node.data
        pane = self.query_one(DetailsPane)
        if dev is None:
            pane.show(Text(""))
            return
        from ztui.ui.widgets.details import hostdev_details

        pane.show(hostdev_details(dev))

    def action_toggle_unused(self) -> None:
        self.unused_only = not self.unused_only
        self._rebuild_tree()

    def action_tree_down(self) -> None:
        self.query_one(Tree).action_cursor_down()

    def action_tree_up(self) -> None:
        self.query_one(Tree).action_cursor_up()
