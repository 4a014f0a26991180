"""The guests of the lab's simulated Z host and the block devices its running guests open.

Each guest uses the simulated host's devices the way guests on a z16 do: disks by
`/dev/disk/by-path/ccw-…`, `/dev/disk/by-id/ccw-…` and `/dev/mapper/<WWID>` (also as `device='lun'`),
macvtap on an OSA interface, a bridge over HiperSockets, a vfio-ccw mdev, a vfio-ap matrix mdev and zPCI
functions. Guests whose devices exist only in the host facts (mdevs, zPCI, the OSA and HiperSockets
interfaces) are defined, not started; the running ones use only disks, which the lab backs with loop
devices made under the simulated names inside the Z host's mount namespace (`block_nodes`), so QEMU opens
them and hotplug works on them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from ztui.lab.guests import EMULATOR, MACHINE, METADATA_NS, BootSpec, tcg_devices
from ztui.lab.zhost import DESCRIPTION, dasd_path, free_dasds, mpath_path, twin_busid

#: MiB of each loop device's sparse backing file
LOOP_MIB = 64


@dataclass(frozen=True)
class ZDisk:
    target: str
    path: str
    devno: int
    device: str = "disk"  # or lun (SCSI pass-through of a multipath LUN; needs bus scsi)


@dataclass(frozen=True)
class ZGuest:
    name: str
    running: bool
    disks: tuple[ZDisk, ...]
    interfaces: tuple[tuple[str, str], ...] = ()  # (type, source): ("direct", "encf500"), ("bridge", ...)
    mdevs: tuple[tuple[str, str], ...] = ()  # (model, uuid): ("vfio-ccw", …), ("vfio-ap", …)
    pci: tuple[str, ...] = ()  # zPCI functions passed through
    memory_mib: int = 256


def dasd_by_id(busid: str) -> str:
    """The udev by-id link of a DASD of the simulated host (its `uid`)."""
    return f"/dev/disk/by-id/ccw-IBM.750000000DXP71.{busid[-4:-2]}00.{busid[-2:]}"


LUNS = DESCRIPTION.luns
VFIO_CCW_MDEV = next(d.vfio_mdev for d in DESCRIPTION.dasds if d.vfio_mdev)
VFIO_AP_MDEV = DESCRIPTION.ap_mdev[0]

Z_GUESTS: tuple[ZGuest, ...] = (
    ZGuest("zlnx01", running=True, disks=(
        ZDisk("vda", dasd_path("0.0.5c01"), 0x0000),
        ZDisk("vdb", dasd_by_id("0.0.5c02"), 0x0001),
        ZDisk("vdc", mpath_path(LUNS[0]), 0x0002))),
    ZGuest("zlnx02", running=True, disks=(
        ZDisk("vda", dasd_path("0.0.5c05"), 0x0000),
        ZDisk("vdb", mpath_path(LUNS[1]), 0x0001))),
    ZGuest("zlnx03", running=False, disks=(
        ZDisk("vda", dasd_path("0.0.5c03"), 0x0000),
        ZDisk("sda", mpath_path(LUNS[2]), 0x0000, device="lun")),
        interfaces=(("direct", "encf500"), ("bridge", "br-hsi"))),
    ZGuest("zlnx04", running=False, disks=(
        ZDisk("vda", dasd_path("0.0.5c04"), 0x0000),
        ZDisk("vdb", dasd_path("0.0.0300"), 0x0001)),
        mdevs=(("vfio-ccw", VFIO_CCW_MDEV), ("vfio-ap", VFIO_AP_MDEV)),
        pci=("0002:00:00.0", "0003:00:00.0")),
)


Z_TWIN_GUESTS: tuple[ZGuest, ...] = (
    # defined on zlab-y on zlnx02's system volume (zlab-y's 0.0.6c05): the volume shared by two LPARs' guests
    ZGuest("zlnx07", running=False, disks=(ZDisk("vda", dasd_path(twin_busid("0.0.5c05")), 0x0000),)),
)


def block_nodes(guests: tuple[ZGuest, ...] = Z_GUESTS) -> tuple[str, ...]:
    """The block device paths that must exist inside the Z host's namespace: every disk of a running
    guest, and the free DASDs `ztui attach --dasd` may hot-plug."""
    paths = [d.path for g in guests if g.running for d in g.disks]
    paths.extend(dasd_path(b) for b in free_dasds())
    return tuple(dict.fromkeys(paths))


_BY_PATH_CCW = "/dev/disk/by-path/ccw-"


def twin_path(path: str) -> str:
    """The name zlab-y gives the block device zlab-z calls `path`: a DASD's by-path link carries the device
    number, which is the LPAR's own (`ccw-0.0.5c05` → `ccw-0.0.6c05`); a by-id link (the uid) and a multipath
    map named by its WWID are the same on both."""
    if not path.startswith(_BY_PATH_CCW):
        return path
    rest = path[len(_BY_PATH_CCW):]
    busid, sep, tail = rest.partition("-")
    return f"{_BY_PATH_CCW}{twin_busid(busid)}{sep}{tail}"


def _ccw(parent: ET.Element, devno: int) -> None:
    ET.SubElement(parent, "address", type="ccw", cssid="0xfe", ssid="0x0", devno=f"0x{devno:04x}")


def z_domain_xml(guest: ZGuest, boot: BootSpec, lab_dir: Path, *, emulator: str = EMULATOR) -> str:
    """The guest's persistent definition, for `defineXML`."""
    dom = ET.Element("domain", type="qemu")
    ET.SubElement(dom, "name").text = guest.name
    ET.SubElement(dom, "title").text = f"ztui lab guest {guest.name} on the simulated z16"
    meta = ET.SubElement(dom, "metadata")
    ET.SubElement(meta, f"{{{METADATA_NS}}}lab", {"dir": str(lab_dir)})
    ET.SubElement(dom, "memory", unit="MiB").text = str(guest.memory_mib)
    ET.SubElement(dom, "currentMemory", unit="MiB").text = str(guest.memory_mib)
    ET.SubElement(dom, "vcpu", placement="static").text = "1"
    os_el = ET.SubElement(dom, "os")
    ET.SubElement(os_el, "type", arch="s390x", machine=MACHINE).text = "hvm"
    ET.SubElement(os_el, "kernel").text = str(boot.kernel)
    devices = tcg_devices(dom, emulator)
    for disk in guest.disks:
        el = ET.SubElement(devices, "disk", type="block", device=disk.device)
        ET.SubElement(el, "driver", name="qemu", type="raw", cache="none", io="native")
        ET.SubElement(el, "source", dev=disk.path)
        ET.SubElement(el, "target", dev=disk.target, bus="scsi" if disk.device == "lun" else "virtio")
        if disk.device == "lun":
            ET.SubElement(el, "address", type="drive", controller="0", bus="0", target="0", unit="0")
        else:
            _ccw(el, disk.devno)
    if any(d.device == "lun" for d in guest.disks):
        _ccw(ET.SubElement(devices, "controller", type="scsi", index="0", model="virtio-scsi"), 0x0008)
    for n, (kind, source) in enumerate(guest.interfaces):
        el = ET.SubElement(devices, "interface", type=kind)
        ET.SubElement(el, "mac", address=f"52:54:00:7a:{int(guest.name[-2:]):02x}:{n:02x}")
        if kind == "direct":
            ET.SubElement(el, "source", dev=source, mode="bridge")
        else:
            ET.SubElement(el, "source", bridge=source)
        ET.SubElement(el, "model", type="virtio")
        _ccw(el, 0x0010 + n)
    for n, (model, uuid) in enumerate(guest.mdevs):
        el = ET.SubElement(devices, "hostdev", mode="subsystem", type="mdev", model=model, managed="no")
        src = ET.SubElement(el, "source")
        ET.SubElement(src, "address", uuid=uuid)
        if model == "vfio-ccw":
            _ccw(el, 0x0020 + n)
    for n, address in enumerate(guest.pci):
        domain, bus, rest = address.split(":")
        slot, function = rest.split(".")
        el = ET.SubElement(devices, "hostdev", mode="subsystem", type="pci", managed="yes")
        src = ET.SubElement(el, "source")
        ET.SubElement(src, "address", domain=f"0x{domain}", bus=f"0x{bus}", slot=f"0x{slot}",
                      function=f"0x{function}")
        guest_side = ET.SubElement(el, "address", type="pci", domain="0x0000", bus="0x00",
                                   slot=f"0x{n + 1:02x}", function="0x0")
        ET.SubElement(guest_side, "zpci", uid=f"0x{0x10 + n:04x}", fid=f"0x{0x10 + n:08x}")
    console = ET.SubElement(devices, "console", type="pty")
    ET.SubElement(console, "target", type="sclp", port="0")
    _ccw(ET.SubElement(devices, "memballoon", model="virtio"), 0x0030)
    return ET.tostring(dom, encoding="unicode")
