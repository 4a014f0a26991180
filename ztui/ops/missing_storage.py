"""A start libvirt refused because a disk's host device or image is missing, said in the administrator's
terms: which disk, which host device, and what ztui's own backing chain says is behind it.

libvirt's text ("Cannot access storage file '/dev/mapper/3600…1002': No such file or directory") names a
path; on IBM Z that path stands for a LUN behind FCP channels, or a DASD behind a subchannel, and that is
what to go and look at (`lszfcp -D`, `lsdasd`, the zoning, the device being online). The guest is resolved
against the host's facts only after libvirt refused, so a start that works costs nothing more.
"""

from __future__ import annotations

import re

from ztui.model import Guest, GuestDevice, StepKind

_MISSING = re.compile(r"(?:Cannot access storage file|Could not open|No such file or directory[:,]?) ?'([^']+)'")
_HARDWARE = {StepKind.DASD: "DASD", StepKind.LUN: "LUN", StepKind.FCP: "FCP channel", StepKind.PCI: "PCI function"}


def missing_path(reason: str) -> str:
    """The path libvirt says it cannot access ('' when the reason names none)."""
    found = _MISSING.search(reason)
    return found.group(1) if found else ""


def missing_storage_text(guest: Guest, path: str, host: str) -> str:
    """`disk sda: its host device /dev/mapper/… is missing on zlab-z (ztui's facts: multipath /dev/dm-2 …)`;
    '' when no disk of the guest uses `path`."""
    device = next((d for d in guest.devices if d.source == path or any(s.id == path for s in d.backing)), None)
    if device is None:
        return ""
    what = "host device" if path.startswith("/dev/") else "image"
    text = f"disk {device.display_name}: its {what} {path} is missing on {host}"
    facts = _chain_text(device)
    return f"{text} ({facts})" if facts else text


def _chain_text(device: GuestDevice) -> str:
    steps = [s for s in device.backing if s.id != device.source]
    if not steps:
        return ""
    broken = next((s.warning for s in device.backing if s.warning), None)
    head = steps[0]
    parts = [f"ztui's facts: {head.kind.value} {head.id}"]
    hardware: dict[str, list[str]] = {}
    for step in steps[1:]:
        label = _HARDWARE.get(step.kind)
        if label is not None and step.id not in hardware.setdefault(label, []):
            hardware[label].append(step.id)
    if hardware:
        parts.append("on " + ", ".join(f"{label} {', '.join(ids)}" for label, ids in hardware.items()))
    if broken:
        parts.append(f"where the chain breaks: {broken}")
    return " ".join(parts)

