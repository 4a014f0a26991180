"""What the keys of the main screen do to the selected guest, device or host: its XML, attach, detach,
migrate, the daily actions, where it can go, emptying a host, the host devices view.

`GuestActions` is the main screen's half that launches things: it asks the backend through the app's
workers (`ztui.ui.hotplug`, `ztui.ui.migrations`) or opens the dialog that does. The dialogs that need the
migration or device-preparation code are imported when first opened, not at start-up (their figures are in
docs/ARCHITECTURE.md §3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import getters
from textual.screen import Screen
from textual.widgets import Static

from ztui.backend.devices import DetachPlan, Outcome, boot_warning, pretty_xml, unplug_refusal, virsh_detach
from ztui.fleet import Fleet
from ztui.model import Guest
from ztui.ui.noderef import NodeRef
from ztui.ui.screens.confirm import ConfirmScreen
from ztui.ui.screens.xml import XmlScreen
from ztui.ui.shell import ZtuiShell
from ztui.ui.widgets.device_identity import device_by_key
from ztui.ui.widgets.guest_tree import GuestTree

if TYPE_CHECKING:
    from ztui.backend.attach import AttachContext

REMOVAL_PENDING = "removal pending"  # a detach under way, its proof awaited
REMOVAL_NOT_PROVEN = "removal not proven"  # it ended without proof: until the device goes or `r`


class GuestActions(Screen[None]):
    """A screen with the fleet's tree (`GuestTree`) and a status line (`#status`), and the actions on what
    its cursor is on."""

    app = getters.app(ZtuiShell)

    fleet: Fleet
    """The fleet the tree shows."""

    @property
    def guest_tree(self) -> GuestTree:
        return self.query_one(GuestTree)

    def status(self, text: Text | str) -> None:
        # one line of fixed height: a new text needs a repaint of that line, not a layout of the screen;
        # none while the app closes (a status timer may still fire then)
        for line in self.query("#status").results(Static):
            line.update(text, layout=False)

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
        device = device_by_key(guest, ref.key)
        if device is not None:
            self.app.push_screen(XmlScreen(f"{guest.name}: {device.display_name}", device.xml.strip()))


    def action_attach(self) -> None:
        target = self._guest_to_change("Select a guest to attach a device to.")
        if target is not None:
            self.app.hotplug.read_for_attach(target[0], target[1].name)

    def open_attach(self, context: AttachContext) -> None:
        """The guest's facts are read: show the attach dialog; its answer goes to the app's attach worker."""
        from ztui.ui.screens.attach import AttachChoice, AttachScreen  # noqa: PLC0415 - dialog on first open (~110 ms of start-up)

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
        device = device_by_key(guest, ref.key)
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
        from ztui.ui.screens.migrate import MigrateScreen  # noqa: PLC0415 - dialog on first open (~110 ms of start-up)

        target = self._guest_to_change("Select a guest to migrate.")
        if target is None:
            return
        uri, guest = target
        job = self.app.migrations.job(uri, guest.name)
        # every other host, connected or not: an unreachable one is a clear preflight finding, not a gap
        others = [u for u in self.fleet.hosts if u != uri]
        self.app.push_screen(MigrateScreen(job, others))

    def _guest_to_change(self, ask: str = "Select a guest.") -> tuple[str, Guest] | None:
        """The selected guest (a device's guest when a device is selected), on a host that accepts changes;
        None, and why, when there is none (`ask` says what to select)."""
        selected = self.selected()
        if selected is None:
            self.notify(ask, severity="warning")
            return None
        ref, guest = selected
        if not self.writable(ref.uri):
            return None
        return ref.uri, guest

    def action_lifecycle(self, name: str) -> None:
        """Plan the action for the selected guest; confirm it when it loses state (`ztui.ui.screens.lifecycle`)."""
        from ztui.ui.screens.lifecycle import request_lifecycle  # noqa: PLC0415 - dialog on first open (~110 ms of start-up)

        target = self._guest_to_change()
        if target is not None:
            request_lifecycle(self.app, *target, name)

    def action_console(self) -> None:
        from ztui.ui.screens.lifecycle import open_console  # noqa: PLC0415 - dialog on first open (~110 ms of start-up)

        target = self._guest_to_change()
        if target is not None:
            open_console(self.app, *target)

    def action_where(self) -> None:
        """`w`: every other host's answer for the selected guest (`ztui.ui.screens.placement`)."""
        from ztui.ui.screens.placement import WhereScreen  # noqa: PLC0415 - dialog on first open (~110 ms of start-up)

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
        from ztui.ui.screens.placement import EvacuateScreen  # noqa: PLC0415 - dialog on first open (~110 ms of start-up)

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
        from ztui.ui.screens.hostdevs import HostDevicesScreen  # noqa: PLC0415 - dialog on first open (~110 ms of start-up)

        node = self.guest_tree.cursor_node
        ref = node.data if node is not None else None
        select = (ref.uri, ref.key) if ref is not None and ref.kind == "hostdev" else None
        self.app.push_screen(HostDevicesScreen(self.fleet, query=self.guest_tree.query_text.strip(), select=select))
