"""Read-only questions about the host a guest runs on, asked before an attach changes anything.

"Does bridge br0 exist, and is it a Linux bridge or Open vSwitch?", "is this mdev there, and is it
vfio-ccw or vfio-ap?", "is /dev/sdc a SCSI disk?" — answering these first turns what would otherwise be a
libvirt or QEMU error half-way through an attach into one sentence, with nothing changed.

`HostProbe` is the one door `plan_attach` asks through; the questions are answered by device kind in
`disk_checks`, `network_checks` and `passthrough_checks`, over one `probed_host` (which machine, which
files, which facts: `ztui.host.facts_source.facts_source_for`).
"""

from __future__ import annotations

from pathlib import Path

import libvirt

from ztui.host.facts_source import HostFacts, facts_source_for
from ztui.host.storage import HostFiles, host_files
from ztui.libvirt.connection import uri_of
from ztui.model import PciAddress
from ztui.ops.attach.disk_checks import BlockInfo, DiskChecks, disk_partitions
from ztui.ops.attach.network_checks import BridgeKind, NetworkChecks
from ztui.ops.attach.passthrough_checks import PassthroughChecks, PciInfo
from ztui.ops.attach.probed_host import Lookup, ProbedHost

__all__ = ["BlockInfo", "HostProbe", "Lookup", "PciInfo"]


class HostProbe:
    """Read-only look at one host (the connection's, plus `/sys` when that host is this machine)."""

    def __init__(self, conn: libvirt.virConnect | None, *, local: bool = True, sysfs: str = "/sys",
                 facts: HostFacts | None = None, files: HostFiles | None = None) -> None:
        self.host = ProbedHost(conn, local=local, sysfs=sysfs, facts=facts, files=files)
        self.disks = DiskChecks(self.host)
        self.network = NetworkChecks(self.host)
        self.passthrough = PassthroughChecks(self.host)

    @classmethod
    def for_connection(cls, conn: libvirt.virConnect) -> HostProbe:
        """The probe for the connection's host, as its facts source says: /sys when the host shares this
        machine's kernel and its facts are read live, its snapshot when it has one, its files through
        libvirt's storage pools unless it is in this process's mount namespace."""
        uri = uri_of(conn)
        source = facts_source_for(uri)
        return cls(conn, local=source.same_machine, facts=source.snapshot, files=host_files(conn, uri))

    @property
    def files(self) -> HostFiles:
        """The host's files (an image's path is checked there, never on the wrong machine)."""
        return self.host.files

    # --- disks ---------------------------------------------------------------------------------------------

    def dasd_problem(self, busid: str, path: str) -> str | None:
        """Why the DASD cannot back a disk at `path`; None when it can or that cannot be known."""
        return self.disks.dasd_problem(busid, path)

    def block_device(self, path: str) -> Lookup[BlockInfo]:
        """The block device at `path`, or why it is not one; unknown on a remote host."""
        return self.disks.block_device(path)

    def block_busy(self, info: BlockInfo) -> str | None:
        """Why this host itself uses the block device, else None."""
        return self.disks.block_busy(info)

    @staticmethod
    def partitions(block: Path) -> tuple[tuple[str, str], ...]:
        """The partitions of a whole disk (`block`: its sysfs directory)."""
        return disk_partitions(block)

    # --- network -------------------------------------------------------------------------------------------

    def network_problem(self, name: str) -> str | None:
        """None when the libvirt network exists and is active, else why not; None when unknowable."""
        return self.network.network_problem(name)

    def bridge_kind(self, name: str) -> BridgeKind | None:
        """`linux`, `openvswitch`, `missing`, or None when this cannot be known."""
        return self.network.bridge_kind(name)

    def interface_exists(self, name: str) -> bool | None:
        """Whether a network interface of that name exists (None: unknown)."""
        return self.network.interface_exists(name)

    # --- pass-through --------------------------------------------------------------------------------------

    def mdev_type(self, uuid: str) -> str | None:
        """The mdev's type id; '' when it exists with an unknown type; None when the host has no such mdev."""
        return self.passthrough.mdev_type(uuid)

    def pci_function(self, address: PciAddress) -> Lookup[PciInfo]:
        """The host PCI function, or why not (absent, or the host itself holds it); unknown when untold."""
        return self.passthrough.pci_function(address)
