"""What could back a new device: the host's eligible, unused devices per attach kind, for the TUI wizard.

Everything comes from what ztui already knows — the host inventory (udev + node devices, and what the host
itself uses), the resolved guests, the host's networks — so offering choices costs no libvirt call, and
reads nothing of this machine for a host that is not this machine. Only devices that validation would
accept are offered, and only free ones (`ztui.host.usage.available`: no guest uses it, the host itself does
not): a DASD or block device, an mdev, a PCI function that is not a bridge; an ECKD DASD to prepare for
vfio-ccw; an active network, an existing bridge.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ztui.facts import CcwRole, F, ccw_role, is_linux_bridge, is_virtual_interface, vfio_ccw_problem
from ztui.host.inventory import Inventory
from ztui.host.release import release_refusal
from ztui.host.usage import available, eligibility, users_of
from ztui.model import Host, HostDevice, HostDeviceKind
from ztui.ops.prepare.request import preparable_here

#: the value of a candidate that is prepared first (`prepare:0.0.5c3f`: a DASD → a vfio-ccw mdev)
PREPARE_PREFIX = "prepare:"


@dataclass(frozen=True)
class Candidate:
    """One choice: the value that goes into the request and a line that explains it."""

    value: str
    label: str


def attach_candidates(inv: Inventory | None, snapshot: Host | None) -> dict[str, list[Candidate]]:
    """Attach kind (`block`, `dasd`, `net`, …) → the choices the host offers, best first."""
    out: dict[str, list[Candidate]] = {}
    if inv is None:
        return out
    known = users_of([snapshot], inv) if snapshot is not None else None
    users = known or {}

    def free(dev: HostDevice) -> bool:
        return available(dev, inv, users.get(dev.key, ()))

    blocks = [d for d in inv.of_kind(HostDeviceKind.BLOCK) if free(d) and d.id.startswith("/dev/")
              and not _partition_or_loop_unused(d)]
    out["block"] = [Candidate(_by_path(d), f"{d.id}  {d.fact(F.SIZE) or ''} {d.fact(F.MODEL) or ''}".rstrip())
                    for d in blocks]
    out["lun"] = [c for c, d in zip(out["block"], blocks, strict=True)
                  if os.path.basename(d.id).startswith(("sd", "dm-"))] or out["block"]
    dasds = [d for d in inv.of_kind(HostDeviceKind.CCW) if ccw_role(d) is CcwRole.DASD]
    out["dasd"] = [Candidate(d.id, f"{d.id}  DASD {d.fact(F.DEVTYPE)} {d.fact(F.CUTYPE)}".rstrip())
                   for d in dasds if free(d)]
    out["mdev"] = [Candidate(d.id, f"{d.id}  {d.fact(F.MDEV_TYPE) or 'mdev'} on {d.parent}")
                   for d in inv.of_kind(HostDeviceKind.MDEV) if free(d)]
    if preparable_here(inv.uri):  # a preparation writes this machine's sysfs: for its own host only
        # an offline or unformatted ECKD volume can go to a guest through vfio-ccw (the guest formats it);
        # offered only where `ztui prepare` would take it from the host (`release_refusal`)
        out["mdev"] += [Candidate(f"{PREPARE_PREFIX}{d.id}", f"DASD {d.id}  {d.fact(F.DEVTYPE)}: prepare it "
                                  "for vfio-ccw, then attach its mdev")
                        for d in dasds if not vfio_ccw_problem(d) and release_refusal(d, inv, known) is None]
    out["pci"] = [Candidate(d.id, f"{d.id}  {d.fact(F.PRODUCT) or d.name}"
                            + ("" if e.ready else "  (" + "; ".join(e.missing[:1]) + ")"))
                  for d in inv.of_kind(HostDeviceKind.PCI) if free(d)
                  and (e := eligibility(d, inv, known)) is not None]
    out["net"] = [Candidate(n.name, f"{n.name}  {n.forward_mode or 'isolated'} {n.bridge}".rstrip())
                  for n in inv.networks if n.active is not False]
    nets = inv.of_kind(HostDeviceKind.NET)
    bridges = _bridges(inv)
    out["bridge"] = [Candidate(d.id, f"{d.id}  bridge") for d in nets if d.id in bridges]
    out["macvtap"] = [Candidate(d.id, f"{d.id}  {d.fact(F.CARD_KIND) or d.driver or 'interface'}")
                      for d in nets if d.id != "lo" and d.id not in bridges and not _virtual(d)]
    return {k: sorted(v, key=lambda c: c.value) for k, v in out.items() if v}


def _by_path(dev: HostDevice) -> str:
    """The stable name of a block device (`/dev/disk/by-path/ccw-0.0.5c3f`, by-id) when udev knows one."""
    for link in dev.devnodes:
        if link.startswith(("/dev/disk/by-path/ccw-", "/dev/disk/by-id/dm-uuid-mpath-", "/dev/mapper/")):
            return link
    return dev.id


def _partition_or_loop_unused(dev: HostDevice) -> bool:
    """An unattached loop device (no backing file) is no disk."""
    return os.path.basename(dev.id).startswith("loop") and not dev.fact(F.LOOP_BACKING_FILE)


def _bridges(inv: Inventory) -> set[str]:
    """The host's bridges as its inventory knows them: udev's `bridge` fact where the host shares this
    machine's kernel, the bridges of its libvirt networks on any host — never this machine's /sys for a
    host that is not this machine."""
    found = {n.bridge for n in inv.networks if n.bridge}
    found.update(d.id for d in inv.of_kind(HostDeviceKind.NET) if is_linux_bridge(d))
    return found


def _virtual(dev: HostDevice) -> bool:
    """tap, veth, macvtap and other devices without hardware behind them (no sysfs `device` link)."""
    name = dev.id
    if name.startswith(("vnet", "tap", "macvtap", "virbr")):
        return True
    return is_virtual_interface(dev) and not dev.fact(F.CARD_TYPE)
