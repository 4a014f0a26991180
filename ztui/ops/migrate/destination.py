"""A migration's destination as a host of its own: what its host and its guests use, so that the preflight's
advice for it (define the mdev there, set the DASD offline and bind its subchannel first) follows the same
rule as every command ztui prints or runs (`ztui.host.release.release_refusal`), judged by the destination's
own inventory and guests, never by the source's.

`read_guest_uses` asks the destination (read-only); `vfio_ccw_setup` is pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import libvirt

from ztui.host.inventory import Inventory
from ztui.host.release import Refusal, release_refusal
from ztui.host.resolve import resolve_host
from ztui.host.usage import eligibility, users_of
from ztui.libvirt.link import HostLink
from ztui.libvirt.reader import read_guests
from ztui.model import DeviceUse, Host, HostDevice, HostDeviceKind
from ztui.zsysfs import apqn

GuestUses = Mapping[str, Sequence[DeviceUse]]
"""Host-device key → the destination's guest devices that use it (`ztui.host.usage.users_of`)."""


def read_guest_uses(link: HostLink, inventory: Inventory, guest_uuid: str) -> GuestUses | None:
    """Which devices the destination's guests use, their chains resolved against its own inventory; the
    migrating guest's own definition there (left by an earlier migration) is not another guest. None when
    its guests cannot be read: then nothing there is advised for release."""

    try:
        guests = tuple(g for g in read_guests(link.conn) if g.uuid != guest_uuid)
    except libvirt.libvirtError:
        return None
    host = resolve_host(Host(uri=link.uri, guests=guests), inventory)
    return users_of([host], inventory)


def vfio_ccw_setup(css: HostDevice, inventory: Inventory | None, uses: GuestUses | None) -> Refusal | str:
    """What the destination must do before an mdev can be defined on its subchannel `css`: its readiness
    steps (`eligibility`: set the DASD offline, bind the subchannel to vfio_ccw), '' when it offers a
    vfio_ccw-io instance already — or why nothing there may be taken from its host (`release_refusal`)."""
    refused = release_refusal(css, inventory, uses)
    if refused is not None:
        return refused
    ready = eligibility(css, inventory, uses)
    return "; ".join(ready.missing) if ready is not None else ""


def ap_refusal(queues: Iterable[tuple[int, int]], inventory: Inventory | None,
               uses: GuestUses | None) -> Refusal | None:
    """Why the destination's APQNs cannot go to a new vfio-ap mdev (another mdev holds one, a guest uses one,
    or that is not known), None when every one of them can."""
    for adapter, domain in sorted(queues):
        name = apqn(adapter, domain)
        known = inventory.get(HostDeviceKind.AP_QUEUE, name) if inventory is not None else None
        queue = known or HostDevice(HostDeviceKind.AP_QUEUE, name, name)
        refused = release_refusal(queue, inventory, uses)
        if refused is not None:
            return refused
    return None
