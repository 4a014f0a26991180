"""The lab's simulated IBM z16 host: its host facts, generated from a compact description of one LPAR.

This machine has no DASD, no FCP channel and no OSA card, yet what ztui is for is showing such devices
behind guest devices. The lab's Z host is therefore a real libvirt daemon whose *host facts* (see
`ztui.host.hostfacts`) describe a z16 LPAR instead of this machine. The records are those `ztui.host.udev`
reads on a real Z host, laid out as the kernel lays out sysfs (drivers/s390/cio: `css0/<subchannel>/
<ccw device>`, `css0/chp0.<id>`; drivers/s390/block/dasd_devmap.c: `online`, `alias`, `status`, `uid`;
drivers/s390/scsi/zfcp_sysfs.c: `hba_id`, `wwpn`, `fcp_lun`, `peer_wwpn`; drivers/s390/net/qeth_core_sys.c:
`card_type`, `chpid`, `layer2`, `if_name`, `state`; drivers/s390/crypto: `cardNN/NN.DDDD`, vfio_ap's
`matrix`; arch/s390/pci/pci_sysfs.c: `uid`, `function_id`, `pchid`, `pft`; drivers/vfio/mdev). Only the
values are invented.

`DESCRIPTION` is the whole configuration; `z_host_facts()` turns it into records. The lab writes them next
to the Z host's libvirt socket, where ztui finds them by itself, and creates loop devices under the block
device names the running guests use, inside that host's mount namespace only (`block_nodes`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ztui.host.files import Mount
from ztui.host.hostfacts import FactsOrigin, HostFacts
from ztui.model import Fact, HostDevice, HostDeviceKind, MdevType

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

    @property
    def volser(self) -> str:
        return f"ZL{self.busid[-4:].upper()}"


@dataclass(frozen=True)
class Lun:
    lun: str  # FCP LUN, `0x4001400000000000`
    size_gib: int = 20

    @property
    def wwid(self) -> str:
        """The SCSI WWID (NAA 6, IBM DS8000 style, 33 characters) multipath names the LUN by."""
        index = (int(self.lun[4:6], 16) - 1) * 256 + int(self.lun[8:10], 16)
        return f"{WWID_PREFIX}{0x1000 + index:04x}"


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


DESCRIPTION = Description(
    dasds=(
        Dasd("0.0.5c00", "0.0.0000"),  # the host's own system volume (mounted on /)
        Dasd("0.0.5c01", "0.0.0001"),
        Dasd("0.0.5c02", "0.0.0002"),
        Dasd("0.0.5c03", "0.0.0003", chpids=("05", "07")),
        Dasd("0.0.5c04", "0.0.0004"),
        Dasd("0.0.5c05", "0.0.0005"),
        Dasd("0.0.5c06", "0.0.0006"),
        Dasd("0.0.5c07", "0.0.0007"),
        Dasd("0.0.5c08", "0.0.0008"),
        Dasd("0.0.5c09", "0.0.0009"),
        Dasd("0.0.5c0f", "0.0.000f", unformatted=True, partitions=0),
        Dasd("0.0.5c20", "0.0.0020", online=False),
        Dasd("0.0.5cfe", "0.0.00fe", alias=True, partitions=0),
        Dasd("0.0.0300", "0.0.0030", chpids=("08",), fba=True),
        Dasd("0.0.5d00", "0.0.0040", vfio_mdev="9c8f0fe3-0c6b-4a2c-8a3c-1b2b3c4d5e6f"),
        Dasd("0.0.5d01", "0.0.0041", vfio_free=True),
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


# --- records ----------------------------------------------------------------------------------------------


class _Dev:
    """One record under construction: facts in the order udev reads them, empty values left out."""

    def __init__(self, kind: HostDeviceKind, sysfs: str, name: str, ident: str = "", driver: str = "",
                 parent: str = "") -> None:
        self.kind, self.sysfs, self.name, self.id = kind, sysfs, name, ident or name
        self.driver, self.parent = driver, parent
        self.facts: list[Fact] = []
        self.devnodes: tuple[str, ...] = ()
        self.mdev_types: tuple[MdevType, ...] = ()
        self.iommu_group: int | None = None

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


def chp_states(chpids: tuple[str, ...]) -> str:
    """`chpid:vary:configure:type` of each CHPID, as `ztui.host.udev` reads them from `css0/chp0.<id>`
    (`status` online/offline, `configure` 1 = configured, `type` hex)."""
    known = {c: (t, s) for c, t, s in DESCRIPTION.chpids}
    return " ".join(f"{c}:{'1' if known[c][1] == 'online' else '0'}:1:{known[c][0]}" for c in chpids if c in known)


def _subchannel(sch: str, chpids: tuple[str, ...], *, driver: str = "io_subchannel", busid: str = "") -> _Dev:
    padded = (list(chpids) + ["00"] * 8)[:8]
    pim = 0
    for i in range(len(chpids)):
        pim |= 0x80 >> i
    dev = _Dev(HostDeviceKind.CSS, f"/sys/devices/css0/{sch}", sch, driver=driver)
    # every installed path available and operational; a CHPID varied offline shows in `chp_states`
    dev.set(type="0", chpids=" ".join(padded), pimpampom=f"{pim:02x}{pim:02x}{pim:02x}",
            chp_states=chp_states(chpids), dev_busid=busid, ccw_device=busid if driver == "io_subchannel" else "")
    if driver == "vfio_ccw":
        dev.mdev_types = (MdevType("vfio_ccw-io", "I/O subchannel (Non-QDIO)", "vfio-ccw", 1),)
    return dev


def _dasd_records(d: Dasd, index: int) -> Iterator[HostDevice]:
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
    uid = f"IBM.750000000DXP71.{d.busid[-4:-2]}00.{d.busid[-2:]}"
    ccw = _Dev(HostDeviceKind.CCW, f"/sys/devices/css0/{d.subchannel}/{d.busid}", d.busid, driver=driver,
               parent=d.subchannel)
    status = "offline" if not d.online else "unformatted" if d.unformatted else "online"
    ccw.set(cutype="6310/80" if d.fba else "3990/e9", devtype="9336/10" if d.fba else "3390/0c",
            online="1" if d.online else "0", availability="good", status=status, role="dasd",
            readonly="0", uid=uid.rsplit(".", 1)[0] + ".xx" if d.alias else uid, alias="1" if d.alias else "0",
            volser="" if d.unformatted or d.alias or d.fba else d.volser)
    yield ccw.done()
    if not d.online or d.alias:
        return
    name = f"dasd{_letters(index)}"
    sectors = 0 if d.unformatted else (d.cylinders * 15 * 12 * 4096 // 512 if not d.fba else 2_097_152)
    block = _Dev(HostDeviceKind.BLOCK, f"{ccw.sysfs}/block/{name}", f"/dev/{name}")
    block.devnodes = (f"/dev/{name}", f"/dev/disk/by-path/ccw-{d.busid}",
                      *(() if d.unformatted else (f"/dev/disk/by-id/ccw-{uid}",)))
    block.set(devtype="disk", majmin=f"94:{index * 4}", size=str(sectors), ro="0")
    yield block.done()
    for p in range(1, d.partitions + 1):
        part = _Dev(HostDeviceKind.BLOCK, f"{block.sysfs}/{name}{p}", f"/dev/{name}{p}")
        part.devnodes = (f"/dev/{name}{p}", f"/dev/disk/by-path/ccw-{d.busid}-part{p}",
                         f"/dev/disk/by-id/ccw-{uid}-part{p}")
        part.set(devtype="partition", majmin=f"94:{index * 4 + p}", size=str(sectors - 192), ro="0",
                 partition=str(p), fs_type="ext4" if d.busid == "0.0.5c00" else "xfs")
        yield part.done()


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
    for host_no, (busid, sch, chpid, npiv) in enumerate(desc.fcp_channels):
        yield _subchannel(sch, (chpid,), busid=busid).done()
        ccw = _Dev(HostDeviceKind.CCW, f"/sys/devices/css0/{sch}/{busid}", busid, driver="zfcp", parent=sch)
        ccw.set(cutype="1731/03", devtype="1732/04", online="1", availability="good", status="online",
                role="fcp", peer_wwpn="0x0000000000000000", in_recovery="0", failed="0")
        yield ccw.done()
        host = _Dev(HostDeviceKind.SCSI_HOST, f"{ccw.sysfs}/host{host_no}", f"host{host_no}")
        host.set(unique_id=str(int(busid[-4:], 16)), port_type="NPIV VPORT", port_name=npiv,
                 permanent_port_name=f"0xc05076ffe50{host_no:05x}", port_state="Online")
        yield host.done()
        wwpn = STORAGE_WWPNS[host_no % len(STORAGE_WWPNS)]
        for lun in desc.luns:
            hctl = f"{host_no}:0:0:{linux_lun(lun.lun)}"
            base = f"{host.sysfs}/rport-{host_no}:0-0/target{host_no}:0:0/{hctl}"
            scsi = _Dev(HostDeviceKind.SCSI, base, hctl, driver="sd")
            scsi.set(hba_id=busid, wwpn=wwpn, fcp_lun=lun.lun, vendor="IBM", model="2107900", state="running",
                     zfcp_access_denied="0", zfcp_failed="0", zfcp_in_recovery="0", rport_state="Online",
                     scsi_type="0")
            yield scsi.done()
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
        ccw.set(cutype="1731/05" if q.card_type == "HiperSockets" else "1731/01",
                devtype="1732/05" if q.card_type == "HiperSockets" else "1732/01", online="1",
                availability="good", status="online", role="qeth", group_device=q.busid)
        yield ccw.done()
    kind = "HiperSockets" if q.card_type == "HiperSockets" else "OSA"
    group = _Dev(HostDeviceKind.CCWGROUP, f"/sys/devices/qeth/{q.busid}", q.busid, driver="qeth")
    group.set(card_type=q.card_type, card_kind=kind, if_name=q.if_name, chpid=q.chpid.upper(),
              layer2="1" if q.layer2 else "0", state="UP (LAN ONLINE)", online="1", portno="0",
              chp_states=chp_states((q.chpid,)), ccw_devices=",".join(members))
    yield group.done()
    net = _Dev(HostDeviceKind.NET, f"{group.sysfs}/net/{q.if_name}", q.if_name, driver="qeth")
    mac = f"02:00:00:{int(q.chpid, 16):02x}:{first >> 8:02x}:{first & 0xff:02x}"
    net.set(devtype="", address=mac, operstate="up", master="br-hsi" if q.card_type == "HiperSockets" else "")
    yield net.done()


def _ap_records(desc: Description) -> Iterator[HostDevice]:
    for card, ctype, hwtype in desc.ap_cards:
        dev = _Dev(HostDeviceKind.AP_CARD, f"/sys/devices/ap/card{card}", f"card{card}", f"0x{card}",
                   driver="cex4card")
        yield dev.set(type=ctype, hwtype=str(hwtype), raw_hwtype=str(hwtype), online="1",
                      ap_functions="0x92000000" if ctype.endswith("C") else "0x88000000", config="1",
                      depth="8").done()
    for q in desc.ap_queues:
        card, domain = q.queue.split(".")
        dev = _Dev(HostDeviceKind.AP_QUEUE, f"/sys/devices/ap/card{card}/{q.queue}", q.queue,
                   f"0x{card}.0x{domain}", driver=q.driver)
        yield dev.set(online="1", config="1").done()
    matrix = _Dev(HostDeviceKind.AP_MATRIX, "/sys/devices/vfio_ap/matrix", "matrix", driver="vfio_ap")
    matrix.mdev_types = (MdevType("vfio_ap-passthrough", "VFIO AP Passthrough Device", "vfio-ap", 64),)
    yield matrix.done()
    uuid, queues = desc.ap_mdev
    mdev = _Dev(HostDeviceKind.MDEV, f"{matrix.sysfs}/{uuid}", uuid, driver="vfio_ap_mdev", parent="matrix")
    mdev.iommu_group = 60
    yield mdev.set(mdev_type="vfio_ap-passthrough",
                   ap_queues=",".join(f"0x{q.split('.')[0]}.0x{q.split('.')[1]}" for q in queues)).done()


def _zpci_records(desc: Description) -> Iterator[HostDevice]:
    for n, z in enumerate(desc.zpci):
        domain = z.address.split(":")[0]
        dev = _Dev(HostDeviceKind.PCI, f"/sys/devices/pci{domain}:00/{z.address}", z.address, driver=z.driver)
        dev.iommu_group = n
        dev.set(vendor=z.vendor, device=z.device, **{"class": z.klass}, uid=f"0x{z.uid:x}",
                function_id=f"0x{z.fid:08x}", pchid=f"0x{z.pchid:04x}", pft=f"0x{z.pft:02x}", port="1",
                uid_is_unique="1", vfn="1" if z.what.startswith("RoCE") else "0", net=z.net, product=z.what)
        yield dev.done()
        if z.net:
            net = _Dev(HostDeviceKind.NET, f"{dev.sysfs}/net/{z.net}", z.net, driver=z.driver)
            yield net.set(address=f"82:00:00:00:00:{z.fid:02x}", operstate="up").done()


def _bridge_records(desc: Description) -> Iterator[HostDevice]:
    for bridge, port in desc.bridges:
        dev = _Dev(HostDeviceKind.NET, f"/sys/devices/virtual/net/{bridge}", bridge, driver="bridge")
        yield dev.set(devtype="bridge", address="02:00:00:f4:70:00", operstate="up", bridge="yes",
                      bridge_ports=port, virtual="yes").done()


def z_devices(desc: Description = DESCRIPTION) -> tuple[HostDevice, ...]:
    """Every record of the simulated host, in the order udev's walk gives (css, ccw, … by subsystem)."""
    out: list[HostDevice] = []
    index = 0
    for d in desc.dasds:
        out.extend(_dasd_records(d, index))
        if d.online and not d.alias and not (d.vfio_mdev or d.vfio_free):
            index += 1
    out.extend(_zfcp_records(desc, 0))
    for q in desc.qeth:
        out.extend(_qeth_records(q))
    out.extend(_bridge_records(desc))
    out.extend(_ap_records(desc))
    out.extend(_zpci_records(desc))
    return tuple(out)


def z_host_facts(desc: Description = DESCRIPTION, hostname: str = HOSTNAME) -> HostFacts:
    """The simulated host's facts: its devices and its own mounts (its root on the first DASD)."""
    return HostFacts(origin=FactsOrigin.SIMULATED, hostname=hostname, description=DESCRIPTION_TEXT,
                     created="generated", devices=z_devices(desc),
                     mounts=(Mount("/", "ext4", "/dev/dasda1", "94:1"),))


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
    """DASDs no lab guest is given: what `ztui attach --dasd` can hot-plug."""
    return tuple(d.busid for d in desc.dasds if d.busid in ("0.0.5c06", "0.0.5c07", "0.0.5c08", "0.0.5c09"))
