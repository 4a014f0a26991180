"""The model as aligned text, the way `lsblk` prints block devices: one row per guest, per device and per
step of each device's backing chain (indented below the device).

Pure formatting (no terminal probing here): the caller says whether to colour, so the same code serves a
TTY, a pipe and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ztui.model import BackingStep, Guest, GuestDevice, GuestState, Host
from ztui.report.safe_text import escape_control

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


WIDTH = 80
"""The line length the text fits (a terminal may give more)."""

#: the most each column before NOTE takes (NAME, TYPE, MODEL, ADDRESS, SOURCE)
_CAPS = (20, 13, 16, 12, 48)
#: which column gives way first when a line would be too long, and how narrow it may get
_GIVE_WAY = ((2, 8), (3, 10), (0, 16), (1, 8), (4, 12))


@dataclass(frozen=True)
class _Row:
    cells: tuple[str, str, str, str, str, str]
    colours: tuple[str, ...] = ("", "", "", "", "", "")
    span: bool = False  # a backing step: the second cell runs across the remaining columns
    guest: bool = False  # a guest's line: its name is never cut (it is what a reader looks for)


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
                (_BOLD, colour, "", "", "", _BLOCK if blockers else ""), guest=True)


def _device_rows(guest: Guest, backing: bool) -> list[_Row]:
    rows = []
    for i, device in enumerate(guest.devices):
        last = i == len(guest.devices) - 1
        branch = "└─" if last else "├─"
        model = "/".join(p for p in (device.bus, device.model) if p)
        note = device_note(device)
        note_colour = _BLOCK if device.migration_blocker else (_WARN if device.warnings or any(
            s.warning for s in device.backing) else "")
        rows.append(_Row((branch + device_label(device), device.kind.value, model, device.address_text,
                          device.source, note), ("", "", "", "", "", note_colour)))
        if backing:
            rows.extend(_step_rows(device.backing, "  " if last else "│ "))
    return rows


def _step_rows(steps: tuple[BackingStep, ...], cont: str) -> list[_Row]:
    """One row per step of a device's backing chain, below the device like lsblk's holders: the step's
    kind in the NAME column (deeper for the paths of a multipath device), its id and description across
    the other columns, a warning last."""
    rows = []
    for step in steps:
        name = step.name.removeprefix(step.id).strip() if step.name.startswith(step.id + " ") else step.name
        text = "  ".join(p for p in (step.id, name if name != step.id else "") if p)
        if step.warning:
            text += f"  ! {step.warning}"
        elif step.host_use:
            text += f"  [host: {step.host_use}]"
        rows.append(_Row((f"{cont}{'  ' * step.level}↳ {step.kind}", text, "", "", "", ""),
                         ("", _WARN if step.warning else "", "", "", "", ""), span=True))
        if step.also_on:
            rows.append(_Row((f"{cont}{'  ' * step.level}  ≡ also on", also_on_text(step), "", "", "", ""),
                             span=True))
    return rows


def also_on_text(step: BackingStep) -> str:
    """Where else a step's volume is: `zlab-y as 0.0.6c05 (used by zlnx07); zlab-x as 0.0.7c05`."""
    return "; ".join(s.text for s in step.also_on)


def render_hosts(hosts: list[Host], colour: bool = False, *, backing: bool = True, width: int = WIDTH) -> str:
    """All hosts as text: a header line per host, then one aligned table of guests, their devices and
    (unless `backing` is false) each device's backing chain, fitted into `width` columns: a value that
    does not fit ends in `…`."""
    out: list[str] = []
    for host in hosts:
        title = host.uri or "saved domain XML"
        if host.hostname:
            title += f" ({host.hostname})"
        if host.facts:
            title += f" [{host.facts}]"
        if not host.connected:
            title += f" not connected: {host.error}" if host.error else " not connected"
        title = escape_control(title)
        out.append(f"{_BOLD}{title}{_RESET}" if colour else title)
        rows = [_Row(HEADER)]
        for guest in host.guests:
            rows.append(_guest_row(guest))
            rows.extend(_device_rows(guest, backing))
        if len(rows) == 1:
            out.append("  (no guests)")
            out.append("")
            continue
        out.extend(_align(rows, colour, width))
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def fit(text: str, width: int) -> str:
    """The text in at most `width` characters; a cut one ends in `…`, so nothing is lost silently. A path
    is cut in the middle instead: its end (`…/ccw-0.0.5c01`) tells devices apart, its start does not."""
    if len(text) <= width:
        return text
    if width < 1:
        return ""
    if text.startswith("/") and width >= 12:
        head = width // 3
        return text[:head] + "…" + text[len(text) - (width - head - 1):]
    return text[:width - 1] + "…"


def column_widths(rows: list[_Row], width: int) -> list[int]:
    """Widths of the columns before NOTE (which takes what is left): each at most what its longest value
    needs and at most its cap; MODEL gives way first, SOURCE last, when the line would be too long. NAME
    never gets narrower than the longest guest name."""
    names = max((len(r.cells[0]) for r in rows if r.guest), default=0)
    caps = (max(_CAPS[0], names), *_CAPS[1:])
    widths = [min(max((len(r.cells[i]) for r in rows if not (r.span and i > 0)), default=0), caps[i])
              for i in range(len(HEADER) - 1)]
    widths = [max(w, len(h)) for w, h in zip(widths, HEADER, strict=False)]
    for i, least in _GIVE_WAY:
        least = max(least, names) if i == 0 else least
        excess = sum(widths) + 2 * (len(HEADER) - 1) + len(HEADER[-1]) - width
        if excess <= 0:
            break
        widths[i] = min(widths[i], max(least, widths[i] - excess))
    return widths


def _align(rows: list[_Row], colour: bool, width: int = WIDTH) -> list[str]:
    # names, paths and notes come from guests and files: a control character in them is shown escaped
    rows = [replace(r, cells=tuple(escape_control(c) for c in r.cells)) for r in rows]  # type: ignore[arg-type]
    widths = column_widths(rows, width)
    lines = []
    for row in rows:
        parts = []
        used = 0
        cells = row.cells[:2] if row.span else row.cells
        for i, cell in enumerate(cells):
            room = widths[i] if i < len(widths) and not (row.span and i == 1) else max(width - used, 1)
            value = fit(cell, room)
            text = value if i == len(cells) - 1 else value.ljust(room)
            used += room + 2
            if colour and row.colours[i] and value:
                text = f"{row.colours[i]}{text}{_RESET}"
            parts.append(text)
        lines.append("  ".join(parts).rstrip())
    return lines
