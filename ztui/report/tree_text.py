"""The model as aligned text, the way `lsblk` prints block devices: one row per guest and per device.

Pure formatting (no terminal probing here): the caller says whether to colour, so the same code serves a
TTY, a pipe and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from ztui.model import Guest, GuestDevice, GuestState, Host

HEADER = ("NAME", "TYPE", "MODEL", "ADDRESS", "SOURCE", "NOTE")

_RESET = "\x1b[0m"
_STATE_COLOURS = {
    GuestState.RUNNING: "\x1b[32m",
    GuestState.PAUSED: "\x1b[33m",
    GuestState.PMSUSPENDED: "\x1b[33m",
    GuestState.CRASHED: "\x1b[31m",
    GuestState.SHUTOFF: "\x1b[2m",
}
_BOLD = "\x1b[1m"
_WARN = "\x1b[33m"
_BLOCK = "\x1b[31m"


@dataclass(frozen=True)
class _Row:
    cells: tuple[str, str, str, str, str, str]
    colours: tuple[str, ...] = ("", "", "", "", "", "")


def format_memory(kib: int) -> str:
    """Memory the way an administrator reads it: 512 MiB, 4 GiB, 1.5 GiB."""
    if kib <= 0:
        return ""
    for unit, size in (("TiB", 1024**3), ("GiB", 1024**2), ("MiB", 1024)):
        if kib >= size:
            value = kib / size
            text = f"{value:.0f}" if value >= 100 else f"{value:.1f}".removesuffix(".0")
            return f"{text} {unit}"
    return f"{kib} KiB"


def device_label(device: GuestDevice) -> str:
    """The name a device is known by (`GuestDevice.display_name`)."""
    return device.display_name


def device_note(device: GuestDevice) -> str:
    notes = []
    if device.migration_blocker:
        notes.append(f"blocks migration: {device.blocker_reason}")
    elif device.passthrough:
        notes.append("pass-through")
    notes.extend(f"warning: {w}" for w in device.warnings)
    notes.extend(f"{s.id}: {s.warning}" for s in device.backing if s.warning)
    return "; ".join(notes)


def _guest_row(guest: Guest) -> _Row:
    state = guest.state.value if guest.state is not None else "-"
    model = " ".join(p for p in (guest.arch, guest.machine) if p)
    size = ", ".join(p for p in (f"{guest.vcpus} vCPU" if guest.vcpus else "",
                                 format_memory(guest.memory_kib)) if p)
    blockers = len(guest.blockers)
    notes = [f"{blockers} migration blocker{'s' if blockers != 1 else ''}"] if blockers else []
    notes.extend(f"warning: {w}" for w in guest.warnings)
    colour = _STATE_COLOURS.get(guest.state, "") if guest.state is not None else ""
    return _Row((guest.name, state, model, "", size, "; ".join(notes)),
                (_BOLD, colour, "", "", "", _BLOCK if blockers else ""))


def _device_rows(guest: Guest) -> list[_Row]:
    rows = []
    for i, device in enumerate(guest.devices):
        branch = "└─" if i == len(guest.devices) - 1 else "├─"
        model = "/".join(p for p in (device.bus, device.model) if p)
        note = device_note(device)
        note_colour = _BLOCK if device.migration_blocker else (_WARN if device.warnings or any(
            s.warning for s in device.backing) else "")
        rows.append(_Row((branch + device_label(device), device.kind.value, model, device.address_text,
                          device.source, note), ("", "", "", "", "", note_colour)))
    return rows


def render_hosts(hosts: list[Host], colour: bool = False) -> str:
    """All hosts as text: a header line per host, then one aligned table of guests and their devices."""
    out: list[str] = []
    for host in hosts:
        title = host.uri or "saved domain XML"
        if host.hostname:
            title += f" ({host.hostname})"
        if host.facts:
            title += f" [{host.facts}]"
        if not host.connected:
            title += f" disconnected: {host.error}" if host.error else " disconnected"
        out.append(f"{_BOLD}{title}{_RESET}" if colour else title)
        rows = [_Row(HEADER)]
        for guest in host.guests:
            rows.append(_guest_row(guest))
            rows.extend(_device_rows(guest))
        if len(rows) == 1:
            out.append("  (no guests)")
            out.append("")
            continue
        out.extend(_align(rows, colour))
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _align(rows: list[_Row], colour: bool) -> list[str]:
    widths = [max(len(r.cells[i]) for r in rows) for i in range(len(HEADER))]
    lines = []
    for row in rows:
        parts = []
        for i, cell in enumerate(row.cells):
            text = cell if i == len(HEADER) - 1 else cell.ljust(widths[i])
            if colour and row.colours[i] and cell:
                text = f"{row.colours[i]}{text}{_RESET}"
            parts.append(text)
        lines.append("  ".join(parts).rstrip())
    return lines
