"""The `/` filter: which guests and devices match what the user typed.

A query matches case-insensitively as a substring of a guest's name or UUID, or of anything that names a
device: target, alias, bus-ID, address, source, and every id and name in its backing chain. So typing a
DASD bus-ID such as `0.0.5c3f` keeps exactly the guests that use that DASD, whether as a virtio disk on
its block device or through a vfio-ccw mdev. A host device that no guest uses matches by its own id, name
or device node (`match_host_device`): the tree says no guest matches and shows those devices instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from ztui.model import Guest, GuestDevice, HostDevice


@dataclass(frozen=True)
class GuestMatch:
    """A guest that matches: by itself (all devices shown) or through some of its devices."""

    by_guest: bool
    devices: frozenset[int]  # indexes into guest.devices


def device_words(device: GuestDevice) -> list[str]:
    words = [device.target, device.alias, device.address_text, device.source, device.kind.value, device.model]
    for step in device.backing:
        words.extend((step.id, step.name))
    return [w.lower() for w in words if w]


def match_guest(guest: Guest, query: str) -> GuestMatch | None:
    """None when neither the guest nor any of its devices matches."""
    q = query.strip().lower()
    if not q:
        return GuestMatch(by_guest=True, devices=frozenset())
    by_guest = q in guest.name.lower() or guest.uuid.lower().startswith(q)
    devices = frozenset(i for i, d in enumerate(guest.devices) if any(q in w for w in device_words(d)))
    if not by_guest and not devices:
        return None
    return GuestMatch(by_guest=by_guest, devices=devices)


def match_host_device(device: HostDevice, query: str) -> bool:
    """Whether a host device matches the query: its id (bus-ID, PCI address, UUID, APQN, interface), name
    or a device node, as a case-insensitive substring. An empty query matches nothing: it asks for guests."""
    q = query.strip().lower()
    if not q:
        return False
    return q in device.id.lower() or q in device.name.lower() or any(q in n.lower() for n in device.devnodes)
