"""The details pane: everything known about the selected node, and the virsh commands behind it."""

from __future__ import annotations

import shlex

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual import getters
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from ztui.backend.devices import unplug_refusal
from ztui.fleet import HostEntry
from ztui.model import DeviceKind, Guest, GuestDevice
from ztui.report.hostdevs import DeviceEntry, Entry
from ztui.report.tree_text import device_label, format_memory
from ztui.ui.shell import ZtuiShell
from ztui.ui.widgets.iostats import IoStatsView


def _grid(rows: list[tuple[str, str]]) -> Table:
    shown = [(k, v) for k, v in rows if v]
    table = Table.grid(padding=(0, 1))
    # the key column keeps its width; only the values wrap when the pane is narrow
    table.add_column(style="bold", no_wrap=True, min_width=max((len(k) for k, _ in shown), default=1))
    table.add_column(overflow="fold")  # a URI or path wraps whole rather than losing its end
    for key, value in shown:
        table.add_row(key, Text(value))
    return table


def _heading(text: str) -> Text:
    return Text(text, style="bold underline")


def virsh(uri: str, *args: str) -> str:
    """A virsh command line, quoted for a POSIX shell."""
    return shlex.join(["virsh", "-c", uri, *args])


def host_details(entry: HostEntry) -> RenderableType:
    running = sum(1 for g in entry.guests.values() if g.state is not None and g.state.is_active)
    rows = [
        ("URI", entry.uri),
        ("hostname", entry.host.hostname),
        ("status", "connected" if entry.connected else f"not connected: {entry.error}" if entry.error
                   else "connecting"),
        ("guests", f"{len(entry.guests)} ({running} active)"),
    ]
    return Group(_heading("Host"), _grid(rows), Text(""), _heading("virsh"),
                 Text(virsh(entry.uri, "list", "--all")))


def guest_details(uri: str, guest: Guest) -> RenderableType:
    rows = [
        ("name", guest.name),
        ("UUID", guest.uuid),
        ("state", guest.state.value if guest.state is not None else "unknown"),
        ("arch", guest.arch),
        ("machine", guest.machine),
        ("vCPUs", str(guest.vcpus) if guest.vcpus else ""),
        ("memory", format_memory(guest.memory_kib)),
        ("type", guest.domain_type),
        ("persistent", {True: "yes", False: "no (transient)", None: ""}[guest.persistent]),
        ("devices", str(len(guest.devices))),
    ]
    parts: list[RenderableType] = [_heading("Guest"), _grid(rows)]
    if guest.blockers or guest.secure_execution:
        parts += [Text(""), _heading("Migration blockers")]
        if guest.secure_execution:
            parts.append(Text("⛔ IBM Secure Execution guest: it cannot migrate live", style="red"))
        parts += [Text(f"⛔ {device_label(d)}: {d.blocker_reason}", style="red") for d in guest.blockers]
        if guest.blockers:
            parts.append(Text("All of them hotplug (vfio-ap too, one per guest): a migration detaches them before "
                              "and attaches their equivalent on the destination after.", style="dim"))
    if guest.warnings:
        parts += [Text(""), _heading("Warnings")] + [Text(f"⚠ {w}", style="yellow") for w in guest.warnings]
    parts += [Text(""), _heading("virsh"), Text(virsh(uri, "dominfo", guest.name)),
              Text(virsh(uri, "dumpxml", guest.name))]
    return Group(*parts)


def _device_virsh(uri: str, guest: Guest, device: GuestDevice) -> list[str]:
    """The commands that show the device (and take it off, when libvirt can: `ops.unplug`)."""
    active = guest.state is not None and guest.state.is_active
    live = ["--live"] if active else ["--config"]
    commands = [] if unplug_refusal(guest, device, live=active) else \
        [virsh(uri, "detach-device", guest.name, "--file", "device.xml", *live)]
    if device.kind in (DeviceKind.DISK, DeviceKind.CDROM, DeviceKind.FLOPPY, DeviceKind.LUN):
        commands.insert(0, virsh(uri, "domblklist", guest.name, "--details"))
    elif device.kind.category.value == "network":
        commands.insert(0, virsh(uri, "domiflist", guest.name))
    return commands


def device_details(uri: str, guest: Guest, device: GuestDevice, step: int = -1) -> RenderableType:
    rows = [
        ("kind", device.kind.value),
        ("bus", device.bus),
        ("model", device.model),
        ("target", device.target),
        ("alias", device.alias),
        ("address", f"{device.address_text} ({device.address_type.value})" if device.address else ""),
        ("source", device.source),
        ("pass-through", "yes" if device.passthrough else ""),
        ("migration", f"blocked: {device.blocker_reason}" if device.migration_blocker else ""),
    ]
    rows += list(device.details)
    parts: list[RenderableType] = [_heading(f"Device of {guest.name}"), _grid(rows)]
    if device.warnings:
        parts += [Text("")] + [Text(f"⚠ {w}", style="yellow") for w in device.warnings]
    if device.backing:
        parts += [Text(""), _heading("Backed by")]
        for i, s in enumerate(device.backing):
            line = Text(("▸ " if i == step else "  ") + f"{s.kind} {s.id}", style="bold" if i == step else "")
            if s.name and s.name != s.id:
                line.append(f"  {s.name}", style="dim")
            if s.warning:
                line.append(f"  ⚠ {s.warning}", style="yellow")
            parts.append(line)
            if s.volume is not None:
                parts.append(Text(f"    volume: {s.volume.text}", style="dim"))
            parts += [Text(f"    ≡ also on {sighting.text}", style="cyan") for sighting in s.also_on]
    commands = _device_virsh(uri, guest, device)
    if commands:
        parts += [Text(""), _heading("virsh")] + [Text(c) for c in commands]
    parts += [Text(""), _heading("XML"), Syntax(device.xml.strip(), "xml", theme="ansi_dark", word_wrap=True)]
    return Group(*parts)


DETAILS_LAYOUTS = ("", "-details-wide", "-details-hidden")
"""The details pane's sizes, as classes of the app (styles/ztui.tcss): as laid out, bigger, hidden."""

DETAILS_BINDING = Binding("z", "app.cycle_details", "Details", id="details",
                          tooltip="the details pane bigger, then hidden (the tree gets the whole screen), then back")
"""`z` on every screen with a details pane; one size for all of them (it is the app's)."""


def cycle_details(app: App[int]) -> str:
    """The next of `DETAILS_LAYOUTS`; returns it ('' for the first)."""
    current = next((c for c in DETAILS_LAYOUTS if c and app.has_class(c)), "")
    following = DETAILS_LAYOUTS[(DETAILS_LAYOUTS.index(current) + 1) % len(DETAILS_LAYOUTS)]
    for layout in DETAILS_LAYOUTS:
        if layout:
            app.set_class(layout == following, layout)
    return following


class DetailsPane(VerticalScroll):
    """A scrollable pane showing one renderable; replaced whenever the selection or its data changes."""

    app = getters.app(ZtuiShell)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # made here, not in compose: a host update can ask the pane to show something before it is mounted
        self.body = Static(Text("Select a host, guest or device.", style="dim"), id="details-body")

    def compose(self) -> ComposeResult:
        yield self.body

    def show(self, renderable: RenderableType) -> None:
        self.body.update(renderable)

    def on_mount(self) -> None:
        """The live I/O lines go above the details (`ztui.ui.widgets.iostats`)."""
        self.mount(IoStatsView(self.app.backend.io_sample, id="iostats"), before=0)



def hostdev_details(entry: Entry) -> RenderableType:
    """A host device or host object, with what `ztui hostdevs` says of it."""
    rows = [("id", entry.id), ("kind", entry.kind)]
    if isinstance(entry, DeviceEntry):
        device = entry.device
        rows += [
            ("summary", entry.summary),
            ("name", device.name),
            ("parent", device.parent),
            ("driver", device.driver),
            ("sysfs", device.sysfs_path),
            ("devnodes", " ".join(device.devnodes)),
            ("IOMMU group", "" if device.iommu_group is None else str(device.iommu_group)),
        ]
        rows += [(f.key, f"{f.value}  ({f.source})") for f in device.facts]
    parts: list[RenderableType] = [_heading("Host device"), _grid(rows)]
    parts += [Text(""), _heading("Used by")]
    if isinstance(entry, DeviceEntry):
        parts += [Text(f"the host: {r.text}", style="yellow") for r in entry.host_use]
    if entry.users:
        parts += [Text(f"{u.guest} {u.target} ({'running' if u.running else 'not running'}"
                       f"{', exclusive' if u.exclusive else ''})") for u in entry.users]
    else:
        parts.append(Text("no guest", style="dim"))
    if entry.conflict:
        parts.append(Text(f"⚠ conflict: {entry.conflict}", style="bold yellow"))
    if not isinstance(entry, DeviceEntry):
        return Group(*parts)
    device = entry.device
    if entry.volume is not None:
        parts += [Text(""), _heading("Volume"), Text(f"{entry.volume.kind.value} {entry.volume.value}")]
        parts += [Text(f"≡ also on {s.text}", style="cyan") for s in entry.also_on]
    elig = entry.eligibility
    if elig is not None:
        parts += [Text(""), _heading("Pass-through (VFIO)")]
        if elig.ready:
            parts.append(Text(f"ready: bound to {elig.driver}", style="magenta"))
        else:
            parts += [Text(f"missing: {m}") for m in elig.missing]
    if device.mdev_types:
        parts += [Text(""), _heading("mdev types")]
        parts += [Text(f"{t.id}  {t.device_api}  available {t.available}") for t in device.mdev_types]
    parts += [Text(f"⚠ {w}", style="yellow") for w in entry.warnings]
    return Group(*parts)
