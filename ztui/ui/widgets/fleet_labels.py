"""The tree's host and guest lines, from the fleet's entries.

A guest's line depends on more than its guest: a guest defined on several hosts says on the hosts where it is
not active where it runs (`⇄ runs on lpar2`), so a change on one host relabels its twins on the others. A
label is set only when its text changed: every line below a host has the host in its path, and a new host
label repaints every visible guest line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from textual.widgets.tree import TreeNode

from ztui.fleet import HostEntry
from ztui.model import Guest
from ztui.ui.fitlabel import FitLabel
from ztui.ui.labels import guest_label, host_label

T = TypeVar("T")


def host_text(entry: HostEntry) -> FitLabel:
    """The host's line: its name, whether it is connected (or why not), its guests' count."""
    return host_label(entry.display_name, entry.connected, entry.error, entry.retry_in, len(entry.guests),
                      entry.host.facts, readonly=entry.readonly)


def runs_elsewhere(entries: Mapping[str, HostEntry], uri: str, guest: Guest) -> str:
    """The other connected host where this guest (its UUID) runs or is paused while it is not active here."""
    if guest.state is not None and guest.state.is_active:
        return ""
    for other, entry in entries.items():
        twin = entry.guests.get(guest.uuid) if other != uri and entry.connected else None
        if twin is not None and twin.state is not None and twin.state.is_active:
            return entry.host.hostname or other
    return ""


def guest_text(entries: Mapping[str, HostEntry], uri: str, guest: Guest) -> FitLabel:
    """The guest's line on the host `uri`, with where else it runs."""
    return guest_label(guest, runs_on=runs_elsewhere(entries, uri, guest))


def relabel(node: TreeNode[T], text: FitLabel) -> None:
    """Set the node's label only if its text changed (a new label repaints the lines below it)."""
    if node.label != text:
        node.set_label(text)
