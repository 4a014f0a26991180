"""The host's checks before a pass-through device is attached: the mdev exists and of which type (vfio-ccw
or vfio-ap), the PCI function exists and the host itself does not hold it.

A managed PCI attach has libvirt bind the function to vfio-pci, which takes it from the host: a function
whose interface is up or whose disk is mounted (or one of its IOMMU group's) is refused here, before
anything changes. libvirt's node devices answer on any host; this machine's /sys and udev only when the
host shares its kernel; a host known by its facts from those.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import libvirt

from ztui.facts import F
from ztui.host.inventory import Inventory
from ztui.host.release import Keep, Refusal, release_refusal
from ztui.host.scan import local_inventory
from ztui.libvirtxml.nodedev import XmlError, parse_nodedev
from ztui.model import HostDeviceKind, PciAddress, format_pci
from ztui.ops.attach.probed_host import Lookup, ProbedHost


@dataclass(frozen=True)
class PciInfo:
    """A host PCI function: where it is bound and whether the host has an IOMMU group for it."""

    address: str
    driver: str
    iommu_group: int | None


class PassthroughChecks:
    """Mediated devices and PCI functions of one host, as a pass-through attach needs them."""

    def __init__(self, host: ProbedHost) -> None:
        self.host = host
        self._local_inventory: Inventory | None = None

    def mdev_type(self, uuid: str) -> str | None:
        """The mdev's type id (`vfio_ccw-io`, `vfio_ap-passthrough`, …); '' when it exists with an unknown
        type; None when the host has no such mdev."""
        uuid = uuid.lower()
        conn = self.host.conn
        if conn is not None:
            try:
                return parse_nodedev(conn.nodeDeviceLookupByName(f"mdev_{uuid.replace('-', '_')}")
                                     .XMLDesc(0)).fact(F.MDEV_TYPE)
            except (libvirt.libvirtError, XmlError):
                pass
            try:  # libvirt >= 7.3 names mdevs defined through mdevctl by parent as well
                for dev in conn.listAllDevices(libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_MDEV):
                    with contextlib.suppress(XmlError):
                        record = parse_nodedev(dev.XMLDesc(0))
                        if record.id == uuid:
                            return record.fact(F.MDEV_TYPE)
            except libvirt.libvirtError:
                pass
        if self.host.local:
            link = self.host.sysfs / "bus" / "mdev" / "devices" / uuid / "mdev_type"
            if link.exists():
                return os.path.basename(os.path.realpath(link))
        return None

    def pci_function(self, address: PciAddress) -> Lookup[PciInfo]:
        """The host PCI function, or why not (it does not exist, or the host itself holds it: a managed attach
        has libvirt bind it to vfio-pci, which takes it from the host); unknown when that cannot be told."""
        text = format_pci(address.domain, address.bus, address.slot, address.function)
        kept = self._hosts_own(text)
        if kept is not None:
            return Lookup(problem=f"{kept.text}: attached, libvirt would bind it to vfio-pci and take it from the host")
        if self.host.local:
            base = self.host.sysfs / "bus" / "pci" / "devices" / text
            if not base.exists():
                return Lookup(problem=f"PCI function {text} does not exist on this host")
            driver = os.path.basename(os.path.realpath(base / "driver")) if (base / "driver").exists() else ""
            group_link = base / "iommu_group"
            group = int(os.path.basename(os.path.realpath(group_link))) if group_link.exists() else None
            return Lookup(PciInfo(text, driver, group))
        if self.host.conn is not None:
            name = f"pci_{text.replace(':', '_').replace('.', '_')}"
            try:
                self.host.conn.nodeDeviceLookupByName(name)
            except libvirt.libvirtError:
                return Lookup(problem=f"PCI function {text} does not exist on this host")
        return Lookup()

    def _hosts_own(self, pci: str) -> Refusal | None:
        """Why the host itself keeps a PCI function (`release_refusal`: its interface is up, its disk mounted,
        the same for its IOMMU group's other members), from its facts or this machine's udev; None when nothing
        of the host holds it or that cannot be told here. Guests are the attach's own question."""
        inv = self.host.facts_inventory()
        if inv is None and self.host.local and self.host.sysfs == Path("/sys"):
            if self._local_inventory is None:  # one udev walk for the checks' life (one attach dialog)
                self._local_inventory = local_inventory()
            inv = self._local_inventory
        if inv is None:
            return None
        dev = inv.get(HostDeviceKind.PCI, pci)
        refused = release_refusal(dev, inv, {}) if dev is not None else None
        return refused if refused is not None and refused.keep is Keep.HOST else None
