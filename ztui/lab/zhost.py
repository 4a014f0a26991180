"""The lab's simulated IBM z16 host: its host facts, generated from a compact description of one LPAR.

This machine has no DASD, no FCP channel and no OSA card, yet what ztui is for is showing such devices
behind guest devices. The lab's Z host is therefore a real libvirt daemon whose *host facts* (see
`ztui.host.facts_source`) describe a z16 LPAR instead of this machine. The records are those `ztui.host.udev`
reads on a real Z host, laid out as the kernel lays out sysfs (drivers/s390/cio: `css0/<subchannel>/
<ccw device>`, `css0/chp0.<id>`; drivers/s390/block/dasd_devmap.c: `online`, `alias`, `status`, `uid`,
`discipline`; drivers/s390/scsi/zfcp_sysfs.c: `hba_id`, `wwpn`, `fcp_lun`, `peer_wwpn`;
drivers/s390/net/qeth_core_sys.c: `card_type`, `chpid`, `layer2`, `if_name`, `state`; drivers/s390/crypto:
`cardNN/NN.DDDD`, vfio_ap's `matrix`; arch/s390/pci/pci_sysfs.c: `uid`, `function_id`, `pchid`, `pft`;
drivers/vfio/mdev; arch/s390/kernel/ipl.c: the dump and IPL devices). Every attribute is written in the
kernel's words by its writer in `ztui.zsysfs` — the same description `ztui.host.udev` reads with — so the
simulated host cannot say what a real one would not. Only the values are invented.

Like a real LPAR, the host uses some of its DASDs itself: its root file system and swap are on the first
one (IPLed from it), a volume group with /home on another, and dumpconf's dump device is a third; its
mount table and swap areas say so.

`DESCRIPTION` is the whole configuration; `z_host_facts()` turns it into records. The lab writes them next
to the Z host's libvirt socket, where ztui finds them by itself, and creates loop devices under the block
device names the running guests use, inside that host's mount namespace only (`block_nodes`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from ztui import zsysfs as kernel
from ztui.host.facts_source import FactsOrigin, HostFacts
from ztui.host.system import Mount, Swap
from ztui.model import Fact, HostDevice, HostDeviceKind, MdevType
from ztui.zsysfs import Attr, DasdUid, PathMasks, ap_card, chp_name

HOSTNAME = "zlab-z"
DESCRIPTION_TEXT = "IBM z16 LPAR (simulated host facts)"

#: FCP LUNs of the storage system, each reached through both FCP channels (two paths per LUN)
STORAGE_WWPNS = ("0x500507630300c562", "0x500507630310c562")
WWID_PREFIX = "36005076303ffc562000000000000"


@dataclass(frozen=True)
class Dasd:
    busid: str
    subchannel: str
    chpids: tuple[str, ...] = ("05", "06")
    fba: bool = False
    online: bool = True
    alias: bool = False  # a HyperPAV alias: a path for I/O to its base devices, no block device
    unformatted: bool = False
    partitions: int = 1
    cylinders: int = 10017  # 3390-9
    vfio_mdev: str = ""  # the subchannel is bound to vfio_ccw, this mdev on it (the DASD then hidden)
    vfio_free: bool = False  # bound to vfio_ccw, no mdev yet
    host: str = ""  # the host's own use: ROOT (/ and swap; the IPL device), LVM (a PV of /home), DUMP
    unit: str = ""  # the volume, by the bus-ID zlab-z gives it: another LPAR sees it under its own number
    spare: bool = False  # used by no lab guest nor the host: what `ztui attach --dasd` may hot-plug

    @property
    def volume(self) -> str:
        """The volume behind the device number: its uid's LCU and unit address (`dasd_uid`)."""
        return self.unit or self.busid

    @property
    def volser(self) -> str:
        return f"ZL{self.volume[-4:].upper()}"


@dataclass(frozen=True)
class Lun:
    lun: str  # FCP LUN, `0x4001400000000000`
    size_gib: int = 20

    @property
    def wwid(self) -> str:
        """The SCSI WWID (NAA 6, IBM DS8000 style, 33 characters) multipath and udev's scsi_id name the LUN by:
        the designator type (3, NAA), then the identifier in hex."""
        index = (int(self.lun[4:6], 16) - 1) * 256 + int(self.lun[8:10], 16)
        return f"{WWID_PREFIX}{0x1000 + index:04x}"

    @property
    def naa(self) -> str:
        """The same identifier as the kernel writes it in the SCSI device's `wwid` (`naa.%16phN`)."""
        return "naa." + self.wwid[1:]


@dataclass(frozen=True)
class Qeth:
    busid: str  # the first of three
    card_type: str  # OSD_10GIG, OSD_1000, HiperSockets
    chpid: str
    if_name: str
    layer2: bool = True
    subchannel_base: int = 0x100


@dataclass(frozen=True)
class Zpci:
    address: str  # dddd:bb:ss.f
    uid: int
    fid: int
    pchid: int
    pft: int
    vendor: str
    device: str
    klass: str
    driver: str
    what: str
    net: str = ""
    nvme: str = ""


@dataclass(frozen=True)
class ApQueue:
    queue: str  # `03.0005`
    driver: str  # vfio_ap or cex4queue


@dataclass(frozen=True)
class Description:
    dasds: tuple[Dasd, ...]
    fcp_channels: tuple[tuple[str, str, str, str], ...]  # (bus-ID, subchannel, CHPID, NPIV WWPN)
    luns: tuple[Lun, ...]
    qeth: tuple[Qeth, ...]
    bridges: tuple[tuple[str, str], ...]  # (bridge, port)
    chpids: tuple[tuple[str, str, str], ...]  # (CHPID, type, status)
    ap_cards: tuple[tuple[str, str, int], ...]  # (card, type, hwtype)
    ap_queues: tuple[ApQueue, ...]
    ap_mdev: tuple[str, tuple[str, ...]]  # (uuid, queues)
    zpci: tuple[Zpci, ...]
    extra: dict[str, int] = field(default_factory=dict)
    scsi_host: int = 0  # the first SCSI host number of the FCP channels (`host0`): per LPAR
    first_sd: int = 0  # the first `sdX` letter of their LUNs' paths


#: how the host itself uses a DASD (`Dasd.host`)
ROOT, LVM, DUMP = "root", "lvm", "dump"
HOST_VG, HOST_LV = "vg_data", "lv_home"

DESCRIPTION = Description(
    dasds=(
        Dasd("0.0.5c00", "0.0.0000", partitions=2, host=ROOT),  # the host's system volume: / and swap
        Dasd("0.0.5c01", "0.0.0001"),
        Dasd("0.0.5c02", "0.0.0002"),
        Dasd("0.0.5c03", "0.0.0003", chpids=("05", "07")),
        Dasd("0.0.5c04", "0.0.0004"),
        Dasd("0.0.5c05", "0.0.0005"),
        Dasd("0.0.5c06", "0.0.0006", spare=True),
        Dasd("0.0.5c07", "0.0.0007", spare=True),
        Dasd("0.0.5c08", "0.0.0008", spare=True),
        Dasd("0.0.5c09", "0.0.0009", spare=True),
        Dasd("0.0.5c0f", "0.0.000f", unformatted=True, partitions=0),
        Dasd("0.0.5c20", "0.0.0020", online=False),
        Dasd("0.0.5cfe", "0.0.00fe", alias=True, partitions=0),
        Dasd("0.0.0300", "0.0.0030", chpids=("08",), fba=True),
        Dasd("0.0.5d00", "0.0.0040", vfio_mdev="9c8f0fe3-0c6b-4a2c-8a3c-1b2b3c4d5e6f"),
        Dasd("0.0.5d01", "0.0.0041", vfio_free=True),
        Dasd("0.0.5c0a", "0.0.000a", host=LVM),  # the physical volume of the host's /home
        Dasd("0.0.5c0b", "0.0.000b", host=DUMP),  # dumpconf's dump device
    ),
    fcp_channels=(("0.0.1700", "0.0.0050", "50", "0xc05076ffe5005611"),
                  ("0.0.1780", "0.0.0051", "51", "0xc05076ffe5005691")),
    luns=(Lun("0x4001400000000000"), Lun("0x4001400100000000"), Lun("0x4001400200000000", 50),
          Lun("0x4001400300000000", 10)),
    qeth=(Qeth("0.0.f500", "OSD_10GIG", "0c", "encf500", subchannel_base=0x60),
          Qeth("0.0.f600", "OSD_1000", "0d", "encf600", layer2=False, subchannel_base=0x63),
          Qeth("0.0.7000", "HiperSockets", "f4", "enc7000", subchannel_base=0x66)),
    bridges=(("br-hsi", "enc7000"),),
    chpids=(("05", "1a", "online"), ("06", "1a", "online"), ("07", "1a", "offline"), ("08", "1a", "online"),
            ("50", "25", "online"), ("51", "25", "online"), ("0c", "11", "online"), ("0d", "11", "online"),
            ("f4", "24", "online")),
    ap_cards=(("03", "CEX8C", 14), ("04", "CEX8A", 14)),
    ap_queues=(ApQueue("03.0005", "vfio_ap"), ApQueue("03.0006", "vfio_ap"), ApQueue("04.0005", "vfio_ap"),
               ApQueue("04.0006", "vfio_ap"), ApQueue("03.0001", "cex4queue"), ApQueue("04.0001", "cex4queue")),
    ap_mdev=("4b4c5e2a-7d62-4f5b-8d1e-0a1b2c3d4e5f", ("03.0005", "03.0006", "04.0005", "04.0006")),
    zpci=(Zpci("0001:00:00.0", 0x1, 0x38, 0x1c4, 0x0a, "0x15b3", "0x101e", "0x020000", "mlx5_core",
               "RoCE Express3", net="eno1"),
          Zpci("0002:00:00.0", 0x2, 0x39, 0x1c8, 0x0a, "0x15b3", "0x101e", "0x020000", "vfio-pci",
               "RoCE Express3"),
          Zpci("0003:00:00.0", 0x3, 0x40, 0x1e0, 0x0d, "0x144d", "0xa824", "0x010802", "vfio-pci", "NVMe"),
          Zpci("0004:00:00.0", 0x4, 0x41, 0x000, 0x05, "0x1014", "0x04ed", "0x070000", "ism", "ISM")),
)


TWIN_HOSTNAME = "zlab-y"


def twin_busid(busid: str) -> str:
    """zlab-y's device number for a volume zlab-z sees as `busid`: its I/O definition puts zlab-z's DASDs
    of LCU 5c and 5d at 6c and 6d (`0.0.5c05` → `0.0.6c05`); anything else it numbers as zlab-z does."""
    head, devno = busid.rsplit(".", 1)
    if devno[:2] in ("5c", "5d"):
        return f"{head}.{int(devno[:2], 16) + 0x10:02x}{devno[2:]}"
    return busid


def twin_description(desc: Description = DESCRIPTION) -> Description:
    """A second LPAR of the same machine, as its own I/O definition shows it: the shared DASDs under other
    device numbers (`twin_busid`) and subchannels, the same LUNs behind FCP channels of its own (other device
    numbers, subchannels, CHPIDs, NPIV WWPNs, SCSI host numbers) — the same uids and WWIDs, since the storage
    says them —, and system volumes of its own (root, /home, dump) that zlab-z does not see."""
    dasds = []
    for d in desc.dasds:
        if d.host:  # the LPAR's own system volumes: on an LCU of its own (5e), not shared
            busid = f"0.0.6e{d.busid[-2:]}"
            dasds.append(replace(d, busid=busid, subchannel=f"0.0.01{d.subchannel[-2:]}", unit=f"0.0.5e{d.busid[-2:]}"))
        elif d.fba:
            dasds.append(replace(d, busid="0.0.0310", subchannel="0.0.0130"))
        else:
            dasds.append(replace(d, busid=twin_busid(d.busid), subchannel=f"0.0.01{d.subchannel[-2:]}", unit=d.busid,
                                 vfio_mdev="", vfio_free=d.vfio_free))
    return replace(desc, dasds=tuple(dasds),
                   fcp_channels=(("0.0.1900", "0.0.0150", "52", "0xc05076ffe5005711"),
                                 ("0.0.1980", "0.0.0151", "53", "0xc05076ffe5005791")),
                   chpids=(*desc.chpids, ("52", "25", "online"), ("53", "25", "online")),
                   qeth=tuple(replace(q, layer2=True) for q in desc.qeth),
                   scsi_host=2, first_sd=8)


TWIN_DESCRIPTION = twin_description()


# --- records ----------------------------------------------------------------------------------------------


class _Dev:
    """One record under construction: facts in the order udev reads them. Attributes of the kernel go in
    through their writers (`put`); udev's properties and ztui's own facts as text (`set`, empty left out)."""

    def __init__(self, kind: HostDeviceKind, sysfs: str, name: str, ident: str = "", driver: str = "",
                 parent: str = "") -> None:
        self.kind, self.sysfs, self.name, self.id = kind, sysfs, name, ident or name
        self.driver, self.parent = driver, parent
        self.facts: list[Fact] = []
        self.devnodes: tuple[str, ...] = ()
        self.mdev_types: tuple[MdevType, ...] = ()
        self.iommu_group: int | None = None

    def put(self, attr: Attr[Any], value: Any, key: str = "") -> _Dev:
        """The attribute as the kernel writes it (an empty value kept: the file is there, and empty)."""
        self.facts.append(Fact(key or attr.name, attr.write(value), "udev"))
        return self

    def set(self, **facts: str) -> _Dev:
        self.facts.extend(Fact(k, v, "udev") for k, v in facts.items() if v)
        return self

    def done(self) -> HostDevice:
        return HostDevice(kind=self.kind, name=self.name, id=self.id, parent=self.parent, driver=self.driver,
                          sysfs_path=self.sysfs, devnodes=self.devnodes, mdev_types=self.mdev_types,
                          iommu_group=self.iommu_group, facts=tuple(self.facts), source="udev")


def _letters(n: int) -> str:
    """dasd naming: a..z, aa..zz (drivers/s390/block/dasd_genhd.c)."""
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(ord("a") + r) + out
    return out


def _chp_records(desc: Description) -> Iterator[HostDevice]:
    """The channel paths (`css0/chp0.<id>`), as lschp lists them: varied online or offline, configured."""
    for n, (chpid, kind, status) in enumerate(desc.chpids):
        number = int(chpid, 16)
        dev = _Dev(HostDeviceKind.CHPID, f"/sys/devices/css0/{chp_name(0, number)}", chp_name(0, number),
                   f"0.{chpid}")
        yield (dev.put(kernel.ChannelPath.status, status == "online").put(kernel.ChannelPath.configure, 1)
               .put(kernel.ChannelPath.type, int(kind, 16)).put(kernel.ChannelPath.chid, f"{0x0100 + n * 4:04x}")
               .put(kernel.ChannelPath.chid_external, "1").done())


def _subchannel(sch: str, chpids: tuple[str, ...], *, driver: str = "io_subchannel", busid: str = "") -> _Dev:
    pim = 0
    for i in range(len(chpids)):
        pim |= 0x80 >> i
    dev = _Dev(HostDeviceKind.CSS, f"/sys/devices/css0/{sch}", sch, driver=driver)
    # every installed path available and operational; a CHPID varied offline is its channel path's state
    dev.put(kernel.Subchannel.type, 0).put(kernel.Subchannel.chpids, tuple(int(c, 16) for c in chpids))
    dev.put(kernel.Subchannel.pimpampom, PathMasks(pim, pim, pim)).put(kernel.Subchannel.dev_busid, busid)
    dev.put(kernel.Subchannel.driver_override, "vfio_ccw" if driver == "vfio_ccw" else "")
    dev.set(ccw_device=busid if driver == "io_subchannel" else "")
    if driver == "vfio_ccw":
        dev.mdev_types = (MdevType("vfio_ccw-io", "I/O subchannel (Non-QDIO)", "vfio-ccw", 1),)
    return dev


def dasd_uid(d: Dasd) -> DasdUid:
    """The volume's uid (dasd_eckd.c `create_uid`): one storage system, one LCU per 256 devices; the same
    for the volume on every LPAR, whatever device number that LPAR gives it."""
    return DasdUid("IBM", "750000000DXP71", f"{d.volume[-4:-2]}00", "xx" if d.alias else d.volume[-2:])


def _dasd_records(d: Dasd, index: int, lvm_dm: int = 0) -> Iterator[HostDevice]:
    """`lvm_dm`: the number of the host's logical volume (`dm-N`), which holds an LVM DASD's partition."""
    if d.vfio_mdev or d.vfio_free:
        sch = _subchannel(d.subchannel, d.chpids, driver="vfio_ccw", busid=d.busid)
        if d.vfio_mdev:
            sch.mdev_types = (MdevType("vfio_ccw-io", "I/O subchannel (Non-QDIO)", "vfio-ccw", 0),)
        yield sch.done()
        if d.vfio_mdev:
            mdev = _Dev(HostDeviceKind.MDEV, f"{sch.sysfs}/{d.vfio_mdev}", d.vfio_mdev, driver="vfio_ccw_mdev",
                        parent=d.subchannel)
            mdev.iommu_group = 40 + index
            yield mdev.set(mdev_type="vfio_ccw-io").done()
        return  # vfio_ccw holds the subchannel: the ccw device below it does not exist for the host
    yield _subchannel(d.subchannel, d.chpids, busid=d.busid).done()
    driver = "dasd-fba" if d.fba else "dasd-eckd"
    # an offline DASD has no dasd_device: status `unknown`, discipline `none`, an empty uid (dasd_devmap.c);
    # FBA has no uid at all
    uid = dasd_uid(d) if d.online and not d.fba else DasdUid()
    ccw = _Dev(HostDeviceKind.CCW, f"/sys/devices/css0/{d.subchannel}/{d.busid}", d.busid, driver=driver,
               parent=d.subchannel)
    status = "unknown" if not d.online else "unformatted" if d.unformatted else "online"
    ccw.put(kernel.CcwDevice.cutype, "6310/80" if d.fba else "3990/e9")
    ccw.put(kernel.CcwDevice.devtype, "9336/10" if d.fba else "3390/0c")
    ccw.put(kernel.CcwDevice.online, d.online).put(kernel.CcwDevice.availability, "good")
    ccw.put(kernel.Dasd.status, status)
    ccw.put(kernel.Dasd.discipline, "" if not d.online else "FBA" if d.fba else "ECKD")
    ccw.put(kernel.Dasd.readonly, False).put(kernel.Dasd.uid, uid).put(kernel.Dasd.alias, d.alias)
    ccw.put(kernel.Dasd.raw_track_access, False).put(kernel.Dasd.ese, False).put(kernel.Dasd.use_diag, False)
    ccw.set(role="dasd")
    yield ccw.done()
    if not d.online or d.alias:
        return
    name = f"dasd{_letters(index)}"
    sectors = 0 if d.unformatted else (d.cylinders * 15 * 12 * 4096 // 512 if not d.fba else 2_097_152)
    by_id = () if d.unformatted or not uid else (f"/dev/disk/by-id/ccw-{uid.text}",)
    block = _Dev(HostDeviceKind.BLOCK, f"{ccw.sysfs}/block/{name}", f"/dev/{name}")
    block.devnodes = (f"/dev/{name}", f"/dev/disk/by-path/ccw-{d.busid}", *by_id)
    block.set(devtype="disk", majmin=f"94:{index * 4}", size=str(sectors), ro="0")
    yield block.done()
    for p in range(1, d.partitions + 1):
        part = _Dev(HostDeviceKind.BLOCK, f"{block.sysfs}/{name}{p}", f"/dev/{name}{p}")
        part.devnodes = (f"/dev/{name}{p}", f"/dev/disk/by-path/ccw-{d.busid}-part{p}",
                         *(f"{link}-part{p}" for link in by_id))
        size = (sectors - 192) // d.partitions
        part.set(devtype="partition", majmin=f"94:{index * 4 + p}", size=str(size), ro="0", partition=str(p),
                 fs_type=_fs_type(d, p),
                 holders=f"/dev/dm-{lvm_dm}" if d.host == LVM and p == 1 else "")
        yield part.done()


def _fs_type(d: Dasd, partition: int) -> str:
    """What blkid finds on a partition (udev's ID_FS_TYPE)."""
    if d.host == ROOT:
        return "ext4" if partition == 1 else "swap"
    if d.host == LVM:
        return "LVM2_member"
    return "" if d.host == DUMP else "xfs"


def linux_lun(fcp_lun: str) -> int:
    """The Linux SCSI LUN number of an FCP LUN (the inverse of the kernel's `int_to_scsilun` mapping)."""
    value = int(fcp_lun, 16)
    out = 0
    for word in range(4):
        out |= ((value >> (16 * (3 - word))) & 0xFFFF) << (16 * word)
    return out


def _zfcp_records(desc: Description, first_sd: int) -> Iterator[HostDevice]:
    paths: dict[str, list[str]] = {lun.lun: [] for lun in desc.luns}
    sd = first_sd
    for n, (busid, sch, chpid, npiv) in enumerate(desc.fcp_channels):
        host_no = desc.scsi_host + n
        yield _subchannel(sch, (chpid,), busid=busid).done()
        ccw = _Dev(HostDeviceKind.CCW, f"/sys/devices/css0/{sch}/{busid}", busid, driver="zfcp", parent=sch)
        ccw.put(kernel.CcwDevice.cutype, "1731/03").put(kernel.CcwDevice.devtype, "1732/03")
        ccw.put(kernel.CcwDevice.online, True)
        ccw.put(kernel.CcwDevice.availability, "good").set(role="fcp")
        ccw.put(kernel.Zfcp.peer_wwpn, 0).put(kernel.Zfcp.in_recovery, False).put(kernel.Zfcp.failed, False)
        yield ccw.done()
        host = _Dev(HostDeviceKind.SCSI_HOST, f"{ccw.sysfs}/host{host_no}", f"host{host_no}")
        host.set(unique_id=str(int(busid[-4:], 16)))
        host.put(kernel.FcHost.port_type, "NPIV VPORT").put(kernel.FcHost.port_name, int(npiv, 16))
        host.put(kernel.FcHost.permanent_port_name, 0xC05076FFE5000000 + host_no)
        host.put(kernel.FcHost.port_state, "Online")
        yield host.done()
        wwpn = STORAGE_WWPNS[n % len(STORAGE_WWPNS)]
        for lun in desc.luns:
            hctl = f"{host_no}:0:0:{linux_lun(lun.lun)}"
            base = f"{host.sysfs}/rport-{host_no}:0-0/target{host_no}:0:0/{hctl}"
            scsi = _Dev(HostDeviceKind.SCSI, base, hctl, driver="sd")
            scsi.put(kernel.ZfcpLun.hba_id, busid).put(kernel.ZfcpLun.wwpn, int(wwpn, 16))
            scsi.put(kernel.ZfcpLun.fcp_lun, int(lun.lun, 16))
            scsi.set(vendor="IBM", model="2107900", state="running")
            scsi.put(kernel.ZfcpLun.zfcp_access_denied, False).put(kernel.ZfcpLun.zfcp_failed, False)
            scsi.put(kernel.ZfcpLun.zfcp_in_recovery, False).put(kernel.FcHost.rport_state, "Online", "rport_state")
            scsi.put(kernel.ScsiId.wwid, lun.naa)
            yield scsi.set(scsi_type="0").done()
            name = f"sd{_letters(sd)}"
            block = _Dev(HostDeviceKind.BLOCK, f"{base}/block/{name}", f"/dev/{name}")
            block.devnodes = (f"/dev/{name}", f"/dev/disk/by-path/ccw-{busid}-fc-{wwpn}-lun-{lun.lun}")
            block.set(devtype="disk", majmin=f"8:{(sd) * 16}", size=str(lun.size_gib * 2 * 1024 * 1024),
                      ro="0", holders=f"/dev/dm-{desc.luns.index(lun)}", serial=lun.wwid)
            yield block.done()
            paths[lun.lun].append(f"/dev/{name}")
            sd += 1
    for n, lun in enumerate(desc.luns):
        dm = _Dev(HostDeviceKind.BLOCK, f"/sys/devices/virtual/block/dm-{n}", f"/dev/dm-{n}")
        dm.devnodes = (f"/dev/dm-{n}", f"/dev/mapper/{lun.wwid}", f"/dev/disk/by-id/dm-uuid-mpath-{lun.wwid}",
                       f"/dev/disk/by-id/dm-name-{lun.wwid}", f"/dev/disk/by-id/scsi-{lun.wwid}")
        dm.set(devtype="disk", majmin=f"253:{n}", size=str(lun.size_gib * 2 * 1024 * 1024), ro="0",
               dm_name=lun.wwid, dm_uuid=f"mpath-{lun.wwid}", slaves=",".join(paths[lun.lun]), serial=lun.wwid)
        yield dm.done()


def _qeth_records(q: Qeth) -> Iterator[HostDevice]:
    prefix, first = q.busid[:-4], int(q.busid[-4:], 16)
    members = [f"{prefix}{first + i:04x}" for i in range(3)]
    for i, member in enumerate(members):
        sch = f"0.0.{q.subchannel_base + i:04x}"
        yield _subchannel(sch, (q.chpid,), busid=member).done()
        ccw = _Dev(HostDeviceKind.CCW, f"/sys/devices/css0/{sch}/{member}", member, driver="qeth", parent=sch)
        hipersockets = q.card_type == "HiperSockets"
        ccw.put(kernel.CcwDevice.cutype, "1731/05" if hipersockets else "1731/01")
        ccw.put(kernel.CcwDevice.devtype, "1732/05" if hipersockets else "1732/01")
        ccw.put(kernel.CcwDevice.online, True).put(kernel.CcwDevice.availability, "good")
        ccw.set(role="qeth", group_device=q.busid)
        yield ccw.done()
    kind = "HiperSockets" if q.card_type == "HiperSockets" else "OSA"
    group = _Dev(HostDeviceKind.CCWGROUP, f"/sys/devices/qeth/{q.busid}", q.busid, driver="qeth")
    group.put(kernel.CcwGroup.card_type, q.card_type).set(card_kind=kind)
    group.put(kernel.CcwGroup.if_name, q.if_name).put(kernel.CcwGroup.chpid, int(q.chpid, 16))
    group.put(kernel.CcwGroup.layer2, 1 if q.layer2 else 0).put(kernel.CcwGroup.state, "UP (LAN ONLINE)")
    group.put(kernel.CcwGroup.online, True).put(kernel.CcwGroup.portno, 0)
    if q.layer2:
        group.put(kernel.CcwGroup.bridge_role, "none")
    yield group.set(ccw_devices=",".join(members)).done()
    net = _Dev(HostDeviceKind.NET, f"{group.sysfs}/net/{q.if_name}", q.if_name, driver="qeth")
    mac = f"02:00:00:{int(q.chpid, 16):02x}:{first >> 8:02x}:{first & 0xff:02x}"
    net.set(devtype="", address=mac, operstate="up", master="br-hsi" if q.card_type == "HiperSockets" else "")
    yield net.done()


def _ap_records(desc: Description) -> Iterator[HostDevice]:
    for card, ctype, hwtype in desc.ap_cards:
        name = ap_card(int(card, 16))
        dev = _Dev(HostDeviceKind.AP_CARD, f"/sys/devices/ap/{name}", name, driver="cex4card")
        functions = 0x92000000 if ctype.endswith("C") else 0x88000000  # CCA coprocessor or accelerator
        dev.put(kernel.ApCard.type, ctype).put(kernel.ApCard.hwtype, hwtype).put(kernel.ApCard.raw_hwtype, hwtype)
        dev.put(kernel.ApCard.online, True).put(kernel.ApCard.ap_functions, functions)
        yield dev.put(kernel.ApCard.config, True).put(kernel.ApCard.depth, 8).put(kernel.ApCard.chkstop, False).done()
    for q in desc.ap_queues:
        card = ap_card(int(q.queue.split(".")[0], 16))
        dev = _Dev(HostDeviceKind.AP_QUEUE, f"/sys/devices/ap/{card}/{q.queue}", q.queue, driver=q.driver)
        dev.put(kernel.ApQueue.online, True).put(kernel.ApQueue.config, True)
        yield dev.put(kernel.ApQueue.chkstop, False).done()
    matrix = _Dev(HostDeviceKind.AP_MATRIX, "/sys/devices/vfio_ap/matrix", "matrix", driver="vfio_ap")
    matrix.mdev_types = (MdevType("vfio_ap-passthrough", "VFIO AP Passthrough Device", "vfio-ap", 65535),)
    yield matrix.done()
    uuid, queues = desc.ap_mdev
    adapters = frozenset(int(q.split(".")[0], 16) for q in queues)
    domains = frozenset(int(q.split(".")[1], 16) for q in queues)
    assigned = kernel.ApMatrix(adapters, domains, frozenset((a, d) for a in adapters for d in domains))
    mdev = _Dev(HostDeviceKind.MDEV, f"{matrix.sysfs}/{uuid}", uuid, driver="vfio_ap_mdev", parent="matrix")
    mdev.iommu_group = 60
    # every assigned queue is bound to vfio_ap, so the guest gets all of it (`guest_matrix`)
    mdev.set(mdev_type="vfio_ap-passthrough").put(kernel.VfioAp.matrix, assigned)
    yield mdev.put(kernel.VfioAp.guest_matrix, assigned).put(kernel.VfioAp.control_domains, frozenset()).done()


def _zpci_records(desc: Description) -> Iterator[HostDevice]:
    for n, z in enumerate(desc.zpci):
        domain = z.address.split(":")[0]
        dev = _Dev(HostDeviceKind.PCI, f"/sys/devices/pci{domain}:00/{z.address}", z.address, driver=z.driver)
        dev.iommu_group = n
        dev.set(vendor=z.vendor, device=z.device, **{"class": z.klass})
        dev.put(kernel.Zpci.uid, z.uid).put(kernel.Zpci.function_id, z.fid).put(kernel.Zpci.pchid, z.pchid)
        dev.put(kernel.Zpci.pft, z.pft).put(kernel.Zpci.port, 1).put(kernel.Zpci.uid_is_unique, True)
        dev.put(kernel.Zpci.vfn, 1 if z.what.startswith("RoCE") else 0)
        dev.put(kernel.Subchannel.driver_override, "")
        yield dev.set(net=z.net, product=z.what).done()
        if z.net:
            net = _Dev(HostDeviceKind.NET, f"{dev.sysfs}/net/{z.net}", z.net, driver=z.driver)
            yield net.set(address=f"82:00:00:00:00:{z.fid:02x}", operstate="up").done()


def _bridge_records(desc: Description) -> Iterator[HostDevice]:
    for bridge, port in desc.bridges:
        dev = _Dev(HostDeviceKind.NET, f"/sys/devices/virtual/net/{bridge}", bridge, driver="bridge")
        yield dev.set(devtype="bridge", address="02:00:00:f4:70:00", operstate="up", bridge="yes",
                      bridge_ports=port, virtual="yes").done()


def _host_storage_records(desc: Description, lvm_index: int) -> Iterator[HostDevice]:
    """The host's own logical volume (/home), on the LVM DASD's first partition."""
    lvm = next((d for d in desc.dasds if d.host == LVM), None)
    if lvm is None:
        return
    n = len(desc.luns)
    name = f"{HOST_VG}-{HOST_LV}"
    dm = _Dev(HostDeviceKind.BLOCK, f"/sys/devices/virtual/block/dm-{n}", f"/dev/dm-{n}")
    dm.devnodes = (f"/dev/dm-{n}", f"/dev/mapper/{name}", f"/dev/{HOST_VG}/{HOST_LV}",
                   f"/dev/disk/by-id/dm-name-{name}")
    yield dm.set(devtype="disk", majmin=f"253:{n}", size=str(lvm.cylinders * 15 * 12 * 4096 // 512 - 8192), ro="0",
                 dm_name=name, dm_uuid="LVM-" + "Zl4bVg0dAtaHome0000000000000000x" + "Lv0Home00000000000000000000000x",
                 slaves=f"/dev/dasd{_letters(lvm_index)}1", fs_type="xfs").done()


def _system_record(desc: Description) -> HostDevice:
    """The host's own record: a Secure Execution host (prot_virt=1), IPLed from its system volume,
    dumping to the dump DASD (dumpconf)."""
    root = next(d for d in desc.dasds if d.host == ROOT)
    dump = next((d for d in desc.dasds if d.host == DUMP), None)
    dev = _Dev(HostDeviceKind.SYSTEM, "/sys/firmware", "host")
    dev.put(kernel.UltraVisor.prot_virt_host, True, "prot_virt")
    dev.put(kernel.Firmware.dump_type, "ccw" if dump is not None else "none")
    if dump is not None:
        dev.put(kernel.Firmware.dump_device, dump.busid, "dump_device")
    return dev.put(kernel.Firmware.ipl_type, "ccw").put(kernel.Firmware.ipl_device, root.busid, "ipl_device").done()


def _indexes(desc: Description) -> dict[str, int]:
    """Each DASD's place among the block devices (`dasda`, `dasdb`, …): online, no alias, not on vfio_ccw."""
    out: dict[str, int] = {}
    for d in desc.dasds:
        if d.online and not d.alias and not (d.vfio_mdev or d.vfio_free):
            out[d.busid] = len(out)
    return out


def z_devices(desc: Description = DESCRIPTION) -> tuple[HostDevice, ...]:
    """Every record of the simulated host, in the order udev's walk gives (css, ccw, … by subsystem)."""
    out: list[HostDevice] = [_system_record(desc), *_chp_records(desc)]
    index = _indexes(desc)
    for d in desc.dasds:
        out.extend(_dasd_records(d, index.get(d.busid, 0), len(desc.luns)))
    out.extend(_zfcp_records(desc, desc.first_sd))
    lvm = next((d for d in desc.dasds if d.host == LVM), None)
    out.extend(_host_storage_records(desc, index[lvm.busid] if lvm is not None else 0))
    for q in desc.qeth:
        out.extend(_qeth_records(q))
    out.extend(_bridge_records(desc))
    out.extend(_ap_records(desc))
    out.extend(_zpci_records(desc))
    return tuple(out)


def z_host_facts(desc: Description = DESCRIPTION, hostname: str = HOSTNAME) -> HostFacts:
    """The simulated host's facts: its devices, and what it mounts and swaps on itself (mountinfo and
    /proc/swaps as a real LPAR shows them: / and swap on its system volume, /home on a logical volume)."""
    index = _indexes(desc)
    root = next(d for d in desc.dasds if d.host == ROOT)
    disk = f"dasd{_letters(index[root.busid])}"
    mounts = [Mount("/", "ext4", f"/dev/{disk}1", f"94:{index[root.busid] * 4 + 1}")]
    if any(d.host == LVM for d in desc.dasds):
        mounts.append(Mount("/home", "xfs", f"/dev/mapper/{HOST_VG}-{HOST_LV}", f"253:{len(desc.luns)}"))
    return HostFacts(origin=FactsOrigin.SIMULATED, hostname=hostname, description=DESCRIPTION_TEXT,
                     created="generated", devices=z_devices(desc), mounts=tuple(mounts),
                     swaps=(Swap(f"/dev/{disk}2", "partition"),))


def scaled_description(dasds: int, luns: int) -> Description:
    """The same LPAR with `dasds` more ECKD volumes and `luns` LUNs in all (for benchmarks at the size of
    a big installation: each DASD is four records, each LUN five over its two paths)."""
    extra = tuple(Dasd(f"0.1.{0x6000 + i:04x}", f"0.1.{0x1000 + i:04x}", chpids=("05", "06", "07", "08")[:1 + i % 4])
                  for i in range(dasds))
    return Description(
        dasds=DESCRIPTION.dasds + extra, fcp_channels=DESCRIPTION.fcp_channels,
        luns=tuple(Lun(f"0x40{1 + (i >> 8):02x}40{i & 0xff:02x}00000000") for i in range(luns)),
        qeth=DESCRIPTION.qeth, bridges=DESCRIPTION.bridges, chpids=DESCRIPTION.chpids,
        ap_cards=DESCRIPTION.ap_cards, ap_queues=DESCRIPTION.ap_queues, ap_mdev=DESCRIPTION.ap_mdev,
        zpci=DESCRIPTION.zpci)


def dasd_path(busid: str) -> str:
    return f"/dev/disk/by-path/ccw-{busid}"


def mpath_path(lun: Lun) -> str:
    return f"/dev/mapper/{lun.wwid}"


def free_dasds(desc: Description = DESCRIPTION) -> tuple[str, ...]:
    """DASDs neither a lab guest nor the host uses: what `ztui attach --dasd` can hot-plug (the lab makes
    their block devices; a test holds `ztui hostdevs` to the same list)."""
    return tuple(d.busid for d in desc.dasds if d.spare)
