"""The details pane: everything known about the selected node, and the virsh commands behind it."""

from __future__ import annotations

import shlex

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from ztui.fleet import HostEntry
from ztui.model import DeviceKind, Guest, GuestDevice, HostDevice
from ztui.tree_text import device_label, format_memory


def _grid(rows: list[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for key, value in rows:
        if value:
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
        ("status", "connected" if entry.connected else f"disconnected: {entry.error}"),
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
    if guest.blockers:
        parts += [Text(""), _heading("Migration blockers")]
        parts += [Text(f"⛔ {device_label(d)}: {d.blocker_reason}", style="red") for d in guest.blockers]
    if guest.warnings:
        parts += [Text(""), _heading("Warnings")] + [Text(f"⚠ {w}", style="yellow") for w in guest.warnings]
    parts += [Text(""), _heading("virsh"), Text(virsh(uri, "dominfo", guest.name)),
              Text(virsh(uri, "dumpxml", guest.name))]
    return Group(*parts)


def _device_virsh(uri: str, guest: Guest, device: GuestDevice) -> list[str]:
    live = ["--live"] if guest.state is not None and guest.state.is_active else ["--config"]
    commands = [virsh(uri, "detach-device", guest.name, "--file", "device.xml", *live)]
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
    parts += [Text(""), _heading("virsh")] + [Text(c) for c in _device_virsh(uri, guest, device)]
    parts += [Text(""), _heading("XML"), Syntax(device.xml.strip(), "xml", theme="ansi_dark", word_wrap=True)]
    return Group(*parts)


class DetailsPane(VerticalScroll):
    """A scrollable pane showing one renderable; replaced whenever the selection or its data changes."""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(Text("Select a host, guest or device.", style="dim"), id="details-body")

    def show(self, renderable: RenderableType) -> None:
        self.query_one("#details-body", Static).update(renderable)


def hostdev_details(dev: HostDevice) -> RenderableType:
    rows = [
        ("id", dev.id),
        ("kind", dev.kind.value),
        ("name", dev.name),
        ("parent", dev.parent),
        ("driver", dev.driver),
        ("sysfs", dev.sysfs_path),
        ("devnodes", " ".join(dev.devnodes)),
        ("IOMMU group", str(dev.iommu_group) if dev.iommu_group is not None else ""),
    ]
    rows += [(f"{f.key}", f"{f.value}  ({f.source})") for f in dev.facts]
    parts: list[RenderableType] = [_heading("Host device"), _grid(rows)]
    if dev.mdev_types:
        parts += [Text(""), _heading("mdev types")]
        parts += [Text(f"{t.id}  {t.device_api}  available {t.available}") for t in dev.mdev_types]
    if dev.warnings:
        parts += [Text("")] + [Text(f"⚠ {w}", style="yellow") for w in dev.warnings]
    if dev.xml:
        parts += [Text(""), _heading("XML"), Syntax(dev.xml.strip(), "xml", theme="ansi_dark", word_wrap=True)]
    return Group(*parts)
