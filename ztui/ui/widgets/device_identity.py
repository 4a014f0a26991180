"""A device's identity across re-reads of its guest: how the tree's lines, the palette and the actions on a
device name it, so that a line, a cursor or a pending removal stays on its device while the guest changes."""

from __future__ import annotations

from collections.abc import Sequence

from ztui.model import Guest, GuestDevice


def device_keys(devices: Sequence[GuestDevice]) -> list[str]:
    """Each device's identity across re-reads, in the guest's order.

    Built from what a device keeps when its guest stops or starts (kind, target — the MAC for an
    interface —, address, source), not libvirt's alias (gone while the guest is shut off) nor its
    position (a hot-plugged device shifts the ones after it). Two devices alike in all of these are
    told apart by their order among themselves."""
    seen: dict[str, int] = {}
    keys = []
    for device in devices:
        base = f"{device.kind.value}:{device.target}:{device.address_text}:{device.source}"
        n = seen.get(base, 0)
        seen[base] = n + 1
        keys.append(f"{base}#{n}")
    return keys


def device_key_at(devices: Sequence[GuestDevice], index: int) -> str:
    """The identity (see `device_keys`) of `devices[index]`."""
    return device_keys(devices)[index]


def device_by_key(guest: Guest, key: str) -> GuestDevice | None:
    """The guest's device with this identity, if it still has one."""
    for k, device in zip(device_keys(guest.devices), guest.devices, strict=True):
        if k == key:
            return device
    return None
