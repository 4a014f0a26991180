"""The live tree: host → guest → device → backing steps, patched in place as updates arrive.

The Textual `Tree` re-renders every expanded line on a structural change, while `set_label` does not
(docs/ARCHITECTURE.md §3), so: guests start collapsed and their device nodes are built only when first expanded; a
changed guest is relabelled in place and its device nodes are diffed by identity, never rebuilt; the
cursor, the expanded nodes and the scroll position survive every update.

Its parts: `navigable_tree` (the keys, a cursor that stays with its node), `fleet_labels` (the host and guest
lines), `device_lines` (a guest's device and step lines, diffed), `tree_filter` (what the `/` filter leaves),
`device_identity` (a device's identity across re-reads).
"""

from __future__ import annotations

from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ztui.fleet import HostEntry
from ztui.model import Guest
from ztui.report.filtering import GuestMatch, match_guest
from ztui.report.hostdevs import DeviceEntry
from ztui.ui.noderef import NodeRef
from ztui.ui.widgets.device_lines import DeviceLines
from ztui.ui.widgets.fleet_labels import guest_text, host_text, relabel
from ztui.ui.widgets.navigable_tree import NavigableTree
from ztui.ui.widgets.tree_filter import HostDeviceSearch, add_no_match, first_match, shown_devices


class GuestTree(NavigableTree[NodeRef]):
    """Hosts, their guests, devices and backing chains; see the module docstring for the update rules."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("hosts", id=id)
        self.show_root = False
        self.guide_depth = 3
        self.query_text = ""
        self._hosts: dict[str, TreeNode[NodeRef]] = {}
        self._guests: dict[tuple[str, str], TreeNode[NodeRef]] = {}
        self._devices = DeviceLines()
        self._entries: dict[str, HostEntry] = {}
        self.host_devices: HostDeviceSearch | None = None  # set by the screen: who knows the hosts' devices
        self.hostdev_entries: dict[tuple[str, str], DeviceEntry] = {}  # (uri, key) → a matched host device
        self._by_devices: set[tuple[str, str]] = set()  # guests the filter matched through devices only

    @property
    def removals(self) -> dict[tuple[str, str, str], str]:
        """(uri, uuid, device key) → "removal pending" or why a removal is not proven, as the device's line
        says it; the screens that detach set it, then `relabel_device`."""
        return self._devices.removals

    # --- whole hosts ----------------------------------------------------------------------------------

    def show_host(self, entry: HostEntry, expanded: set[tuple[str, str]] | None = None) -> None:
        """(Re)build one host's subtree, keeping what the user had expanded (or expanding `expanded`:
        (uri, uuid) pairs) and the cursor."""
        cursor = self.cursor_node.data if self.cursor_node is not None else None
        node = self._fill_host(entry, expanded)
        if cursor is not None:
            self.select_ref(cursor)
        elif self.cursor_line < 0:
            self.move_cursor_to(node)

    def _fill_host(self, entry: HostEntry, expanded: set[tuple[str, str]] | None) -> TreeNode[NodeRef]:
        """The host's line and its guests that match the filter; where none does, a line that says so and
        the host's devices that match instead."""
        self._entries[entry.uri] = entry
        node = self._hosts.get(entry.uri)
        if node is None:
            node = self.root.add(host_text(entry), NodeRef("host", entry.uri), expand=True)
            self._hosts[entry.uri] = node
        else:
            self._relabel_host(entry)
        if expanded is None:
            expanded = self.expanded_guests()
        for key in [k for k in self._guests if k[0] == entry.uri]:
            del self._guests[key]
            self._devices.forget(*key)
        for key in [k for k in self.hostdev_entries if k[0] == entry.uri]:
            del self.hostdev_entries[key]
        node.remove_children()
        for guest in entry.guests.values():
            match = match_guest(guest, self.query_text)
            if match is None:
                continue
            gnode = self._add_guest_node(node, entry.uri, guest)
            self._by_devices.discard((entry.uri, guest.uuid))
            if self.query_text and not match.by_guest:
                self._by_devices.add((entry.uri, guest.uuid))
            if (entry.uri, guest.uuid) in expanded or (self.query_text and not match.by_guest):
                # the devices now, not when the expand message arrives: by then a faster query may have
                # replaced this node, and the message would fill the old one
                self._ensure_devices(gnode)
                gnode.expand()
        for uuid in entry.guests:
            self._relabel_twins(entry.uri, uuid)
        if self.query_text.strip() and not node.children and entry.connected:
            found = self.host_devices(entry.uri, self.query_text) if self.host_devices is not None else []
            self.hostdev_entries.update({(entry.uri, dev.key): dev for dev in found})
            add_no_match(node, entry.uri, self.query_text, found)
        return node

    def show_host_state(self, entry: HostEntry) -> None:
        """Connected/disconnected changed: only the host line changes (and the guests defined elsewhere too
        that this host was running: whether it still does is unknown now)."""
        self._entries[entry.uri] = entry
        if entry.uri not in self._hosts:
            self.show_host(entry)
        else:
            self._relabel_host(entry)
            for uuid in entry.guests:
                self._relabel_twins(entry.uri, uuid)

    def set_query(self, query: str, expanded: set[tuple[str, str]] | None = None) -> None:
        """Narrow the tree to what matches (see ztui.report.filtering); an empty query shows everything.
        `expanded` names the guests to show expanded; by default those expanded now stay so. The cursor
        stays on its node while that is shown, else it goes to the first match (never to another host)."""
        cursor = self.cursor_node.data if self.cursor_node is not None else None
        self.query_text = query
        for entry in self._entries.values():
            self._fill_host(entry, expanded)
        searching = bool(query.strip())
        if cursor is not None and not (searching and cursor.kind == "host") and self.select_ref(cursor):
            return
        first = first_match(self.root, self._by_devices) if searching else None
        if first is None and cursor is not None and self.select_ref(cursor):
            return
        if first is not None:
            self.move_cursor_to(first)
        else:
            self.cursor_follows_line()

    def expanded_guests(self) -> set[tuple[str, str]]:
        """The (uri, uuid) of every guest shown expanded."""
        return {k for k, n in self._guests.items() if n.is_expanded}

    # --- single guests --------------------------------------------------------------------------------

    def update_guest(self, uri: str, guest: Guest) -> None:
        """The guest was defined or changed on host `uri`: its line, its device lines where built, and the
        lines that say where it runs."""
        entry = self._entries.get(uri)
        host_node = self._hosts.get(uri)
        if entry is None or host_node is None:
            return
        self._relabel_host(entry)
        match = match_guest(guest, self.query_text)
        node = self._guests.get((uri, guest.uuid))
        if (match is None) is not (node is None) and self.query_text.strip():
            self.show_host(entry)  # a guest came into the filter or left it: the host's lines say so anew
            return
        if match is None:
            if node is not None:
                self._remove_guest_node(uri, guest.uuid)
            return
        if node is None:
            self._insert_guest_node(host_node, entry, guest)
            return
        node.set_label(guest_text(self._entries, uri, guest))
        self._relabel_twins(uri, guest.uuid)
        node.allow_expand = bool(guest.devices)
        if self._devices.is_built(uri, guest.uuid):
            self._devices.sync(node, uri, guest.uuid, shown_devices(guest, match, self.query_text))

    def remove_guest(self, uri: str, uuid: str) -> None:
        """The guest is no longer on host `uri`: its line goes, and the lines that said it runs there change."""
        shown = (uri, uuid) in self._guests
        self._remove_guest_node(uri, uuid)
        entry = self._entries.get(uri)
        if entry is not None:
            self._relabel_host(entry)
            if shown and self.query_text.strip() and not self._hosts[uri].children:
                self.show_host(entry)  # its last match went: say that nothing matches
        self._relabel_twins(uri, uuid)

    def relabel_device(self, uri: str, uuid: str) -> None:
        """Refresh a guest's device lines (e.g. a removal became pending or ended)."""
        entry = self._entries.get(uri)
        if entry is not None and uuid in entry.guests:
            self.update_guest(uri, entry.guests[uuid])

    def expand_guest(self, uri: str, name: str) -> bool:
        """Open the guest of this name with every device's chain and put the cursor on it (the demo
        starts so); False while the host has no such guest (yet)."""
        entry = self._entries.get(uri)
        uuid = next((g.uuid for g in entry.guests.values() if g.name == name), None) if entry else None
        node = self._guests.get((uri, uuid)) if uuid is not None else None
        if node is None:
            return False
        node.expand()
        self._ensure_devices(node)
        for child in node.children:
            if child.allow_expand:
                child.expand()
        self.move_cursor_to(node)
        return True

    # --- where a node is ------------------------------------------------------------------------------

    def find_guest(self, uri: str, uuid: str) -> TreeNode[NodeRef] | None:
        return self._guests.get((uri, uuid))

    def find(self, ref: NodeRef) -> TreeNode[NodeRef] | None:
        """The node showing `ref`; a device or a step of a guest not expanded yet has its lines built."""
        if ref.kind == "host":
            return self._hosts.get(ref.uri)
        if ref.kind in ("hostdev", "note"):
            host = self._hosts.get(ref.uri)
            return next((n for n in host.children if n.data == ref), None) if host is not None else None
        gnode = self._guests.get((ref.uri, ref.uuid))
        if gnode is None or ref.kind == "guest":
            return gnode
        self._ensure_devices(gnode)
        for child in gnode.children:
            if child.data is not None and child.data.key == ref.key:
                if ref.kind == "device":
                    return child
                for step in child.children:
                    if step.data is not None and step.data.step == ref.step:
                        return step
        return None

    # --- internals ------------------------------------------------------------------------------------

    def _relabel_host(self, entry: HostEntry) -> None:
        """A host line's label, set only when its text changed (a guest's state change leaves it as it was)."""
        node = self._hosts.get(entry.uri)
        if node is not None:
            relabel(node, host_text(entry))

    def _relabel_twins(self, uri: str, uuid: str) -> None:
        """The same guest's lines on the other hosts: whether it runs here changes what they say."""
        for other, entry in self._entries.items():
            node = self._guests.get((other, uuid)) if other != uri else None
            twin = entry.guests.get(uuid)
            if node is not None and twin is not None:
                relabel(node, guest_text(self._entries, other, twin))

    def _add_guest_node(self, host_node: TreeNode[NodeRef], uri: str, guest: Guest,
                        before: TreeNode[NodeRef] | None = None) -> TreeNode[NodeRef]:
        node = host_node.add(guest_text(self._entries, uri, guest), NodeRef("guest", uri, guest.uuid),
                             before=before, allow_expand=bool(guest.devices))
        self._guests[(uri, guest.uuid)] = node
        return node

    def _insert_guest_node(self, host_node: TreeNode[NodeRef], entry: HostEntry, guest: Guest) -> None:
        """A new guest goes where its name sorts, without touching the other guest nodes."""
        before = None
        for child in host_node.children:
            other = entry.guests.get(child.data.uuid) if child.data is not None else None
            if other is not None and other.name > guest.name:
                before = child
                break
        self._add_guest_node(host_node, entry.uri, guest, before=before)

    def _remove_guest_node(self, uri: str, uuid: str) -> None:
        node = self._guests.pop((uri, uuid), None)
        self._devices.forget(uri, uuid)
        if node is not None:
            node.remove()

    def _ensure_devices(self, node: TreeNode[NodeRef]) -> None:
        """Build a guest's device lines, once (on first expand, or when something below is asked for)."""
        ref = node.data
        if ref is None or ref.kind != "guest" or self._devices.is_built(ref.uri, ref.uuid):
            return
        if self._guests.get((ref.uri, ref.uuid)) is not node:  # a node replaced since (a newer filter)
            return
        entry = self._entries.get(ref.uri)
        guest = entry.guests.get(ref.uuid) if entry is not None else None
        if guest is None:
            return
        match = match_guest(guest, self.query_text) or GuestMatch(True, frozenset())
        self._devices.build(node, ref.uri, ref.uuid, shown_devices(guest, match, self.query_text))

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeRef]) -> None:
        self._ensure_devices(event.node)
