"""Who uses what, conflicts, and whether a device is ready for VFIO pass-through (pure functions).

"Which guests use OSA 0.0.8000?" is answered by inverting the backing chains: every step names the host
device (or host object, such as an image file) it stands for by key, so no second walk over the host is
needed and the answer always agrees with what the tree shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from ztui.facts import (
    CcwRole,
    F,
    FactSource,
    ap_queue_numbers,
    carried_busid,
    ccw_role,
    dasd_problem,
    is_dasd_alias,
    is_online,
    vfio_ccw_problem,
)
from ztui.host.inventory import Inventory
from ztui.host.release import Users, iommu_peers, release_refusal
from ztui.model import DeviceUse, Eligibility, Guest, Host, HostDevice, HostDeviceKind
from ztui.zsysfs import Subchannel

__all__ = ["available", "conflicts", "eligibility", "guest_uses", "held_keys", "users_of", "with_sharing_warnings"]


def guest_uses(guest: Guest, host_uri: str | None = None) -> list[DeviceUse]:
    """Every (host device, guest device) pair of one resolved guest, once per pair."""
    running = guest.state.is_active if guest.state is not None else False
    seen: set[tuple[str, int]] = set()
    uses: list[DeviceUse] = []
    for index, device in enumerate(guest.devices):
        target = device.display_name
        for step in device.backing:
            if not step.device_key or (step.device_key, index) in seen:
                continue
            seen.add((step.device_key, index))
            uses.append(DeviceUse(device_key=step.device_key, guest=guest.name, guest_uuid=guest.uuid,
                                  target=target, device_kind=device.kind, running=running,
                                  exclusive=step.exclusive, host_uri=host_uri))
    return uses


def users_of(hosts: Iterable[Host], inventory: Inventory | None = None) -> dict[str, tuple[DeviceUse, ...]]:
    """Host-device key (`HostDevice.key`, e.g. `ccw:0.0.5c3f`, or `file:/path`) → the guest devices
    using it, over already resolved hosts. With an inventory, only hosts of its URI count (a guest on
    another host cannot use this host's devices)."""
    out: dict[str, list[DeviceUse]] = {}
    for host in hosts:
        if inventory is not None and inventory.uri is not None and host.uri is not None \
                and host.uri != inventory.uri:
            continue
        for guest in host.guests:
            for use in guest_uses(guest, host.uri):
                out.setdefault(use.device_key, []).append(use)
    return {k: tuple(v) for k, v in out.items()}


def conflicts(users: Mapping[str, Iterable[DeviceUse]]) -> dict[str, str]:
    """Keys of devices used exclusively by two running guest devices (two guests passing through the
    same function, one image opened writable twice), with a one-line reason."""
    found: dict[str, str] = {}
    for key, uses in users.items():
        holders = sorted({(u.guest, u.target) for u in uses if u.exclusive and u.running})
        if len(holders) >= 2:
            who = ", ".join(f"{g} ({t})" for g, t in holders)
            found[key] = f"used exclusively by {len(holders)} running guest devices: {who}"
    return found


def held_keys(guests: Iterable[Guest]) -> set[str]:
    """The host-device keys that running guests' devices hold exclusively (a whole host resolved in parts
    compares these to tell whether a sharing conflict spans two parts)."""
    return {step.device_key for g in guests if g.state is not None and g.state.is_active
            for d in g.devices for step in d.backing if step.exclusive and step.device_key}


def with_sharing_warnings(host: Host, others: Mapping[str, Iterable[DeviceUse]] | None = None) -> Host:
    """The host with a warning on each guest device that holds a host device (DASD, LUN, image file,
    pass-through function) another running guest's device also holds without `<shareable/>`: the conflict
    shows where it happens, on both guests, not only in the host-device view. `others`: by key, the uses
    of the host's guests that are not in `host` (one host read in two parts, `ztui.cli.tree_split`)."""
    # a cheap first pass (this runs after every full resolve): keys held exclusively by running guests
    holders: dict[str, int] = {}
    clash = False
    me = 0
    for guest in host.guests:
        if guest.state is None or not guest.state.is_active:
            continue
        for device in guest.devices:
            me += 1
            for step in device.backing:
                if step.exclusive and (holders.setdefault(step.device_key, me) != me or (
                        others and step.device_key in others)):
                    clash = True
    holders.pop("", None)
    if not clash:
        return host
    users = users_of([host])
    for key, uses in (others or {}).items():
        if key in users:
            users[key] = (*users[key], *uses)
    clashing = set(conflicts(users))
    guests = []
    for guest in host.guests:
        devices = []
        for device in guest.devices:
            extra = []
            for step in device.backing:
                if step.device_key not in clashing or not step.exclusive:
                    continue
                holding = sorted({f"{u.guest} ({u.target})" for u in users[step.device_key]
                                 if u.exclusive and u.running and not (u.guest == guest.name
                                                                        and u.target == device.display_name)})
                if holding and guest.state is not None and guest.state.is_active:
                    # the topmost shared step says it; the steps below it are shared because of it
                    extra.append(f"{step.kind} {step.id} is also held by {', '.join(holding)} without "
                                 "<shareable/>: both running guests may write to it")
                    break
            devices.append(replace(device, warnings=(*device.warnings, *extra)) if extra else device)
        guests.append(replace(guest, devices=tuple(devices)))
    return replace(host, guests=tuple(guests))


def available(dev: HostDevice, inv: Inventory, uses: Iterable[DeviceUse]) -> bool:
    """Whether a guest can be given this device now: no guest device uses it (`uses`: its entry of
    `users_of`), the host itself does not (`Inventory.host_use`: mounted, swap, LVM, multipath, dump or IPL
    device), and, for a DASD, nothing else stops it (online, formatted, not a PAV alias). This is what
    "free" means in `ztui hostdevs`, the host devices view and the attach suggestions."""
    if any(True for _ in uses) or inv.host_use(dev):
        return False
    if dev.kind is HostDeviceKind.CCW and ccw_role(dev) is CcwRole.DASD:
        return not is_dasd_alias(dev) and not dasd_problem(dev)
    return True


# --- VFIO readiness --------------------------------------------------------------------------------------

_WANTED = {HostDeviceKind.CSS: "vfio_ccw", HostDeviceKind.PCI: "vfio-pci", HostDeviceKind.AP_QUEUE: "vfio_ap"}


def eligibility(dev: HostDevice, inv: Inventory | None = None, users: Users | None = None) -> Eligibility | None:
    """Readiness of a subchannel, PCI function or AP queue for pass-through; None for other kinds.

    The checks are what the administrator would otherwise look up by hand: the driver binding, the mdev
    type on offer, the IOMMU group's other members, the matrix device of vfio_ap. A step that takes the
    device from the host (offline, unbind, rebind, apmask) is advised only when `release_refusal` allows
    it — `users` are the host's guests' uses (`users_of`; None: not known, so nothing is advised) —, else
    the refusal says why instead."""
    wanted = _WANTED.get(dev.kind)
    if wanted is None or (dev.kind is HostDeviceKind.PCI and dev.fact(F.CLASS).startswith("0x0604")):
        return None  # PCI bridges are not passed through
    missing: list[str] = []
    if dev.kind is HostDeviceKind.CSS:
        _css(dev, inv, users, missing)
    elif dev.kind is HostDeviceKind.PCI:
        _pci(dev, inv, users, missing)
    else:
        _ap_queue(dev, inv, users, missing)
    return Eligibility(device_key=dev.key, ready=not missing, driver=dev.driver, wanted_driver=wanted,
                       missing=tuple(missing))


def _css(dev: HostDevice, inv: Inventory | None, users: Users | None, missing: list[str]) -> None:
    """vfio-ccw takes a plain I/O subchannel (type 0) carrying a base ECKD DASD (vfio-ccw.rst): not a QDIO
    device, an FBA DASD, a tape or a PAV alias; and not a device the host or a guest uses. The DASD is set
    offline first (as `chccwdev -d` does), then the subchannel is rebound."""
    kind = Subchannel.type.read(dev.fact(F.SCH_TYPE))
    if kind not in (None, 0):
        missing.append(f"subchannel type {kind} is not an I/O subchannel")
        return
    if not carried_busid(dev) and Subchannel.dev_busid.read(dev.fact(F.DEV_BUSID)) == "":
        missing.append("the subchannel carries no device (dev_busid none): nothing to pass through")
        return
    if dev.driver != "vfio_ccw":
        busid = carried_busid(dev)
        ccw = inv.get(HostDeviceKind.CCW, busid) if inv is not None and busid else None
        if ccw is not None and inv is not None:
            problem = vfio_ccw_problem(ccw, inv.of_kind(HostDeviceKind.CCW),
                                       lambda base: release_refusal(base, inv, users) is None)
            if problem:
                missing.append(problem)
                return
        refused = release_refusal(dev, inv, users)
        if refused:
            missing.append(refused.text)
            return
        steps = []
        if ccw is not None and is_online(ccw):
            steps.append(f"set {busid} offline (chccwdev -d {busid})")
        steps.append(f"bind the subchannel to vfio_ccw, now {dev.driver or 'no driver'} "
                     f"(driverctl -b css set-override {dev.id} vfio_ccw; ztui prepare vfio-ccw {busid or dev.id} "
                     "does both)")
        missing.append(", then ".join(steps))
    types = [t for t in dev.mdev_types if t.id == "vfio_ccw-io"]
    if dev.driver == "vfio_ccw" and not types:
        missing.append("no vfio_ccw-io mdev type offered")
    elif types and types[0].available == 0 and not _has_mdev(dev, inv):
        missing.append("vfio_ccw-io has no instance available")


def _has_mdev(dev: HostDevice, inv: Inventory | None) -> bool:
    return inv is not None and any(c.kind is HostDeviceKind.MDEV for c in inv.children(dev))


def _pci(dev: HostDevice, inv: Inventory | None, users: Users | None, missing: list[str]) -> None:
    """A PCI function goes to vfio-pci with the other members of its IOMMU group: the function and each of
    them must be free to be taken from the host."""
    if dev.driver != "vfio-pci":
        refused = release_refusal(dev, inv, users)
        if refused:
            missing.append(refused.text)
            return
        missing.append(f"bind to vfio-pci, now {dev.driver or 'no driver'} (libvirt does it for managed='yes')")
    if dev.iommu_group is None:
        if dev.source != FactSource.LIBVIRT:
            missing.append("no IOMMU group: is the IOMMU enabled (intel_iommu=on / iommu=pt)?")
        return
    if inv is None:
        return
    others = iommu_peers(dev, inv)
    if not others:
        return
    refused = next((r for o in others if (r := release_refusal(o, inv, users)) is not None), None)
    if refused is not None:
        missing.append(f"IOMMU group {dev.iommu_group} also holds {', '.join(o.id for o in others)}, which would "
                       f"go along: {refused.text}")
        return
    missing.append(f"IOMMU group {dev.iommu_group} also holds "
                   + ", ".join(f"{o.id} ({o.driver})" for o in others) + ", which must go along")


def _ap_queue(dev: HostDevice, inv: Inventory | None, users: Users | None, missing: list[str]) -> None:
    numbers = ap_queue_numbers(dev.id)
    if dev.driver != "vfio_ap":
        refused = release_refusal(dev, inv, users)
        if refused:
            missing.append(refused.text)
        else:
            # `0x`: the numbers are read as the kernel reads them (bare digits would be decimal, `0c` no number)
            command = (f" (ztui prepare vfio-ap --adapter 0x{numbers[0]:02x} --domain 0x{numbers[1]:04x})"
                       if numbers is not None else "")
            missing.append(f"queue is held by {dev.driver or 'no driver'}: release it to vfio_ap{command}")
    if inv is not None and inv.local and inv.get(HostDeviceKind.AP_MATRIX, "matrix") is None:
        missing.append("no vfio_ap matrix device: load the vfio_ap module")
