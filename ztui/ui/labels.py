"""Tree labels as `rich.text.Text`, made of parts that know how to give way (`ztui.ui.fitlabel`).

Plain strings would be parsed as markup (a state shown as `[running]` would vanish), so every label is
built from Text parts. Meaning never rests on colour alone: states are words and flags carry symbols, so
the tree reads the same with 16 colours or with NO_COLOR. On a narrow screen the facts give way first and
the marks (`⛔`, `⚠`, `⇄`, `⏳`, counts) stay.
"""

from __future__ import annotations

from ztui.model import BackingStep, Guest, GuestDevice, GuestState
from ztui.report.hostdevs import DeviceEntry, Entry
from ztui.report.tree_text import also_on_text, device_label, format_memory
from ztui.safe_text import escape_control
from ztui.ui.fitlabel import FitLabel, Part

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
               readonly: bool = False) -> FitLabel:
    """A host's line: `name` as people call it (`HostEntry.display_name`). `facts` names where the host facts
    come from when not from the host itself (`IBM z16 LPAR (simulated host facts)`): shown right after the
    name, so a simulated host is never taken for real (narrow: `[simulated]`). A host that is not connected
    says why in one line, right after the name: a long name must not push it off a narrow screen."""
    name_part = Part(name, "bold", cut=True, rank=5)  # the URI is in the host's details
    if connected:
        parts = [Part("● ", "green"), name_part]
        if facts:
            parts.append(Part(f"  [{facts}]", "magenta", short="  [simulated]" if "simulated" in facts else "",
                              cut=True, rank=1))
        parts.append(Part(f"  {guests} guest{'s' if guests != 1 else ''}", "dim"))
        if readonly:
            parts.append(Part("  read-only", "yellow"))
        return FitLabel(parts)
    if not error:  # not answered yet, either way
        return FitLabel([Part("… ", "dim"), name_part, Part("  connecting", "dim")])
    parts = [Part("✗ ", "red"), name_part, Part("  not connected", "bold red"),
             Part(f": {one_line(error)}", "red", cut=True, rank=1)]
    if retry_in:
        parts.append(Part(f" (retrying in {retry_in:g} s)", "dim", short="", rank=0))
    return FitLabel(parts)


def one_line(text: str) -> str:
    """A reason as one line: whatever a daemon or ssh wrote, its lines joined, control characters escaped
    (a line break or an escape sequence in a host's label would tear the tree's borders)."""
    return escape_control(" ".join(part.strip() for part in text.splitlines() if part.strip()))


def guest_label(guest: Guest, runs_on: str = "") -> FitLabel:
    """Name and state, the facts (they give way first on a narrow screen), then the marks, always whole.
    `runs_on` names another host where this guest (the same UUID) runs while it is defined here: started
    here too, two copies would write the same disks."""
    state = guest.state.value if guest.state is not None else "unknown"
    parts = [Part(guest.name or "(no name)", "bold", cut=True, rank=5),
             Part(f"  {state}", STATE_STYLES.get(guest.state, "") if guest.state is not None else "dim")]
    if runs_on:
        parts.append(Part(f"  ⇉ runs on {runs_on}", "bold magenta", short="  ⇉", rank=6))
    facts = [(guest.arch, 0), (f"{guest.vcpus} vCPU" if guest.vcpus else "", 1),
             (format_memory(guest.memory_kib), 2)]
    parts += [Part(f"  {fact}", "dim", short="", rank=rank) for fact, rank in facts if fact]
    blockers = len(guest.blockers)
    if blockers:
        parts += [Part(f"  ⛔ {blockers}", "red"),
                  Part(f" migration blocker{'s' if blockers != 1 else ''}", "red", short="", rank=6)]
    warnings = len(guest.warnings) + sum(1 for d in guest.devices if d.warnings or any(s.warning for s in d.backing))
    if warnings:
        parts.append(Part(f"  ⚠ {warnings}", "yellow"))
    return FitLabel(parts)


def device_label_text(device: GuestDevice, removal: str = "") -> FitLabel:
    """Name, kind, address and source (the source path is cut, then dropped, first), then the marks."""
    parts = [Part(device_label(device), "bold", cut=True, rank=5),
             Part(f"  {device.kind.value}", "cyan", short="", rank=2)]
    if device.address_text:
        parts.append(Part(f"  {device.address_text}", short="", rank=3))
    if device.source:
        parts.append(Part(f"  {device.source}", "dim", short="", cut=True, rank=0))
    if device.migration_blocker:
        parts.append(Part("  ⛔ blocks migration", "red", short="  ⛔", rank=4))
    elif device.passthrough:
        parts.append(Part("  ⇄ pass-through", "magenta", short="  ⇄", rank=4))
    if device.warnings or any(s.warning for s in device.backing):
        parts.append(Part("  ⚠", "yellow"))
    if removal:
        parts.append(Part(f"  ⏳ {removal}", "bold yellow"))
    return FitLabel(parts)


def step_label(step: BackingStep) -> FitLabel:
    """A step of a backing chain: kind and id; its description gives way first, a warning keeps its `⚠`."""
    parts = [Part(step.kind, "cyan"), Part(f"  {step.id}", cut=True, rank=3)]
    if step.also_on:  # before the description, which a narrow tree cuts first
        parts.append(Part(f"  ≡ also on {also_on_text(step)}", "bold cyan", cut=True, rank=2))
    if step.name and step.name != step.id:
        parts.append(Part(f"  {step.name}", "dim", short="", cut=True, rank=0))
    if step.warning:
        parts.append(Part(f"  ⚠ {step.warning}", "yellow", cut=True, rank=1))
    elif step.host_use:
        parts.append(Part(f"  host: {step.host_use}", "magenta", cut=True, rank=1))
    return FitLabel(parts)


def hostdev_label(entry: Entry) -> FitLabel:
    """One device: id, kind, the host's own use of it (first: it is why a device that looks idle is not
    free), summary, then the guests that use it or whether it is free for pass-through. On a narrow screen
    the summary gives way first; the host's use, `used by`, a conflict and readiness stay."""
    parts = [Part(entry.id, "bold", cut=True, rank=7), Part(f"  {entry.kind}", "cyan", short="", rank=1)]
    host_use = entry.host_use if isinstance(entry, DeviceEntry) else ()
    if host_use:
        words = dict.fromkeys(r.short for r in host_use)
        parts.append(Part("  host: " + ", ".join(words), "yellow", cut=True, rank=5))
    if isinstance(entry, DeviceEntry) and entry.summary:
        parts.append(Part(f"  {entry.summary}", "dim", short="", cut=True, rank=0))
    if entry.conflict:
        parts.append(Part(f"  ⚠ conflict: {entry.conflict}", "bold yellow", cut=True, rank=3))
    if entry.users:
        parts += [Part("  used by", "green"),
                  Part(" " + ", ".join(f"{u.guest}/{u.target}" for u in entry.users), "green", cut=True, rank=4)]
    elif not host_use and isinstance(entry, DeviceEntry):
        elig = entry.eligibility
        if elig is not None and elig.ready:
            parts.append(Part("  ✓ ready for pass-through, unused", "magenta", short="  ✓ ready, unused", rank=2))
        elif elig is not None:
            parts.append(Part("  not ready for VFIO", "dim", short="", rank=0))
    if isinstance(entry, DeviceEntry):
        parts += [Part(f"  ≡ also on {s.text}", "cyan", cut=True, rank=3) for s in entry.also_on]
    return FitLabel(parts)
