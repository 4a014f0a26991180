"""The model as aligned text, the way `lsblk` prints block devices: one row per guest, per device and per
step of each device's backing chain (indented below the device).

Pure formatting (no terminal probing here): the caller says whether to colour, so the same code serves a
TTY, a pipe and the tests.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, replace

from ztui.model import BackingStep, Guest, GuestDevice, GuestState, Host
from ztui.safe_text import escape_control

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
#: NOTE keeps at least this much (or its longest short note) when a row has a note; a note longer than its
#: cell is said there in short (whole words), and in full on the lines below the row
NOTE_LEAST = 20


@dataclass(frozen=True)
class Note:
    """One note of a row: `text` in full, `short` (whole words) for a NOTE column too narrow for it; the
    full text then goes on the lines below the row, unless `below` is false (a chain step already says it)."""

    text: str
    short: str
    below: bool = True


@dataclass(frozen=True)
class _Row:
    cells: tuple[str, str, str, str, str, str]
    colours: tuple[str, ...] = ("", "", "", "", "", "")
    span: bool = False  # a backing step: the second cell runs across the remaining columns
    guest: bool = False  # a guest's line: its name is never cut (it is what a reader looks for)
    notes: tuple[Note, ...] = ()  # what the NOTE cell says, item by item


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


def device_notes(device: GuestDevice, backing: bool = True) -> tuple[Note, ...]:
    """A device's notes; a warning of a chain step goes below the row only when the chain is not shown."""
    notes = []
    if device.migration_blocker:
        notes.append(Note(f"blocks migration: {device.blocker_reason}", "blocks migration"))
    elif device.passthrough:
        notes.append(Note("pass-through", "pass-through"))
    notes.extend(Note(f"warning: {w}", "warning") for w in device.warnings)
    notes.extend(Note(f"{s.id}: {s.warning}", "warning", below=not backing) for s in device.backing if s.warning)
    return tuple(notes)


def _joined(notes: tuple[Note, ...]) -> str:
    return "; ".join(n.text for n in notes)


def short_note(notes: tuple[Note, ...], room: int) -> str:
    """The notes in whole words for a NOTE cell of `room` characters: each kind once, with its count
    (`blocks migration; 2 warnings`), or only the first when that is too long (the rest are below)."""
    counts: dict[str, int] = {}
    for note in notes:
        counts[note.short] = counts.get(note.short, 0) + 1
    text = "; ".join(f"{n} {word}s" if n > 1 and word == "warning" else word for word, n in counts.items())
    return text if len(text) <= room or not notes else notes[0].short


def _guest_row(guest: Guest) -> _Row:
    state = guest.state.value if guest.state is not None else "-"
    model = " ".join(p for p in (guest.arch, guest.machine) if p)
    size = ", ".join(p for p in (f"{guest.vcpus} vCPU" if guest.vcpus else "",
                                 format_memory(guest.memory_kib)) if p)
    blockers = len(guest.blockers)
    # in short `3 blockers`; the devices' own rows say which
    notes = [Note(f"{blockers} migration blocker{'s' if blockers != 1 else ''}",
                  f"{blockers} blocker{'s' if blockers != 1 else ''}", below=False)] if blockers else []
    notes.extend(Note(f"warning: {w}", "warning") for w in guest.warnings)
    colour = _STATE_COLOURS.get(guest.state, "") if guest.state is not None else ""
    return _Row((guest.name, state, model, "", size, _joined(tuple(notes))),
                (_BOLD, colour, "", "", "", _BLOCK if blockers else ""), guest=True, notes=tuple(notes))


def _device_rows(guest: Guest, backing: bool) -> list[_Row]:
    rows = []
    for i, device in enumerate(guest.devices):
        last = i == len(guest.devices) - 1
        branch = "└─" if last else "├─"
        model = "/".join(p for p in (device.bus, device.model) if p)
        notes = device_notes(device, backing)
        note_colour = _BLOCK if device.migration_blocker else (_WARN if device.warnings or any(
            s.warning for s in device.backing) else "")
        rows.append(_Row((branch + device_label(device), device.kind.value, model, device.address_text,
                          device.source, _joined(notes)), ("", "", "", "", "", note_colour), notes=notes))
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
    needs and at most its cap; MODEL gives way first, SOURCE last, when the line would be too long, so that
    NOTE keeps `NOTE_LEAST` (or its longest short note). NAME never gets narrower than the longest guest name."""
    names = max((len(r.cells[0]) for r in rows if r.guest), default=0)
    note = max((len(short_note(r.notes, NOTE_LEAST)) for r in rows if r.notes), default=0)
    note = max(len(HEADER[-1]), min(note, NOTE_LEAST))
    caps = (max(_CAPS[0], names), *_CAPS[1:])
    widths = [min(max((len(r.cells[i]) for r in rows if not (r.span and i > 0)), default=0), caps[i])
              for i in range(len(HEADER) - 1)]
    widths = [max(w, len(h)) for w, h in zip(widths, HEADER, strict=False)]
    for i, least in _GIVE_WAY:
        least = max(least, names) if i == 0 else least
        excess = sum(widths) + 2 * (len(HEADER) - 1) + note - width
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
        below: list[str] = []
        for i, cell in enumerate(cells):
            room = widths[i] if i < len(widths) and not (row.span and i == 1) else max(width - used, 1)
            if i == len(HEADER) - 1 and len(cell) > room:  # the note in short, its reasons below the row
                value = fit(short_note(row.notes, room), room)
                # the cell already says the kind (`blocks migration`): below, what follows it
                below = [n.text.removeprefix(f"{n.short}: ") for n in row.notes if n.below and n.text != n.short]
            else:
                value = fit(cell, room)
            text = value if i == len(cells) - 1 else value.ljust(room)
            used += room + 2
            if colour and row.colours[i] and value:
                text = f"{row.colours[i]}{text}{_RESET}"
            parts.append(text)
        lines.append("  ".join(parts).rstrip())
        lines.extend(_below(row, below, widths[0], width, colour))
    return lines


def _below(row: _Row, notes: list[str], name_width: int, width: int, colour: bool) -> list[str]:
    """A row's notes in full, under it from the TYPE column like a chain step, wrapped at words: `! …`."""
    lead = {"├": "│", "└": " "}.get(row.cells[0][:1], "").ljust(name_width + 2)
    room = max(width - len(lead) - 2, 20)
    lines = []
    for note in notes:
        for i, part in enumerate(wrap_words(note, room)):
            text = ("! " if i == 0 else "  ") + part
            lines.append(lead + (f"{row.colours[-1]}{text}{_RESET}" if colour and row.colours[-1] else text))
    return lines


def wrap_words(text: str, width: int) -> list[str]:
    """`text` as lines of at most `width` characters, broken between words; only a word longer than a
    whole line (a path) is broken inside."""
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]
