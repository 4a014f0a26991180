"""Read-only questions about the host a guest runs on, asked before an attach changes anything.

"Does bridge br0 exist, and is it a Linux bridge or Open vSwitch?", "is this mdev there, and is it
vfio-ccw or vfio-ap?", "is /dev/sdc a SCSI disk?" — answering these first turns what would otherwise be a
libvirt or QEMU error half-way through an attach into one sentence, with nothing changed.

Questions about libvirt objects (networks, node devices, host interfaces) go to the connection, so they
also work over `qemu+ssh://`. `/sys` and `/dev` are read only when the host shares this machine's kernel
(`local`); files only through `files` (`ztui.host.storage`: this machine's file system for a host in this
process's mount namespace, libvirt's storage pools for every other), so validation never checks the wrong
machine. A host whose facts are a snapshot (the lab's simulated Z hosts) answers the DASD and block-device
questions from those facts instead. Which is which comes from `ztui.host.facts_source.facts_source_for`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import libvirt

from ztui.facts import F, alias_problem, dasd_problem, dasd_uid, is_dasd_alias, is_linux_bridge, is_online
from ztui.host.facts_source import HostFacts, facts_source_for
from ztui.host.files import read_system_use
from ztui.host.hostuse import HostUse, HostUseKind
from ztui.host.inventory import Inventory, build_inventory
from ztui.host.release import Keep, Refusal, release_refusal
from ztui.host.scan import local_inventory
from ztui.host.storage import HostFiles, LocalFiles, host_files
from ztui.host.udev import host_system
from ztui.libvirt.connection import uri_of
from ztui.libvirtxml.iface import HostInterface, parse_interface
from ztui.libvirtxml.nodedev import XmlError, parse_nodedev
from ztui.model import Fact, HostDevice, HostDeviceKind, PciAddress, format_pci


@dataclass(frozen=True)
class BlockInfo:
    """A host block device as an attach needs it: its real devnode and whether it is SCSI underneath.

    `partitions` are the `major:minor` of the disk's partitions: a whole disk is busy when any of them is
    mounted or held, not only when the disk itself is."""

    path: str
    realpath: str
    majmin: str  # `major:minor`, as mountinfo names the device a file system is on
    scsi: bool  # a SCSI disk, or a device-mapper (multipath) device over SCSI paths: can be a LUN
    partitions: tuple[tuple[str, str], ...] = ()  # (name, major:minor) of each partition


T = TypeVar("T")


_BUSID = re.compile(r"^[0-9a-f]\.[0-3]\.[0-9a-f]{4}$")


def _kernel_text(path: Path) -> str | None:
    """A sysfs attribute less its newline, None when absent."""
    try:
        return path.read_text(encoding="utf-8", errors="replace").removesuffix("\n")
    except OSError:
        return None


@dataclass(frozen=True)
class Lookup(Generic[T]):
    """The answer to "what is at this name on the host?": `found` when it is there, `problem` (one
    sentence) when the host says it is not usable, neither when the host cannot be asked (remote)."""

    found: T | None = None
    problem: str = ""

    @property
    def unknown(self) -> bool:
        return self.found is None and not self.problem


@dataclass(frozen=True)
class PciInfo:
    """A host PCI function: where it is bound and whether the host has an IOMMU group for it."""

    address: str
    driver: str
    iommu_group: int | None


class HostProbe:
    """Read-only look at one host (the connection's, plus `/sys` when that host is this machine)."""

    def __init__(self, conn: libvirt.virConnect | None, *, local: bool = True, sysfs: str = "/sys",
                 facts: HostFacts | None = None, files: HostFiles | None = None) -> None:
        self.conn = conn
        self.local = local and facts is None
        self.sysfs = Path(sysfs)
        self.facts = facts
        self.files: HostFiles = files if files is not None else LocalFiles()
        self._facts_inventory: Inventory | None = None
        self._local_inventory: Inventory | None = None

    @classmethod
    def for_connection(cls, conn: libvirt.virConnect) -> HostProbe:
        """The probe for the connection's host, as its facts source says: /sys when the host shares this
        machine's kernel and its facts are read live, its snapshot when it has one, its files through
        libvirt's storage pools unless it is in this process's mount namespace."""
        uri = uri_of(conn)
        source = facts_source_for(uri)
        return cls(conn, local=source.same_machine, facts=source.snapshot, files=host_files(conn, uri))

    # --- a host known by its recorded or simulated facts ----------------------------------------------

    def dasd_problem(self, busid: str, path: str) -> str | None:
        """Why the DASD `busid` cannot back a disk at `path` on this host; None when it can or when this
        cannot be known (remote host). A PAV alias is online but has no volume of its own: its base is named."""
        offline = f"DASD {busid} is not online on this host ({path} is missing; chzdev -e {busid})"
        if self.facts is not None:
            devices: tuple[HostDevice, ...] = self.facts.devices
            ccw = next((d for d in devices if d.kind is HostDeviceKind.CCW and d.id == busid), None)
            if ccw is None or not ccw.driver.startswith("dasd"):
                return f"no DASD {busid} on this host"
        elif self.local:
            ccw = self._local_ccw(busid)
            devices = ()
            if ccw is None:
                return offline
        else:
            return None
        if is_dasd_alias(ccw):
            if self.facts is not None:
                inv = self._facts_inventory_of(self.facts)
                return alias_problem(ccw, devices, lambda base: not inv.host_use(base))
            return alias_problem(ccw, self._local_ccws())
        problem = dasd_problem(ccw)
        if is_online(ccw) is False or (self.facts is not None and self._fact_block(path) is None) or \
                (self.facts is None and not os.path.exists(path)):
            return offline
        return f"DASD {busid}: {problem}" if problem else None

    def _local_ccw(self, busid: str) -> HostDevice | None:
        """This machine's ccw device `busid` with its DASD attributes in the kernel's words."""
        base = self.sysfs / "bus" / "ccw" / "devices" / busid
        if not base.exists():
            return None
        facts = []
        for key in (F.ONLINE, F.STATUS, F.ALIAS, F.UID, F.DISCIPLINE, F.CUTYPE, F.DEVTYPE):
            text = _kernel_text(base / key)
            if text is not None:
                facts.append(Fact(key, text, "udev"))
        driver = os.path.basename(os.path.realpath(base / "driver")) if (base / "driver").exists() else ""
        return HostDevice(HostDeviceKind.CCW, busid, busid, driver=driver, facts=tuple(facts), source="udev")

    def _local_ccws(self) -> list[HostDevice]:
        """Every DASD of this machine (only read to name a PAV alias's base)."""
        found = []
        for name in sorted(os.listdir(self.sysfs / "bus" / "ccw" / "devices")) if \
                (self.sysfs / "bus" / "ccw" / "devices").is_dir() else ():
            dev = self._local_ccw(name)
            if dev is not None and dasd_uid(dev):
                found.append(dev)
        return found

    def _fact_net(self, name: str) -> HostDevice | None:
        if self.facts is None:
            return None
        return next((d for d in self.facts.devices if d.kind is HostDeviceKind.NET and d.id == name), None)

    def _fact_block(self, path: str) -> HostDevice | None:
        if self.facts is None:
            return None
        return next((d for d in self.facts.devices if d.kind is HostDeviceKind.BLOCK and path in d.devnodes), None)

    def _fact_block_device(self, path: str) -> Lookup[BlockInfo]:
        dev = self._fact_block(path)
        if dev is None or self.facts is None:
            return Lookup(problem=f"{path} is not a block device of this host")
        slaves = [s for s in dev.fact("slaves").split(",") if s]
        scsi = os.path.basename(dev.id).startswith("sd") or (
            bool(slaves) and all(os.path.basename(s).startswith("sd") for s in slaves))
        prefix = dev.sysfs_path.rstrip("/") + "/"
        parts = tuple((os.path.basename(p.id), p.fact("majmin")) for p in self.facts.devices
                      if p.kind is HostDeviceKind.BLOCK and p.sysfs_path.startswith(prefix))
        return Lookup(BlockInfo(path, dev.id, dev.fact("majmin"), scsi, parts))

    def _facts_inventory_of(self, facts: HostFacts) -> Inventory:
        """The inventory of a host known by its facts, built once for this probe."""
        if self._facts_inventory is None:
            self._facts_inventory = build_inventory(facts.devices, local=True, system=facts.system)
        return self._facts_inventory

    def _hosts_own(self, pci: str) -> Refusal | None:
        """Why the host itself keeps a PCI function (`release_refusal`: its interface is up, its disk mounted,
        the same for its IOMMU group's other members), from its facts or this machine's udev; None when nothing
        of the host holds it or that cannot be told here. Guests are the attach's own question."""
        if self.facts is not None:
            inv = self._facts_inventory_of(self.facts)
        elif self.local and self.sysfs == Path("/sys"):
            if self._local_inventory is None:  # one udev walk for the probe's life (one attach dialog)
                self._local_inventory = local_inventory()
            inv = self._local_inventory
        else:
            return None
        dev = inv.get(HostDeviceKind.PCI, pci)
        refused = release_refusal(dev, inv, {}) if dev is not None else None
        return refused if refused is not None and refused.keep is Keep.HOST else None

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
            try:
                return parse_nodedev(self.conn.nodeDeviceLookupByName(f"mdev_{uuid.replace('-', '_')}")
                                     .XMLDesc(0)).fact(F.MDEV_TYPE)
            except (libvirt.libvirtError, XmlError):
                pass
            try:  # libvirt >= 7.3 names mdevs defined through mdevctl by parent as well
                for dev in self.conn.listAllDevices(libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_MDEV):
                    with contextlib.suppress(XmlError):
                        record = parse_nodedev(dev.XMLDesc(0))
                        if record.id == uuid:
                            return record.fact(F.MDEV_TYPE)
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
        this cannot be known. /sys when the host shares this machine's kernel, else libvirt's interface
        driver and the bridges of its networks (a host known by its facts: first those)."""
        fact = self._fact_net(name)
        if fact is not None and is_linux_bridge(fact):
            return "linux"
        if not self.local:
            return self._remote_bridge(name)
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
        """Whether a network interface of that name exists (None: unknown)."""
        if self._fact_net(name) is not None:
            return True
        if not self.local:
            found = self._remote_interface(name)
            return None if found is None else bool(found)
        return (self.sysfs / "class" / "net" / name).exists()

    def _remote_interface(self, name: str) -> HostInterface | str | None:
        """The host's interface as libvirt describes it, '' when it has none, None when it cannot say."""
        if self.conn is None:
            return None
        try:
            return parse_interface(self.conn.interfaceLookupByName(name).XMLDesc(0))
        except libvirt.libvirtError as exc:
            return "" if exc.get_error_code() == libvirt.VIR_ERR_NO_INTERFACE else None
        except XmlError:
            return None

    def _remote_bridge(self, name: str) -> str | None:
        found = self._remote_interface(name)
        if isinstance(found, HostInterface) and found.type == "bridge":
            return "linux"
        if self.conn is not None:
            with contextlib.suppress(libvirt.libvirtError):
                for net in self.conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE):
                    if net.bridgeName() == name:
                        return "linux"
        if found is None:
            return None
        return "missing"

    def block_device(self, path: str) -> Lookup[BlockInfo]:
        """The block device at `path`, or why it is not one; unknown on a remote host."""
        if self.facts is not None:
            return self._fact_block_device(path)
        if not self.local:
            return Lookup()
        try:
            info = os.stat(path)
        except OSError:
            return Lookup(problem=f"{path} does not exist on this host")
        if not stat.S_ISBLK(info.st_mode):
            return Lookup(problem=f"{path} is not a block device")
        real = os.path.realpath(path)
        majmin = f"{os.major(info.st_rdev)}:{os.minor(info.st_rdev)}"
        block = self.sysfs / "dev" / "block" / majmin
        return Lookup(BlockInfo(path, real, majmin, self._scsi(block), self.partitions(block)))

    @staticmethod
    def partitions(block: Path) -> tuple[tuple[str, str], ...]:
        """The partitions of a whole disk: sysfs subdirectories that have a `partition` attribute."""
        found: list[tuple[str, str]] = []
        try:
            entries = sorted(block.iterdir())
        except OSError:
            return ()
        for entry in entries:
            try:
                if (entry / "partition").is_file():
                    found.append((entry.name, (entry / "dev").read_text().strip()))
            except OSError:
                continue
        return tuple(found)

    def block_busy(self, info: BlockInfo) -> str | None:
        """Why this host itself uses a block device (`Inventory.host_use`: a file system mounted from it or
        from a partition of it, swap, an LVM physical volume, a multipath path, the dump or IPL device),
        else None: a whole disk whose partition is in use is in use."""
        use = self.host_use_of(info)
        if not use:
            return None
        hint = " (use that device instead)" if any(r.kind in (HostUseKind.MULTIPATH, HostUseKind.LVM,
                                                             HostUseKind.HOLDER) for r in use.reasons) else ""
        return f"{info.path} is in use on this host: {use.text}{hint}"

    def host_use_of(self, info: BlockInfo) -> HostUse:
        """How the host itself uses the block device: from its facts when it is known by them, else from
        this machine's sysfs, mount table and swap areas (the disk, its partitions and their holders)."""
        if self.facts is not None:
            inv = self._facts_inventory_of(self.facts)
            dev = inv.by_path(info.path) or inv.by_path(info.realpath)
            return inv.host_use(dev) if dev is not None else HostUse()
        if not self.local:
            return HostUse()
        inv = self._local_block_inventory(info)
        dev = inv.by_path(info.realpath)
        return inv.host_use(dev) if dev is not None else HostUse()

    def _local_block_inventory(self, info: BlockInfo) -> Inventory:
        """The disk, its partitions, their holders and the device under the disk, as records of this
        machine's sysfs, with its mounts, swap areas and firmware (dump and IPL device) record."""

        name = os.path.basename(info.realpath)
        disk_dir = os.path.realpath(self.sysfs / "class" / "block" / name)
        records: list[HostDevice] = []
        holders: set[str] = set()

        def block(node: str, majmin: str, devtype: str, devnodes: tuple[str, ...] = (), parent: str = "") -> None:
            sys_path = os.path.realpath(self.sysfs / "class" / "block" / os.path.basename(node))
            held = sorted(os.listdir(os.path.join(sys_path, "holders"))) if os.path.isdir(
                os.path.join(sys_path, "holders")) else []
            holders.update(held)
            facts = ((F.MAJMIN, majmin), (F.DEVTYPE, devtype), (F.HOLDERS, ",".join(f"/dev/{h}" for h in held)))
            records.append(HostDevice(HostDeviceKind.BLOCK, os.path.basename(node), node, parent=parent,
                                      sysfs_path=sys_path, devnodes=(node, *devnodes), source="udev",
                                      facts=tuple(Fact(k, v, "udev") for k, v in facts if v)))

        block(info.realpath, info.majmin, "disk", (info.path,))
        for part, majmin in info.partitions:
            block(f"/dev/{part}", majmin, "partition", parent=name)
        for holder in sorted(holders):
            base = self.sysfs / "class" / "block" / holder
            facts = tuple(Fact(k, v, "udev") for k, v in ((F.DM_UUID, _kernel_text(base / "dm" / "uuid") or ""),
                                                          (F.DM_NAME, _kernel_text(base / "dm" / "name") or "")) if v)
            records.append(HostDevice(HostDeviceKind.BLOCK, holder, f"/dev/{holder}", facts=facts, source="udev"))
        parent = os.path.dirname(os.path.dirname(disk_dir))  # …/0.0.5c00/block/dasda → the ccw device
        busid = os.path.basename(parent)
        if _BUSID.match(busid) and os.path.basename(os.path.dirname(disk_dir)) == "block":
            records.append(HostDevice(HostDeviceKind.CCW, busid, busid, sysfs_path=parent, source="udev"))
        system = host_system(str(self.sysfs))
        if system is not None:
            records.append(system)
        return build_inventory(records, local=True, system=read_system_use())

    def _scsi(self, block: Path) -> bool:
        if (block / "device" / "scsi_device").exists():
            return True
        slaves = block / "slaves"
        if (block / "dm").is_dir() and slaves.is_dir():
            members = list(slaves.iterdir())
            return bool(members) and all((m / "device" / "scsi_device").exists() for m in members)
        return False

    def pci_function(self, address: PciAddress) -> Lookup[PciInfo]:
        """The host PCI function, or why not (it does not exist, or the host itself holds it: a managed attach
        has libvirt bind it to vfio-pci, which takes it from the host); unknown when that cannot be told."""
        text = format_pci(address.domain, address.bus, address.slot, address.function)
        kept = self._hosts_own(text)
        if kept is not None:
            return Lookup(problem=f"{kept.text}: attached, libvirt would bind it to vfio-pci and take it from the host")
        if self.local:
            base = self.sysfs / "bus" / "pci" / "devices" / text
            if not base.exists():
                return Lookup(problem=f"PCI function {text} does not exist on this host")
            driver = os.path.basename(os.path.realpath(base / "driver")) if (base / "driver").exists() else ""
            group_link = base / "iommu_group"
            group = int(os.path.basename(os.path.realpath(group_link))) if group_link.exists() else None
            return Lookup(PciInfo(text, driver, group))
        if self.conn is not None:
            name = f"pci_{text.replace(':', '_').replace('.', '_')}"
            try:
                self.conn.nodeDeviceLookupByName(name)
            except libvirt.libvirtError:
                return Lookup(problem=f"PCI function {text} does not exist on this host")
        return Lookup()
