"""What the `/` filter (`ztui.report.filtering`) leaves of the tree.

A guest the filter names shows all its devices; a guest that matches through some of its devices shows
those only, expanded, so that the match is on screen. Where no guest of a host matches, one line says so,
followed by the host devices that match instead.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Sequence

from rich.text import Text
from textual.widgets.tree import TreeNode

from ztui.model import Guest
from ztui.report.filtering import GuestMatch
from ztui.report.hostdevs import DeviceEntry
from ztui.ui.labels import hostdev_label
from ztui.ui.noderef import NodeRef
from ztui.ui.widgets.device_identity import device_keys
from ztui.ui.widgets.device_lines import DeviceLine

#: a host's devices that match a filter: (uri, query) → their entries as `ztui hostdevs` lists them
HostDeviceSearch = Callable[[str, str], list[DeviceEntry]]


def shown_devices(guest: Guest, match: GuestMatch, query: str) -> list[DeviceLine]:
    """The guest's device lines under the filter `query` it matched as `match`."""
    keys = device_keys(guest.devices)
    return [(keys[i], d) for i, d in enumerate(guest.devices) if match.by_guest or not query or i in match.devices]


def add_no_match(host: TreeNode[NodeRef], uri: str, query: str, found: Sequence[DeviceEntry]) -> None:
    """Under a host where no guest matches `query`: a line that says so, then the host devices that match
    (`found`; `H` opens them)."""
    query = query.strip()
    text = (f"no guest matches '{query}'; host devices that do (H shows them):" if found else
            f"no guest and no host device matches '{query}'")
    host.add_leaf(Text(text, style="dim italic"), NodeRef("note", uri))
    for dev in found:
        host.add_leaf(hostdev_label(dev), NodeRef("hostdev", uri, key=dev.key))


def first_match(root: TreeNode[NodeRef], by_devices: Container[tuple[str, str]]) -> TreeNode[NodeRef] | None:
    """The first match under the hosts: a guest the filter names, else the first device of a guest that
    matched through its devices (`by_devices`: their (uri, uuid)), a matched host device, else a line saying
    nothing matched."""
    below = [child for host in root.children for child in host.children]
    for node in below:
        ref = node.data
        if ref is None or ref.kind == "note":
            continue
        if ref.kind == "guest" and (ref.uri, ref.uuid) in by_devices and node.children:
            return node.children[0]
        return node
    return below[0] if below else None
