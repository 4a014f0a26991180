"""The main screen: the live tree on the left, details of the selected node on the right."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import getters, on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, Tree

from ztui.backend.devices import DetachPlan, Outcome, boot_warning, pretty_xml, unplug_refusal, virsh_detach
from ztui.fleet import Change, Fleet
from ztui.model import Guest
from ztui.report.hostdevs import DeviceEntry, matching_entries
from ztui.ui.bindings import MAIN_BINDINGS
from ztui.ui.noderef import NodeRef
from ztui.ui.screens.confirm import ConfirmScreen
from ztui.ui.screens.help import HelpScreen
from ztui.ui.screens.xml import XmlScreen
from ztui.ui.shell import ZtuiShell
from ztui.ui.widgets.details import (
    DetailsPane,
    device_details,
    guest_details,
    host_details,
    hostdev_details,
)
from ztui.ui.widgets.guest_tree import GuestTree, find_device
from ztui.ui.widgets.iostats import IoStatsView
from ztui.ui.widgets.ordered_input import OrderedInput

REMOVAL_PENDING = "removal pending"  # a detach under way, its proof awaited
REMOVAL_NOT_PROVEN = "removal not proven"  # it ended without proof: until the device goes or `r`

if TYPE_CHECKING:
    from ztui.backend.attach import AttachContext


class MainScreen(Screen[None]):
    """Hosts → guests → devices → backing, with a filter and a details pane.

    The keys are `ztui.ui.bindings.MAIN_BINDINGS`: each binding's `tooltip` is its line in the help screen and
    in the README's key table (`ztui.ui.keys`). The dialogs that need the migration or device-preparation
    code are imported when first opened (start-up: their figures are in docs/ARCHITECTURE.md §3)."""

    app = getters.app(ZtuiShell)

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

    @property
    def guest_tree(self) -> GuestTree:
        return self.query_one(GuestTree)

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

    def status(self, text: Text | str) -> None:
        # one line of fixed height: a new text needs a repaint of that line, not a layout of the screen;
        # none while the app closes (a status timer may still fire then)
        for line in self.query("#status").results(Static):
            line.update(text, layout=False)

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
        device = find_device(guest, ref.key)
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

    def action_show_xml(self) -> None:
        node = self.guest_tree.cursor_node
        ref = node.data if node is not None else None
        if ref is None or ref.kind in ("host", "hostdev", "note"):
            self.notify("Select a guest or a device to see its XML.", severity="warning")
            return
        guest = self.fleet.guest(ref.uri, ref.uuid)
        if guest is None:
            return
        if ref.kind == "guest":
            self.app.hotplug.show_domain_xml(ref.uri, guest.name)
            return
        device = find_device(guest, ref.key)
        if device is not None:
            self.app.push_screen(XmlScreen(f"{guest.name}: {device.display_name}", device.xml.strip()))

    # --- hotplug --------------------------------------------------------------------------------------

    def selected(self) -> tuple[NodeRef, Guest] | None:
        """The selected guest (a device's guest when a device or a backing step is selected)."""
        node = self.guest_tree.cursor_node
        ref = node.data if node is not None else None
        if ref is None or ref.kind == "host":
            return None
        guest = self.fleet.guest(ref.uri, ref.uuid)
        return (ref, guest) if guest is not None else None

    def writable(self, uri: str) -> bool:
        """Whether a change may be made on this host now; says why not when it may not."""
        if self.app.host_readonly(uri):
            why = "ztui was started with --readonly" if self.app.readonly else "the host is saved read-only"
            self.notify(f"read-only: {why}", severity="warning")
            return False
        if not self.fleet.hosts[uri].connected:
            self.notify("the host is disconnected", severity="error")
            return False
        return True

    def action_attach(self) -> None:
        selected = self.selected()
        if selected is None:
            self.notify("Select a guest to attach a device to.", severity="warning")
            return
        ref, guest = selected
        if self.writable(ref.uri):
            self.app.hotplug.read_for_attach(ref.uri, guest.name)

    def open_attach(self, context: AttachContext) -> None:
        """The guest's facts are read: show the attach dialog; its answer goes to the app's attach worker."""
        from ztui.ui.screens.attach import AttachChoice, AttachScreen

        name = context.facts.guest.name

        def done(choice: AttachChoice | None) -> None:
            if choice is not None:
                self.status(f"attaching to {name}…")
                self.app.hotplug.attach(context.uri, choice.request, choice.plan)

        self.app.push_screen(AttachScreen(context), done)

    def action_detach(self) -> None:
        selected = self.selected()
        if selected is None or selected[0].kind not in ("device", "step"):
            self.notify("Select a device to detach.", severity="warning")
            return
        ref, guest = selected
        if not self.writable(ref.uri):
            return
        device = find_device(guest, ref.key)
        if device is None:
            return
        live = guest.state is not None and guest.state.is_active
        refused = unplug_refusal(guest, device, live=live)
        if refused:  # offered only what can succeed: say why instead of asking
            self.notify(refused, severity="warning", timeout=10)
            return
        plan = DetachPlan(guest.name, device, live=live, config=not live)
        where = "the running guest" if live else "the persistent config"
        host = self.app.host_name(ref.uri)
        question = f"Detach {plan.name} from {guest.name} on {host} ({where})?"
        boot, _certain = boot_warning(guest, device) if live else ("", False)
        if boot:
            question += f"\n\n{boot}"

        def answered(yes: bool | None) -> None:
            if yes:
                self.guest_tree.removals[(ref.uri, ref.uuid, ref.key)] = REMOVAL_PENDING
                self.guest_tree.relabel_device(ref.uri, ref.uuid)
                self.app.hotplug.detach(ref, plan, self.app.detach_timeout)

        self.app.push_screen(ConfirmScreen(question, virsh_detach(ref.uri, guest.name, live, not live),
                                           pretty_xml(device.xml), host=host), answered)

    def detach_done(self, ref: NodeRef, message: str, outcome: Outcome) -> None:
        """The detach ended. Removed, or refused (by libvirt or before it was asked: the device never left):
        its `⏳` goes. Not proven (the guest did not release it in time, the host went away): `⏳ removal not
        proven` until the device goes or `r` reads the host again."""
        key = (ref.uri, ref.uuid, ref.key)
        if outcome in (Outcome.REMOVED, Outcome.REFUSED):
            self.guest_tree.removals.pop(key, None)
        else:
            self.guest_tree.removals[key] = REMOVAL_NOT_PROVEN
        self.guest_tree.relabel_device(ref.uri, ref.uuid)
        self.notify(message, severity="information" if outcome is Outcome.REMOVED else "error", timeout=8)

    def hotplug_failed(self) -> None:
        """A hotplug worker failed unexpectedly: no removal stays pending on its word, the status clears."""
        pending = [k for k, v in self.guest_tree.removals.items() if v == REMOVAL_PENDING]
        for uri, uuid, key in pending:
            self.guest_tree.removals[(uri, uuid, key)] = REMOVAL_NOT_PROVEN
            self.guest_tree.relabel_device(uri, uuid)
        self.status("")

    def action_migrate(self) -> None:
        from ztui.ui.screens.migrate import MigrateScreen

        selected = self.selected()
        if selected is None:
            self.notify("Select a guest to migrate.", severity="warning")
            return
        ref, guest = selected
        if not self.writable(ref.uri):
            return
        job = self.app.migrations.job(ref.uri, guest.name)
        # every other host, connected or not: an unreachable one is a clear preflight finding, not a gap
        others = [u for u in self.fleet.hosts if u != ref.uri]
        self.app.push_screen(MigrateScreen(job, others))

    def _guest_to_change(self) -> tuple[str, Guest] | None:
        """The selected guest (a device's guest when a device is selected), on a host that accepts changes."""
        selected = self.selected()
        if selected is None:
            self.notify("Select a guest.", severity="warning")
            return None
        ref, guest = selected
        if not self.writable(ref.uri):
            return None
        return ref.uri, guest

    def action_lifecycle(self, name: str) -> None:
        """Plan the action for the selected guest; confirm it when it loses state (`ztui.ui.screens.lifecycle`)."""
        from ztui.ui.screens.lifecycle import request_lifecycle

        target = self._guest_to_change()
        if target is not None:
            request_lifecycle(self.app, *target, name)

    def action_console(self) -> None:
        from ztui.ui.screens.lifecycle import open_console

        target = self._guest_to_change()
        if target is not None:
            open_console(self.app, *target)

    def action_where(self) -> None:
        """`w`: every other host's answer for the selected guest (`ztui.ui.screens.placement`)."""
        from ztui.ui.screens.placement import WhereScreen

        selected = self.selected()
        if selected is None:
            self.notify("Select a guest.", severity="warning")
            return
        ref, guest = selected
        if not self.fleet.hosts[ref.uri].connected:
            self.notify("the host is disconnected", severity="error")
            return
        self.app.push_screen(WhereScreen(ref.uri, guest.name))

    def action_evacuate(self) -> None:
        """`E`: the plan for every running guest of the selected host, then its run."""
        from ztui.ui.screens.placement import EvacuateScreen

        node = self.guest_tree.cursor_node
        ref = node.data if node is not None else None
        if ref is None or ref.kind != "host":
            self.notify("Select a host to evacuate.", severity="warning")
            return
        if not self.fleet.hosts[ref.uri].connected:
            self.notify("the host is disconnected", severity="error")
            return
        self.app.push_screen(EvacuateScreen(ref.uri))

    def action_host_devices(self) -> None:
        """`H`: the host devices view, narrowed to the filter when one is set, on the host device under the
        cursor when there is one."""
        from ztui.ui.screens.hostdevs import HostDevicesScreen

        node = self.guest_tree.cursor_node
        ref = node.data if node is not None else None
        select = (ref.uri, ref.key) if ref is not None and ref.kind == "hostdev" else None
        self.app.push_screen(HostDevicesScreen(self.fleet, query=self.guest_tree.query_text.strip(), select=select))

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
