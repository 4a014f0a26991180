"""The main screen: the live tree on the left, details of the selected node on the right."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer, Input, Static, Tree

from ztui.fleet import Change, Fleet
from ztui.report.hostdevs import DeviceEntry, matching_entries
from ztui.ui.bindings import MAIN_BINDINGS
from ztui.ui.noderef import NodeRef
from ztui.ui.screens.guest_actions import REMOVAL_PENDING, GuestActions
from ztui.ui.screens.help import HelpScreen
from ztui.ui.widgets.details import (
    DetailsPane,
    device_details,
    guest_details,
    host_details,
    hostdev_details,
)
from ztui.ui.widgets.device_identity import device_by_key
from ztui.ui.widgets.guest_tree import GuestTree
from ztui.ui.widgets.iostats import IoStatsView
from ztui.ui.widgets.ordered_input import OrderedInput


class MainScreen(GuestActions):
    """Hosts → guests → devices → backing, with a filter and a details pane.

    The keys are `ztui.ui.bindings.MAIN_BINDINGS`: each binding's `tooltip` is its line in the help screen and
    in the README's key table (`ztui.ui.keys`). The dialogs that need the migration or device-preparation
    code are imported when first opened (`GuestActions`)."""

    BINDINGS = MAIN_BINDINGS

    def __init__(self, fleet: Fleet) -> None:
        super().__init__()
        self.fleet = fleet
        self._details_ref: NodeRef | None = None
        self._before_filter: tuple[NodeRef | None, set[tuple[str, str]]] | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            yield GuestTree(id="tree")
            yield DetailsPane(id="details")
        yield OrderedInput(placeholder="filter: guest, target, bus-ID, host device or path (esc clears)", id="filter")
        yield Static("", id="status")
        yield Footer(compact=True, show_command_palette=False)  # ctrl+p still works; 80 columns are few

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.guest_tree.border_title = "hosts · guests · devices" + (" · READ-ONLY" if self.app.readonly else "")
        if self.app.readonly:
            self.status(Text("read-only: ztui was started with --readonly; attach, detach and migrate are refused",
                             style="yellow"))
        self.query_one(DetailsPane).border_title = "details"
        self.guest_tree.host_devices = self._host_devices_matching
        for entry in self.fleet.hosts.values():
            self.guest_tree.show_host(entry)
        self.guest_tree.focus()

    def _host_devices_matching(self, uri: str, query: str) -> list[DeviceEntry]:
        """The host's devices that match a filter no guest matches (from the session's last scan)."""
        inventory = self.app.backend.inventory(uri)
        return matching_entries(self.fleet.snapshot(uri), inventory, query) if inventory is not None else []

    # --- applying changes -----------------------------------------------------------------------------

    def apply(self, change: Change) -> None:
        if not self.query(GuestTree):  # the app is closing and took the tree down: nothing left to show
            return
        tree = self.guest_tree
        before = tree.cursor_node.data if tree.cursor_node is not None else None
        self._patch(change)
        tree.cursor_follows_line()
        # the cursor stays on its node when that node is still shown (lines above it may have come or gone)
        after = tree.cursor_node.data if tree.cursor_node is not None else None
        if before is not None and after != before and before.uri == change.uri and tree.find(before) is not None:
            tree.select_ref(before)
        self._refresh_details(change)

    def _patch(self, change: Change) -> None:
        entry = self.fleet.hosts[change.uri]
        if change.what == "host":
            self.guest_tree.show_host(entry)
        elif change.what == "state":
            self.guest_tree.show_host_state(entry)
        elif change.what == "guest":
            guest = entry.guests.get(change.uuid)
            if guest is not None:
                self.guest_tree.update_guest(change.uri, guest)
        elif change.what == "gone":
            self.guest_tree.remove_guest(change.uri, change.uuid)

    def _refresh_details(self, change: Change) -> None:
        ref = self.guest_tree.cursor_node.data if self.guest_tree.cursor_node is not None else None
        if ref is None:
            return
        # the pane follows a cursor that moved (the node it was on went away) at once; a host's details
        # count its guests and the active ones, so any change to one of them counts
        moved = ref != self._details_ref
        if moved or (ref.uri == change.uri and (
                ref.kind == "host" or change.what in ("host", "state") or ref.uuid == change.uuid)):
            self.show_details(ref)

    def follow_cursor(self) -> None:
        """The details pane shows the node under the cursor, after a change that moved it without a key (a
        filter; Textual says nothing when the cursor's line number stays and the node on it changed)."""
        tree = self.guest_tree
        tree.cursor_follows_line()
        ref = tree.cursor_node.data if tree.cursor_node is not None else None
        if ref is not None and ref != self._details_ref:
            self.show_details(ref)

    # --- details --------------------------------------------------------------------------------------

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[NodeRef]) -> None:
        # only the node the cursor is on now: a filter typed fast moves the cursor several times before
        # these messages arrive, and an older one would put a line that is gone back into the pane
        if event.node.data is not None and event.node is self.guest_tree.cursor_node:
            self.show_details(event.node.data)

    def show_details(self, ref: NodeRef) -> None:
        self._details_ref = ref
        pane = self.query_one(DetailsPane)
        iostats = pane.query_one(IoStatsView)
        entry = self.fleet.hosts.get(ref.uri)
        if entry is None:
            iostats.stop()
            return
        if ref.kind == "host":
            iostats.stop()
            pane.show(host_details(entry))
            return
        if ref.kind in ("hostdev", "note"):
            iostats.stop()
            dev = self.guest_tree.hostdev_entries.get((ref.uri, ref.key))
            pane.show(hostdev_details(dev) if dev is not None else Text(
                f"Nothing on {self.app.host_name(ref.uri)} matches the filter. esc clears it.", style="dim"))
            return
        guest = entry.guests.get(ref.uuid)
        if guest is None:
            iostats.stop()
            pane.show(Text("This guest no longer exists.", style="dim"))
            return
        if ref.kind == "guest":
            iostats.follow(ref.uri, guest)
            pane.show(guest_details(ref.uri, guest))
            return
        device = device_by_key(guest, ref.key)
        if device is None:
            iostats.stop()
            pane.show(Text("This device is no longer attached.", style="dim"))
        else:
            iostats.follow(ref.uri, guest, device)
            pane.show(device_details(ref.uri, guest, device, ref.step))

    # --- actions --------------------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if self._before_filter is None:  # remember the tree as it was, to go back to it on esc
            tree = self.guest_tree
            self._before_filter = (tree.cursor_node.data if tree.cursor_node is not None else None,
                                   tree.expanded_guests())
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        tree = self.guest_tree
        cursor = tree.cursor_node.data if tree.cursor_node is not None else None
        before, self._before_filter = self._before_filter, None
        # back to the tree as it was before `/`: the guests expanded then, not every match left open
        tree.set_query("", expanded=before[1] if before is not None else None)
        target = cursor or (before[0] if before is not None else None)  # what the filter found stays selected
        if target is not None and target.kind in ("hostdev", "note"):  # gone with the filter: back to before
            target = before[0] if before is not None else None
        if target is not None and tree.select_ref(target) and tree.cursor_node is not None:
            tree.scroll_to_node(tree.cursor_node, animate=False)
        self.follow_cursor()
        tree.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.guest_tree.set_query(event.value)
        self.follow_cursor()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.action_clear_filter()
        else:
            self.guest_tree.focus()

    def action_resync(self) -> None:
        """Read every host again; a removal that ended unproven loses its `⏳`: the fresh read shows whether
        the device is still there (one whose detach is still under way keeps it)."""
        ended = [k for k, v in self.guest_tree.removals.items() if v != REMOVAL_PENDING]
        for uri, uuid, key in ended:
            del self.guest_tree.removals[(uri, uuid, key)]
        for uri, uuid in {(uri, uuid) for uri, uuid, _ in ended}:
            self.guest_tree.relabel_device(uri, uuid)
        self.app.resync()
        self.status("resync requested")

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        self.app.exit()
