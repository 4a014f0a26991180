"""Tree labels as `rich.text.Text`.

Plain strings would be parsed as markup (a state shown as `[running]` would vanish), so every label is
built from Text parts. Meaning never rests on colour alone: states are words and flags carry symbols, so
the tree reads the same with 16 colours or with NO_COLOR.
"""

from __future__ import annotations

from rich.text import Text

from ztui.model import BackingStep, Guest, GuestDevice, GuestState
from ztui.report.tree_text import also_on_text, device_label, format_memory

STATE_STYLES = {
    GuestState.RUNNING: "green",
    GuestState.BLOCKED: "green",
    GuestState.PAUSED: "yellow",
    GuestState.PMSUSPENDED: "yellow",
    GuestState.SHUTDOWN: "yellow",
    GuestState.CRASHED: "bold red",
    GuestState.SHUTOFF: "dim",
}


def host_label(name: str, connected: bool, error: str, retry_in: float, guests: int, facts: str = "",
               readonly: bool = False) -> Text:
    """A host's line: `name` as people call it (`HostEntry.display_name`). `facts` names where the host facts
    come from when not from the host itself (`IBM z16 LPAR (simulated host facts)`): shown right after the
    name, so a simulated host is never taken for real. A host that is not connected says why in one line."""
    text = Text()
    if connected:
        text.append("● ", style="green")
        text.append(name, style="bold")  # the URI is in the host's details
        if facts:
            text.append(f"  [{facts}]", style="magenta")
        text.append(f"  {guests} guest{'s' if guests != 1 else ''}", style="dim")
        if readonly:
            text.append("  read-only", style="yellow")
    elif not error:  # not answered yet, either way
        text.append("… ", style="dim")
        text.append(name, style="bold")
        text.append("  connecting", style="dim")
    else:  # a host known by its URI alone is called short, so that why stays on a narrow screen
        text.append("✗ ", style="red")
        text.append(name, style="bold")
        text.append("  not connected", style="bold red")
        text.append(f": {one_line(error)}", style="red")
        if retry_in:
            text.append(f" (retrying in {retry_in:g} s)", style="dim")
    return text


def one_line(text: str) -> str:
    """A reason as one line: whatever a daemon or ssh wrote, its lines joined, control characters escaped
    (a line break or an escape sequence in a host's label would tear the tree's borders)."""
    from ztui.report.safe_text import escape_control

    return escape_control(" ".join(part.strip() for part in text.splitlines() if part.strip()))


def guest_label(guest: Guest, pending: int = 0, runs_on: str = "") -> Text:
    """`runs_on` names another host where this guest (the same UUID) runs while it is defined here: started
    here too, two copies would write the same disks."""
    text = Text()
    text.append(guest.name or "(no name)", style="bold")
    state = guest.state.value if guest.state is not None else "unknown"
    text.append("  ")
    text.append(state, style=STATE_STYLES.get(guest.state, "") if guest.state is not None else "dim")
    if runs_on:
        text.append(f"  ⇉ runs on {runs_on}", style="bold magenta")
    facts = [guest.arch, f"{guest.vcpus} vCPU" if guest.vcpus else "", format_memory(guest.memory_kib)]
    text.append("  " + "  ".join(f for f in facts if f), style="dim")
    blockers = len(guest.blockers)
    if blockers:
        text.append(f"  ⛔ {blockers} migration blocker{'s' if blockers != 1 else ''}", style="red")
    warnings = len(guest.warnings) + sum(1 for d in guest.devices if d.warnings or any(s.warning for s in d.backing))
    if warnings:
        text.append(f"  ⚠ {warnings}", style="yellow")
    return text


def device_label_text(device: GuestDevice, removal: str = "") -> Text:
    text = Text()
    text.append(device_label(device), style="bold")
    text.append(f"  {device.kind.value}", style="cyan")
    if device.address_text:
        text.append(f"  {device.address_text}")
    if device.source:
        text.append(f"  {device.source}", style="dim")
    if device.migration_blocker:
        text.append("  ⛔ blocks migration", style="red")
    elif device.passthrough:
        text.append("  ⇄ pass-through", style="magenta")
    if device.warnings or any(s.warning for s in device.backing):
        text.append("  ⚠", style="yellow")
    if removal:
        text.append(f"  ⏳ {removal}", style="bold yellow")
    return text


def step_label(step: BackingStep) -> Text:
    text = Text()
    text.append(step.kind, style="cyan")
    text.append(f"  {step.id}")
    if step.also_on:  # before the description, which a narrow tree cuts first
        text.append(f"  ≡ also on {also_on_text(step)}", style="bold cyan")
    if step.name and step.name != step.id:
        text.append(f"  {step.name}", style="dim")
    if step.warning:
        text.append(f"  ⚠ {step.warning}", style="yellow")
    elif step.host_use:
        text.append(f"  host: {step.host_use}", style="magenta")
    return text
