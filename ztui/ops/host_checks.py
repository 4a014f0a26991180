"""Read-only questions about the host a guest runs on, asked before an attach changes anything.

"Does bridge br0 exist, and is it a Linux bridge or Open vSwitch?", "is this mdev there, and is it
vfio-ccw or vfio-ap?", "is /dev/sdc a SCSI disk?" — answering these first turns what would otherwise be a
libvirt or QEMU error half-way through an attach into one sentence, with nothing changed.

Questions about libvirt objects (networks, node devices) go to the connection, so they also work over
`qemu+ssh://`. Questions only the host's `/sys` and `/dev` can answer are asked only when the connection
is local; for a remote host `local` is False and they answer "unknown" (None), so validation checks less
rather than checking the wrong machine.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import libvirt

from ztui.facts import is_local_uri
from ztui.model import PciAddress, format_pci


@dataclass(frozen=True)
class BlockInfo:
    """A host block device as an attach needs it: its real devnode and whether it is SCSI underneath."""

    path: str
    realpath: str
    majmin: str  # `major:minor`, as mountinfo names the device a file system is on
    scsi: bool  # a SCSI disk, or a device-mapper (multipath) device over SCSI paths: can be a LUN


@dataclass(frozen=True)
class PciInfo:
    """A host PCI function: where it is bound and whether the host has an IOMMU group for it."""

    address: str
    driver: str
    iommu_group: int | None


class HostProbe:
    """Read-only look at one host (the connection's, plus `/sys` when that host is this machine)."""

    def __init__(self, conn: libvirt.virConnect | None, *, local: bool = True, sysfs: str = "/sys") -> None:
        self.conn = conn
        self.local = local
        self.sysfs = Path(sysfs)

    @classmethod
    def for_connection(cls, conn: libvirt.virConnect) -> HostProbe:
        return cls(conn, local=is_local_uri(conn.getURI()))

    # --- libvirt objects (work over remote connections too) -------------------------------------------

    def network_problem(self, name: str) -> str | None:
        """None when the libvirt network exists and is active, else why not; None when unknowable."""
        if self.conn is None:
            return None
        try:
            net = self.conn.networkLookupByName(name)
        except libvirt.libvirtError:
            return f"libvirt network '{name}' does not exist on this host (virsh net-list --all)"
        if not net.isActive():
            return f"libvirt network '{name}' is not active (virsh net-start {name})"
        return None

    def mdev_type(self, uuid: str) -> str | None:
        """The mdev's type id (`vfio_ccw-io`, `vfio_ap-passthrough`, …); '' when it exists with an unknown
        type; None when the host has no such mdev."""
        uuid = uuid.lower()
        if self.conn is not None:
            for name in (f"mdev_{uuid.replace('-', '_')}",):
                try:
                    xml = self.conn.nodeDeviceLookupByName(name).XMLDesc(0)
                except libvirt.libvirtError:
                    continue
                elem = ET.fromstring(xml).find("./capability[@type='mdev']/type")
                return elem.get("id", "") if elem is not None else ""
            try:  # libvirt >= 7.3 names mdevs defined through mdevctl by parent as well
                for dev in self.conn.listAllDevices(libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_MDEV):
                    root = ET.fromstring(dev.XMLDesc(0))
                    if (root.findtext("./capability[@type='mdev']/uuid") or "").lower() == uuid:
                        elem = root.find("./capability[@type='mdev']/type")
                        return elem.get("id", "") if elem is not None else ""
            except libvirt.libvirtError:
                pass
        if self.local:
            link = self.sysfs / "bus" / "mdev" / "devices" / uuid / "mdev_type"
            if link.exists():
                return os.path.basename(os.path.realpath(link))
        return None

    # --- this machine only -----------------------------------------------------------------------------

    def bridge_kind(self, name: str) -> str | None:
        """`linux` or `openvswitch` for a bridge of that name, `missing` when there is none, None when
        this cannot be known (remote host)."""
        if not self.local:
            return None
        net = self.sysfs / "class" / "net" / name
        if (net / "bridge").is_dir():
            return "linux"
        vsctl = shutil.which("ovs-vsctl")
        if vsctl is not None:
            result = subprocess.run([vsctl, "br-exists", name], capture_output=True, check=False, timeout=10)
            if result.returncode == 0:
                return "openvswitch"
        return "missing"

    def interface_exists(self, name: str) -> bool | None:
        """Whether a network interface of that name exists (None: remote host, unknown)."""
        if not self.local:
            return None
        return (self.sysfs / "class" / "net" / name).exists()

    def block_device(self, path: str) -> BlockInfo | str | None:
        """The block device at `path`, or why it is not one (a message); None on a remote host."""
        if not self.local:
            return None
        try:
            info = os.stat(path)
        except OSError:
            return f"{path} does not exist on this host"
        if not stat.S_ISBLK(info.st_mode):
            return f"{path} is not a block device"
        real = os.path.realpath(path)
        majmin = f"{os.major(info.st_rdev)}:{os.minor(info.st_rdev)}"
        return BlockInfo(path, real, majmin, self._scsi(self.sysfs / "dev" / "block" / majmin))

    def _scsi(self, block: Path) -> bool:
        if (block / "device" / "scsi_device").exists():
            return True
        slaves = block / "slaves"
        if (block / "dm").is_dir() and slaves.is_dir():
            members = list(slaves.iterdir())
            return bool(members) and all((m / "device" / "scsi_device").exists() for m in members)
        return False

    def pci_function(self, address: PciAddress) -> PciInfo | str | None:
        """The host PCI function, or a message when it does not exist; None when unknowable."""
        text = format_pci(address.domain, address.bus, address.slot, address.function)
        if self.local:
            base = self.sysfs / "bus" / "pci" / "devices" / text
            if not base.exists():
                return f"PCI function {text} does not exist on this host"
            driver = os.path.basename(os.path.realpath(base / "driver")) if (base / "driver").exists() else ""
            group_link = base / "iommu_group"
            group = int(os.path.basename(os.path.realpath(group_link))) if group_link.exists() else None
            return PciInfo(text, driver, group)
        if self.conn is not None:
            name = f"pci_{text.replace(':', '_').replace('.', '_')}"
            try:
                self.conn.nodeDeviceLookupByName(name)
            except libvirt.libvirtError:
                return f"PCI function {text} does not exist on this host"
        return None
