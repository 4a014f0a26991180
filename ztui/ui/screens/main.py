"""The main screen: the live tree on the left, details of the selected node on the right."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, Tree

from ztui.fleet import Change, Fleet
from ztui.ui.widgets.details import DetailsPane, device_details, guest_details, host_details
from ztui.ui.widgets.guest_tree import GuestTree, NodeRef, device_key


class MainScreen(Screen[None]):
    """Hosts → guests → devices → backing, with a filter and a details pane."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="clear_filter"),
        Binding("x", "show_xml", "XML", id="xml"),
        Binding("H", "host_devices", "Host devices", id="host_devices"),
        Binding("r", "resync", "Resync", id="resync"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(self, fleet: Fleet) -> None:
        super().__init__()
        self.fleet = fleet

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            yield GuestTree(id="tree")
            yield DetailsPane(id="details")
        yield Input(placeholder="filter: guest, target, bus-ID, host device or path (esc clears)", id="filter")
        yield Static("", id="status")
        yield Footer()

    @property
    def guest_tree(self) -> GuestTree:
        return self.query_one(GuestTree)

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.guest_tree.border_title = "hosts · guests · devices"
        self.query_one(DetailsPane).border_title = "details"
        for entry in self.fleet.hosts.values():
            self.guest_tree.show_host(entry)
        self.guest_tree.focus()

    # --- applying changes -----------------------------------------------------------------------------

    def apply(self, change: Change) -> None:
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
        self._refresh_details(change)

    def status(self, text: Text | str) -> None:
        self.query_one("#status", Static).update(text)

    def _refresh_details(self, change: Change) -> None:
        ref = self.guest_tree.cursor_node.data if self.guest_tree.cursor_node is not None else None
        if ref is not None and ref.uri == change.uri and (change.what in ("host", "state") or ref.uuid == change.uuid):
            self.show_details(ref)

    # --- details --------------------------------------------------------------------------------------

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[NodeRef]) -> None:
        if event.node.data is not None:
            self.show_details(event.node.data)

    def show_details(self, ref: NodeRef) -> None:
        pane = self.query_one(DetailsPane)
        entry = self.fleet.hosts.get(ref.uri)
        if entry is None:
            return
        if ref.kind == "host":
            pane.show(host_details(entry))
            return
        guest = entry.guests.get(ref.uuid)
        if guest is None:
            pane.show(Text("This guest no longer exists.", style="dim"))
            return
        if ref.kind == "guest":
            pane.show(guest_details(ref.uri, guest))
            return
        for i, device in enumerate(guest.devices):
            if device_key(device, i) == ref.key:
                pane.show(device_details(ref.uri, guest, device, ref.step))
                return
        pane.show(Text("This device is no longer attached.", style="dim"))

    # --- actions --------------------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.guest_tree.set_query("")
        self.guest_tree.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.guest_tree.set_query(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.action_clear_filter()
        else:
            self.guest_tree.focus()

    def action_show_xml(self) -> None:
        from ztui.ui.screens.xml import XmlScreen

        node = self.guest_tree.cursor_node
        ref = node.data if node is not None else None
        if ref is None or ref.kind == "host":
            self.notify("Select a guest or a device to see its XML.", severity="warning")
            return
        guest = self.fleet.guest(ref.uri, ref.uuid)
        if guest is None:
            return
        if ref.kind == "guest":
            self.app.push_screen(XmlScreen(f"{guest.name}: devices",
                                           "\n".join(d.xml.strip() for d in guest.devices)))
            return
        for i, device in enumerate(guest.devices):
            if device_key(device, i) == ref.key:
                self.app.push_screen(XmlScreen(f"{guest.name}: {device.target or device.alias or device.kind}",
                                               device.xml.strip()))
                return

    def action_host_devices(self) -> None:
        from ztui.ui.screens.hostdevs import HostDevicesScreen

        self.app.push_screen(HostDevicesScreen(self.fleet))

    def action_resync(self) -> None:
        self.app.resync()  # type: ignore[attr-defined]
        self.status("resync requested")

    def action_help(self) -> None:
        from ztui.ui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        self.app.exit()
