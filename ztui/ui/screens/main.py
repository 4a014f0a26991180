"""The main screen: the live tree on the left, details of the selected node on the right."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, Tree

from ztui.fleet import Change, Fleet
from ztui.model import Guest
from ztui.ui.screens.lifecycle import LIFECYCLE_BINDINGS
from ztui.ui.widgets.details import DetailsPane, device_details, guest_details, host_details
from ztui.ui.widgets.guest_tree import GuestTree, NodeRef, device_key


class MainScreen(Screen[None]):
    """Hosts → guests → devices → backing, with a filter and a details pane."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="clear_filter"),
        Binding("x", "show_xml", "XML", id="xml"),
        Binding("a", "attach", "Attach", id="attach"),
        Binding("d", "detach", "Detach", id="detach"),
        Binding("m", "migrate", "Migrate", id="migrate"),
        Binding("H", "host_devices", "Host devs", id="host_devices"),
        Binding("r", "resync", "Resync", id="resync"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
    ]
    BINDINGS += LIFECYCLE_BINDINGS  # a guest's daily actions: s S R D P c (ztui.ui.screens.lifecycle)

    def __init__(self, fleet: Fleet) -> None:
        super().__init__()
        self.fleet = fleet

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            yield GuestTree(id="tree")
            yield DetailsPane(id="details")
        yield Input(placeholder="filter: guest, target, bus-ID, host device or path (esc clears)", id="filter")
        yield Static("", id="status")
        yield Footer(compact=True, show_command_palette=False)  # ctrl+p still works; 80 columns are few

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
        if not self.query(GuestTree):  # the app is closing and took the tree down: nothing left to show
            return
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
        # one line of fixed height: a new text needs a repaint of that line, not a layout of the screen;
        # none while the app closes (a status timer may still fire then)
        for line in self.query("#status").results(Static):
            line.update(text, layout=False)

    def _refresh_details(self, change: Change) -> None:
        ref = self.guest_tree.cursor_node.data if self.guest_tree.cursor_node is not None else None
        # a host's details count its guests and the active ones: any change to one of them counts
        if ref is not None and ref.uri == change.uri and (
                ref.kind == "host" or change.what in ("host", "state") or ref.uuid == change.uuid):
            self.show_details(ref)

    # --- details --------------------------------------------------------------------------------------

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[NodeRef]) -> None:
        if event.node.data is not None:
            self.show_details(event.node.data)

    def show_details(self, ref: NodeRef) -> None:
        from ztui.ui.widgets.iostats import IoStatsView

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
        guest = entry.guests.get(ref.uuid)
        if guest is None:
            iostats.stop()
            pane.show(Text("This guest no longer exists.", style="dim"))
            return
        if ref.kind == "guest":
            iostats.follow(ref.uri, guest)
            pane.show(guest_details(ref.uri, guest))
            return
        for i, device in enumerate(guest.devices):
            if device_key(device, i) == ref.key:
                iostats.follow(ref.uri, guest, device)
                pane.show(device_details(ref.uri, guest, device, ref.step))
                return
        iostats.stop()
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
                self.app.push_screen(XmlScreen(f"{guest.name}: {device.display_name}",
                                               device.xml.strip()))
                return

    # --- hotplug --------------------------------------------------------------------------------------

    def _selected(self) -> tuple[NodeRef, Guest] | None:
        node = self.guest_tree.cursor_node
        ref = node.data if node is not None else None
        if ref is None or ref.kind == "host":
            return None
        guest = self.fleet.guest(ref.uri, ref.uuid)
        return (ref, guest) if guest is not None else None

    def _writable(self, uri: str) -> bool:
        if self.app.readonly:  # type: ignore[attr-defined]
            self.notify("read-only: ztui was started with --readonly", severity="warning")
            return False
        if not self.fleet.hosts[uri].connected:
            self.notify("the host is disconnected", severity="error")
            return False
        return True

    def action_attach(self) -> None:
        selected = self._selected()
        if selected is None:
            self.notify("Select a guest to attach a device to.", severity="warning")
            return
        ref, guest = selected
        if self._writable(ref.uri):
            self._prepare_attach(ref.uri, guest.name)

    @work(thread=True, group="hotplug")
    def _prepare_attach(self, uri: str, name: str) -> None:
        """Read the guest's facts (live and persistent XML, its neighbours) off the UI thread."""
        from ztui.ops.candidates import attach_candidates
        from ztui.ops.hotplug import HostProbe, read_facts

        session = self.app.sessions[uri]  # type: ignore[attr-defined]
        conn = session.connection
        try:
            facts = read_facts(conn, conn.lookupByName(name))
            probe = HostProbe.for_connection(conn)
        except Exception as exc:  # the guest vanished or the host went away: say so, change nothing
            self.app.call_from_thread(self.notify, f"cannot attach to {name}: {exc}", severity="error")
            return
        candidates = attach_candidates(getattr(session, "_inventory", None), self.fleet.snapshot(uri))
        self.app.call_from_thread(self._open_attach, uri, name, facts, candidates, probe)

    def _open_attach(self, uri: str, name: str, facts: object, candidates: object, probe: object) -> None:
        from ztui.ui.screens.attach import AttachChoice, AttachScreen

        def done(choice: AttachChoice | None) -> None:
            if choice is not None:
                self.status(f"attaching to {name}…")
                self._run_attach(uri, choice)

        self.app.push_screen(AttachScreen(uri, facts, candidates, probe), done)  # type: ignore[arg-type]

    @work(thread=True, group="hotplug")
    def _run_attach(self, uri: str, choice: object) -> None:
        from ztui.errors import ZtuiError
        from ztui.ops.action import attach_recorded

        plan = choice.plan  # type: ignore[attr-defined]
        conn = self.app.sessions[uri].connection  # type: ignore[attr-defined]
        try:
            done = attach_recorded(uri, conn, conn.lookupByName(plan.guest), plan,
                                   request=choice.request, via="tui")  # type: ignore[attr-defined]
        except ZtuiError as exc:  # busy, or no journal: refused before any change
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        except Exception as exc:  # the host went away mid-way: nothing is claimed
            self.app.call_from_thread(self.notify, f"{plan.guest}: attach not proven: {exc}", severity="error")
            return
        change = done.change
        severity = "information" if change.ok else "error"
        self.app.call_from_thread(self.notify, f"{plan.guest}: {change.message}", severity=severity, timeout=8)
        self.app.call_from_thread(self.status, "")

    def action_detach(self) -> None:
        from ztui.libvirtxml.common import pretty_xml
        from ztui.ops.hotplug import DetachPlan, virsh_detach
        from ztui.ui.screens.confirm import ConfirmScreen

        selected = self._selected()
        if selected is None or selected[0].kind not in ("device", "step"):
            self.notify("Select a device to detach.", severity="warning")
            return
        ref, guest = selected
        if not self._writable(ref.uri):
            return
        device = next((d for i, d in enumerate(guest.devices) if device_key(d, i) == ref.key), None)
        if device is None:
            return
        live = guest.state is not None and guest.state.is_active
        plan = DetachPlan(guest.name, device, live=live, config=not live)
        where = "the running guest" if live else "the persistent config"
        question = f"Detach {plan.name} from {guest.name} ({where})?"

        def answered(yes: bool | None) -> None:
            if yes:
                self.guest_tree.removals[(ref.uri, ref.uuid, ref.key)] = "removal pending"
                self.guest_tree.relabel_device(ref.uri, ref.uuid)
                self._run_detach(ref, plan)

        self.app.push_screen(ConfirmScreen(question, virsh_detach(ref.uri, guest.name, live, not live),
                                           pretty_xml(device.xml)), answered)

    @work(thread=True, group="hotplug")
    def _run_detach(self, ref: NodeRef, plan: object) -> None:
        from ztui.errors import ZtuiError
        from ztui.ops.action import detach_recorded
        from ztui.ops.hotplug import DetachPlan
        from ztui.ops.proof import DEFAULT_DETACH_TIMEOUT

        assert isinstance(plan, DetachPlan)
        conn = self.app.sessions[ref.uri].connection  # type: ignore[attr-defined]
        timeout = getattr(self.app, "detach_timeout", DEFAULT_DETACH_TIMEOUT)
        try:
            done = detach_recorded(ref.uri, conn, conn.lookupByName(plan.guest), plan, timeout=timeout, via="tui")
        except ZtuiError as exc:  # busy, or no journal: refused before any change
            self.app.call_from_thread(self._detach_done, ref, str(exc), False)
            return
        except Exception as exc:  # the host went away mid-way: the tree will show it; nothing is claimed
            self.app.call_from_thread(self._detach_done, ref, f"{plan.guest}: detach not proven: {exc}", False)
            return
        change = done.change
        message = f"{plan.guest}: {change.message}" + "".join(f"\n{n}" for n in change.notes)
        self.app.call_from_thread(self._detach_done, ref, message, change.ok)

    def _detach_done(self, ref: NodeRef, message: str, ok: bool) -> None:
        if ok:
            self.guest_tree.removals.pop((ref.uri, ref.uuid, ref.key), None)
        else:
            self.guest_tree.removals[(ref.uri, ref.uuid, ref.key)] = "removal failed"
        self.guest_tree.relabel_device(ref.uri, ref.uuid)
        self.notify(message, severity="information" if ok else "error", timeout=8)

    def action_migrate(self) -> None:
        from ztui.ui.screens.migrate import MigrateScreen

        selected = self._selected()
        if selected is None:
            self.notify("Select a guest to migrate.", severity="warning")
            return
        ref, guest = selected
        if not self._writable(ref.uri):
            return
        job = self.app.migration_job(ref.uri, guest.name)  # type: ignore[attr-defined]
        # every other host, connected or not: an unreachable one is a clear preflight finding, not a gap
        others = [u for u in self.fleet.hosts if u != ref.uri]
        self.app.push_screen(MigrateScreen(job, others))

    def action_lifecycle(self, name: str) -> None:
        from ztui.ui.screens.lifecycle import request_lifecycle

        request_lifecycle(self, name)

    def action_console(self) -> None:
        from ztui.ui.screens.lifecycle import open_console

        open_console(self)

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

