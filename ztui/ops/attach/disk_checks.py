"""The host's checks before a disk is attached: a DASD online with a volume of its own, a block device that
is one (and whether it is SCSI underneath, so it can be a LUN), and not used by the host itself.

"Is DASD 0.0.5c3f online?", "is /dev/sdc a SCSI disk?", "is a partition of it mounted?" — asked of this
machine's /sys, /dev and mount table when the host shares its kernel, of the host's facts when it is known
by a snapshot, and not at all (unknown) on any other host.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from ztui.facts import F, alias_problem, dasd_problem, dasd_uid, is_dasd_alias, is_online
from ztui.host.files import read_system_use
from ztui.host.hostuse import HostUse, HostUseKind
from ztui.host.inventory import Inventory, build_inventory
from ztui.host.udev import host_system
from ztui.model import Fact, HostDevice, HostDeviceKind
from ztui.ops.attach.probed_host import Lookup, ProbedHost


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


_BUSID = re.compile(r"^[0-9a-f]\.[0-3]\.[0-9a-f]{4}$")


def _kernel_text(path: Path) -> str | None:
    """A sysfs attribute less its newline, None when absent."""
    try:
        return path.read_text(encoding="utf-8", errors="replace").removesuffix("\n")
    except OSError:
        return None


def disk_partitions(block: Path) -> tuple[tuple[str, str], ...]:
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


class DiskChecks:
    """DASDs and block devices of one host, as a disk attach needs them."""

    def __init__(self, host: ProbedHost) -> None:
        self.host = host

    # --- DASD ------------------------------------------------------------------------------------------

    def dasd_problem(self, busid: str, path: str) -> str | None:
        """Why the DASD `busid` cannot back a disk at `path` on this host; None when it can or when this
        cannot be known (remote host). A PAV alias is online but has no volume of its own: its base is named."""
        offline = f"DASD {busid} is not online on this host ({path} is missing; chzdev -e {busid})"
        facts = self.host.facts
        if facts is not None:
            devices: tuple[HostDevice, ...] = facts.devices
            ccw = next((d for d in devices if d.kind is HostDeviceKind.CCW and d.id == busid), None)
            if ccw is None or not ccw.driver.startswith("dasd"):
                return f"no DASD {busid} on this host"
        elif self.host.local:
            ccw = self._local_ccw(busid)
            devices = ()
            if ccw is None:
                return offline
        else:
            return None
        if is_dasd_alias(ccw):
            inv = self.host.facts_inventory()
            if inv is not None:
                return alias_problem(ccw, devices, lambda base: not inv.host_use(base))
            return alias_problem(ccw, self._local_ccws())
        problem = dasd_problem(ccw)
        if is_online(ccw) is False or (facts is not None and self._fact_block(path) is None) or \
                (facts is None and not os.path.exists(path)):
            return offline
        return f"DASD {busid}: {problem}" if problem else None

    def _local_ccw(self, busid: str) -> HostDevice | None:
        """This machine's ccw device `busid` with its DASD attributes in the kernel's words."""
        base = self.host.sysfs / "bus" / "ccw" / "devices" / busid
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
        ccws = self.host.sysfs / "bus" / "ccw" / "devices"
        for name in sorted(os.listdir(ccws)) if ccws.is_dir() else ():
            dev = self._local_ccw(name)
            if dev is not None and dasd_uid(dev):
                found.append(dev)
        return found

    # --- block devices ----------------------------------------------------------------------------------

    def block_device(self, path: str) -> Lookup[BlockInfo]:
        """The block device at `path`, or why it is not one; unknown on a remote host."""
        if self.host.facts is not None:
            return self._fact_block_device(path)
        if not self.host.local:
            return Lookup()
        try:
            info = os.stat(path)
        except OSError:
            return Lookup(problem=f"{path} does not exist on this host")
        if not stat.S_ISBLK(info.st_mode):
            return Lookup(problem=f"{path} is not a block device")
        real = os.path.realpath(path)
        majmin = f"{os.major(info.st_rdev)}:{os.minor(info.st_rdev)}"
        block = self.host.sysfs / "dev" / "block" / majmin
        return Lookup(BlockInfo(path, real, majmin, self._scsi(block), disk_partitions(block)))

    def _fact_block(self, path: str) -> HostDevice | None:
        if self.host.facts is None:
            return None
        return next((d for d in self.host.facts.devices
                     if d.kind is HostDeviceKind.BLOCK and path in d.devnodes), None)

    def _fact_block_device(self, path: str) -> Lookup[BlockInfo]:
        dev = self._fact_block(path)
        if dev is None or self.host.facts is None:
            return Lookup(problem=f"{path} is not a block device of this host")
        slaves = [s for s in dev.fact(F.SLAVES).split(",") if s]
        scsi = os.path.basename(dev.id).startswith("sd") or (
            bool(slaves) and all(os.path.basename(s).startswith("sd") for s in slaves))
        prefix = dev.sysfs_path.rstrip("/") + "/"
        parts = tuple((os.path.basename(p.id), p.fact(F.MAJMIN)) for p in self.host.facts.devices
                      if p.kind is HostDeviceKind.BLOCK and p.sysfs_path.startswith(prefix))
        return Lookup(BlockInfo(path, dev.id, dev.fact(F.MAJMIN), scsi, parts))

    def _scsi(self, block: Path) -> bool:
        if (block / "device" / "scsi_device").exists():
            return True
        slaves = block / "slaves"
        if (block / "dm").is_dir() and slaves.is_dir():
            members = list(slaves.iterdir())
            return bool(members) and all((m / "device" / "scsi_device").exists() for m in members)
        return False

    # --- the host's own use -------------------------------------------------------------------------------

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
        inv = self.host.facts_inventory()
        if inv is not None:
            dev = inv.by_path(info.path) or inv.by_path(info.realpath)
            return inv.host_use(dev) if dev is not None else HostUse()
        if not self.host.local:
            return HostUse()
        inv = self._local_block_inventory(info)
        dev = inv.by_path(info.realpath)
        return inv.host_use(dev) if dev is not None else HostUse()

    def _local_block_inventory(self, info: BlockInfo) -> Inventory:
        """The disk, its partitions, their holders and the device under the disk, as records of this
        machine's sysfs, with its mounts, swap areas and firmware (dump and IPL device) record."""

        sysfs = self.host.sysfs
        name = os.path.basename(info.realpath)
        disk_dir = os.path.realpath(sysfs / "class" / "block" / name)
        records: list[HostDevice] = []
        holders: set[str] = set()

        def block(node: str, majmin: str, devtype: str, devnodes: tuple[str, ...] = (), parent: str = "") -> None:
            sys_path = os.path.realpath(sysfs / "class" / "block" / os.path.basename(node))
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
            base = sysfs / "class" / "block" / holder
            facts = tuple(Fact(k, v, "udev") for k, v in ((F.DM_UUID, _kernel_text(base / "dm" / "uuid") or ""),
                                                          (F.DM_NAME, _kernel_text(base / "dm" / "name") or "")) if v)
            records.append(HostDevice(HostDeviceKind.BLOCK, holder, f"/dev/{holder}", facts=facts, source="udev"))
        parent = os.path.dirname(os.path.dirname(disk_dir))  # …/0.0.5c00/block/dasda → the ccw device
        busid = os.path.basename(parent)
        if _BUSID.match(busid) and os.path.basename(os.path.dirname(disk_dir)) == "block":
            records.append(HostDevice(HostDeviceKind.CCW, busid, busid, sysfs_path=parent, source="udev"))
        system = host_system(str(sysfs))
        if system is not None:
            records.append(system)
        return build_inventory(records, local=True, system=read_system_use())
