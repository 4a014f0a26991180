"""The vocabulary of host-device facts, and the answers every layer shares about them.

A `HostDevice` carries its attributes as `Fact`s keyed by name. The readers (`ztui.host.udev` from sysfs,
`ztui.libvirtxml.nodedev` from node-device XML) write them and the resolver, the usage checks, the reports
and the operations read them; a key spelled differently on one side is a fact silently lost, so every
key is named once here (`F`). Where the two readers describe the same thing they use the same key
(`wwpn`, `uid`, `online`); where they cannot (libvirt's `channel_dev_addr`, udev's `dev_busid`) both keys
are listed and the question is answered by one function below.

The questions asked of facts in more than one place live here too, once: a ccw device's role, a qeth
card's kind, WWPN/LUN notation, and whether a connection's host is this machine. Pure: imports only the
model.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final
from urllib.parse import urlsplit

from ztui.model import HostDevice

__all__ = [
    "CardKind",
    "CcwRole",
    "F",
    "FactSource",
    "card_kind",
    "ccw_role",
    "ccw_role_of_driver",
    "is_local_uri",
    "is_loopback_host",
    "wwn",
]


class FactSource(StrEnum):
    """Where a fact (and a device record) was read. A record seen by both is `udev+libvirt`."""

    UDEV = "udev"
    LIBVIRT = "libvirt"


class F:
    """Fact keys (plain strings, not an enum: `HostDevice.fact` is called tens of thousands of times while
    a big host is resolved, and a str-enum member hashes ten times slower than a str)."""

    # --- any device ---------------------------------------------------------------------------------
    CAPABILITY: Final = "capability"  # libvirt's capability type
    UDEV_NAME: Final = "udev_name"  # udev's sysname of a record libvirt named
    DRIVER_OVERRIDE: Final = "driver_override"
    # --- subchannels (css) --------------------------------------------------------------------------
    SCH_TYPE: Final = "type"  # 0 I/O, 1 CHSC, 2 message, 3 ADM
    CHPIDS: Final = "chpids"  # eight CHPIDs, as sysfs prints them
    PIMPAMPOM: Final = "pimpampom"  # path installed / available / operational masks
    DEV_BUSID: Final = "dev_busid"  # the ccw device on a subchannel (udev); `none` means none
    CHANNEL_DEV_ADDR: Final = "channel_dev_addr"  # the same, as libvirt says it
    CCW_DEVICE: Final = "ccw_device"  # the ccw child io_subchannel holds (udev)
    CHP_STATES: Final = "chp_states"  # per installed CHPID `05:1:1:1b` = chpid:vary:configure:type (`ChpState`)
    # --- ccw devices --------------------------------------------------------------------------------
    ROLE: Final = "role"  # dasd | fcp | qeth (`CcwRole`)
    CUTYPE: Final = "cutype"
    DEVTYPE: Final = "devtype"  # ccw device type (3390/0c) and block/net DEVTYPE alike
    ONLINE: Final = "online"
    AVAILABILITY: Final = "availability"
    STATUS: Final = "status"  # DASD: unformatted, basic, ready, online, …
    READONLY: Final = "readonly"
    UID: Final = "uid"  # DASD: the volume's identity; PCI: the zPCI user-defined id
    ALIAS: Final = "alias"  # DASD: 1 for a PAV/HyperPAV alias device
    RAW_TRACK_ACCESS: Final = "raw_track_access"
    ESE: Final = "ese"  # DASD: extent space efficient (thin) volume
    USE_DIAG: Final = "use_diag"
    PEER_WWPN: Final = "peer_wwpn"
    IN_RECOVERY: Final = "in_recovery"
    FAILED: Final = "failed"
    GROUP_DEVICE: Final = "group_device"
    GROUP_BUSID: Final = "group_busid"
    # --- qeth ccwgroup ------------------------------------------------------------------------------
    CARD_TYPE: Final = "card_type"
    CARD_KIND: Final = "card_kind"  # `CardKind`
    IF_NAME: Final = "if_name"
    CHPID: Final = "chpid"
    LAYER2: Final = "layer2"
    STATE: Final = "state"
    PORTNO: Final = "portno"
    BRIDGE_ROLE: Final = "bridge_role"
    CCW_DEVICES: Final = "ccw_devices"  # udev: cdev0,cdev1,cdev2
    MEMBERS: Final = "members"  # libvirt: the members' node-device names
    MEMBER_BUSIDS: Final = "member_busids"  # libvirt: the members' bus-IDs
    CCWGROUP_TYPE: Final = "ccwgroup_type"
    # --- SCSI and FC --------------------------------------------------------------------------------
    HBA_ID: Final = "hba_id"  # zFCP: the FCP device's bus-ID
    WWPN: Final = "wwpn"
    WWNN: Final = "wwnn"
    FABRIC_WWN: Final = "fabric_wwn"
    FCP_LUN: Final = "fcp_lun"
    LUN: Final = "lun"
    VENDOR: Final = "vendor"
    MODEL: Final = "model"
    SCSI_TYPE: Final = "scsi_type"
    UNIQUE_ID: Final = "unique_id"
    PORT_TYPE: Final = "port_type"  # fc_host: NPIV VPORT vs NPort (Fabric)
    PORT_NAME: Final = "port_name"
    PERMANENT_PORT_NAME: Final = "permanent_port_name"
    PORT_STATE: Final = "port_state"
    ACCESS_DENIED: Final = "access_denied"
    ZFCP_ACCESS_DENIED: Final = "zfcp_access_denied"  # zFCP LUN: 1 when LUN masking/zoning denies it
    ZFCP_FAILED: Final = "zfcp_failed"
    ZFCP_IN_RECOVERY: Final = "zfcp_in_recovery"
    RPORT_STATE: Final = "rport_state"  # fc_remote_port port_state: Online, Blocked, Not Present
    RPORT: Final = "rport"
    VPORT_OPS: Final = "vport_ops"
    MAX_VPORTS: Final = "max_vports"
    VPORTS: Final = "vports"
    # --- block devices ------------------------------------------------------------------------------
    MAJMIN: Final = "majmin"
    SIZE: Final = "size"
    RO: Final = "ro"
    PARTITION: Final = "partition"
    DM_NAME: Final = "dm_name"
    DM_UUID: Final = "dm_uuid"
    SLAVES: Final = "slaves"
    HOLDERS: Final = "holders"
    LOOP_BACKING_FILE: Final = "loop_backing_file"
    FS_TYPE: Final = "fs_type"
    SERIAL: Final = "serial"
    # --- network interfaces -------------------------------------------------------------------------
    ADDRESS: Final = "address"
    OPERSTATE: Final = "operstate"
    LINK_STATE: Final = "link_state"
    MASTER: Final = "master"
    OVS: Final = "ovs"
    LOWER: Final = "lower"
    UPPER: Final = "upper"
    BRIDGE: Final = "bridge"  # net: yes for a Linux bridge; pci: the bridge capability
    BRIDGE_PORTS: Final = "bridge_ports"
    VIRTUAL: Final = "virtual"
    INTERFACE: Final = "interface"
    # --- PCI and zPCI -------------------------------------------------------------------------------
    CLASS: Final = "class"
    VENDOR_ID: Final = "vendor_id"
    PRODUCT: Final = "product"
    PRODUCT_ID: Final = "product_id"
    DEVICE: Final = "device"  # sysfs PCI device id
    FUNCTION_ID: Final = "function_id"  # zPCI fid (udev)
    FID: Final = "fid"  # zPCI fid (libvirt)
    PCHID: Final = "pchid"
    UID_IS_UNIQUE: Final = "uid_is_unique"
    PFT: Final = "pft"
    PORT: Final = "port"
    VFN: Final = "vfn"
    SUBSYSTEM_VENDOR: Final = "subsystem_vendor"
    SUBSYSTEM_DEVICE: Final = "subsystem_device"
    PHYSFN: Final = "physfn"
    NET: Final = "net"
    # --- AP (crypto) --------------------------------------------------------------------------------
    AP_TYPE: Final = "type"  # card type, e.g. CEX8C
    AP_MODE: Final = "mode"  # CCA, EP11, Accelerator (from ap_functions)
    AP_FUNCTIONS: Final = "ap_functions"
    HWTYPE: Final = "hwtype"
    RAW_HWTYPE: Final = "raw_hwtype"
    DEPTH: Final = "depth"
    AP_ADAPTER: Final = "ap_adapter"
    AP_DOMAIN: Final = "ap_domain"
    AP_STATUS: Final = "status"  # AP queue: `bound`/`online`, …
    AP_CONFIG: Final = "config"
    AP_CHKSTOP: Final = "chkstop"
    AP_ADAPTERS: Final = "ap_adapters"  # vfio-ap: assigned adapters (`0x07,0x08`), also without domains
    AP_DOMAINS: Final = "ap_domains"  # vfio-ap: assigned usage domains
    # --- mdevs --------------------------------------------------------------------------------------
    MDEV_TYPE: Final = "mdev_type"
    AP_QUEUES: Final = "ap_queues"  # vfio-ap: the assigned queues (`matrix`)
    GUEST_MATRIX: Final = "guest_matrix"  # vfio-ap: what the guest really gets, the kernel's lines space-joined
    #: (`-` when the kernel shows an empty guest matrix)
    CONTROL_DOMAINS: Final = "control_domains"
    ASSIGN_ADAPTER: Final = "attr.assign_adapter"
    ASSIGN_DOMAIN: Final = "attr.assign_domain"
    ASSIGN_CONTROL_DOMAIN: Final = "attr.assign_control_domain"
    START: Final = "start"
    UUID: Final = "uuid"
    # --- libvirt-only details ------------------------------------------------------------------------
    BLOCK: Final = "block"
    CHARDEV: Final = "chardev"
    DRM_TYPE: Final = "drm_type"
    FEATURES: Final = "features"
    HOST: Final = "host"
    HOTPLUGGABLE: Final = "hotpluggable"
    IOMMU_GROUP_MEMBERS: Final = "iommu_group_members"
    LINK_SPEED: Final = "link_speed"
    NET_TYPE: Final = "net_type"
    NUMA_NODE: Final = "numa_node"
    PARENT_ADDR: Final = "parent_addr"
    PHYS_FUNCTION: Final = "phys_function"
    REMOVABLE: Final = "removable"
    TARGET: Final = "target"
    USB_BUS: Final = "usb_bus"
    USB_DEVICE: Final = "usb_device"
    VIRT_FUNCTIONS: Final = "virt_functions"
    VIRT_FUNCTIONS_MAX: Final = "virt_functions_max"
    # --- the host itself ----------------------------------------------------------------------------
    PROT_VIRT: Final = "prot_virt"  # Secure Execution host support (/sys/firmware/uv/prot_virt_host)


class CcwRole(StrEnum):
    """What a ccw device is for, by the driver that holds it."""

    DASD = "dasd"
    FCP = "fcp"
    QETH = "qeth"
    OTHER = ""


def ccw_role_of_driver(driver: str) -> CcwRole:
    """The role of a ccw device held by this driver (`dasd-eckd`, `dasd-fba`, `zfcp`, `qeth`)."""
    if driver.startswith("dasd"):
        return CcwRole.DASD
    if driver == "zfcp":
        return CcwRole.FCP
    if driver == "qeth":
        return CcwRole.QETH
    return CcwRole.OTHER


def ccw_role(dev: HostDevice) -> CcwRole:
    """A ccw device's role: the `role` udev recorded, else from its driver (libvirt-only records)."""
    recorded = dev.fact(F.ROLE)
    if recorded:
        try:
            return CcwRole(recorded)
        except ValueError:
            pass
    return ccw_role_of_driver(dev.driver)


class CardKind(StrEnum):
    """The hardware behind a qeth card."""

    OSA = "OSA"
    HIPERSOCKETS = "HiperSockets"


def card_kind(card_type: str) -> str:
    """`OSA` or `HiperSockets` from qeth's `card_type` (`OSD_1000`, `OSD_10GIG`, `OSM_1000`,
    `OSX_10GIG`, `HiperSockets`, `Virt.NIC QDIO`, `Virt.NIC Hiper`); another type as it is; '' for none."""
    text = card_type.strip()
    low = text.lower()
    if "hiper" in low or low.startswith("iqd"):
        return CardKind.HIPERSOCKETS.value
    if low.startswith("os") or "qdio" in low:
        return CardKind.OSA.value
    return text


def wwn(text: str) -> str:
    """A WWPN, WWNN or FCP LUN as `0x` and 16 lower-case hex digits, the notation of zFCP's sysfs and
    lszfcp (libvirt writes fc_host names without `0x`); text that is not such a number is kept as it is."""
    value = text.strip().lower()
    if not value:
        return ""
    try:
        number = int(value, 16)
    except ValueError:
        return text.strip()
    return f"0x{number:016x}" if 0 <= number < 1 << 64 else text.strip()


_LOOPBACK = frozenset(("", "localhost", "127.0.0.1", "::1"))


def is_loopback_host(host: str | None) -> bool:
    """A URI's host part that names this machine (none at all, or loopback)."""
    return (host or "") in _LOOPBACK


def is_local_uri(uri: str) -> bool:
    """True when a connection's host is this machine's sysfs and files: udev describes its devices and
    its image paths can be examined. Only a URI that reaches the daemon without a network transport
    counts (`qemu:///system`, `qemu+unix://…`, the test driver): `qemu+tcp://localhost` or
    `qemu://localhost` (TLS) may be a tunnel to another machine, so they are treated as remote and checks
    ask libvirt instead of this machine's /sys."""
    parts = urlsplit(uri)
    if parts.scheme == "test":
        return True
    transport = parts.scheme.partition("+")[2]
    if transport == "unix":
        return True
    return transport == "" and not parts.hostname


# --- AP (crypto) -----------------------------------------------------------------------------------------


def kernel_number(text: str) -> int | None:
    """A number as the kernel's `kstrtoul(buf, 0, …)` reads it (vfio_ap's assign_* attributes): `0x` hex,
    a leading `0` octal, otherwise decimal. None when it is no such number."""
    t = text.strip().lower()
    if not t:
        return None
    try:
        if t.startswith("0x"):
            return int(t[2:], 16)
        if len(t) > 1 and t.startswith("0"):
            return int(t[1:], 8)
        return int(t, 10)
    except ValueError:
        return None


def apqn(adapter: int, domain: int) -> str:
    """An AP queue number in ztui's notation, `0x07.0x0038` (sysfs writes `07.0038`)."""
    return f"0x{adapter:02x}.0x{domain:04x}"


@dataclass(frozen=True, slots=True)
class ApMatrix:
    """What a vfio-ap mdev's `matrix` (or `guest_matrix`) shows: assigned adapters and usage domains, and
    the queues (APQNs) they make. An adapter assigned without any domain gives `AA.` lines, a domain
    without any adapter `.DDDD` lines: both are assignments, but no queue."""

    adapters: frozenset[int] = frozenset()
    domains: frozenset[int] = frozenset()
    queues: frozenset[tuple[int, int]] = frozenset()

    def queue_ids(self) -> list[str]:
        return [apqn(a, d) for a, d in sorted(self.queues)]


def parse_ap_matrix(text: str) -> ApMatrix:
    """The kernel's matrix text (`07.0038`, `07.`, `.0038` lines; hex without `0x`)."""
    adapters: set[int] = set()
    domains: set[int] = set()
    queues: set[tuple[int, int]] = set()
    for line in text.split():
        a_text, dot, d_text = line.partition(".")
        if not dot:
            continue
        try:
            adapter = int(a_text, 16) if a_text else None
            domain = int(d_text, 16) if d_text else None
        except ValueError:
            continue
        if adapter is not None:
            adapters.add(adapter)
        if domain is not None:
            domains.add(domain)
        if adapter is not None and domain is not None:
            queues.add((adapter, domain))
    return ApMatrix(frozenset(adapters), frozenset(domains), frozenset(queues))


def parse_ap_queue_ids(text: str) -> ApMatrix:
    """ztui's own notation (`0x07.0x0038,0x07.0x0039`) back into a matrix."""
    return parse_ap_matrix(" ".join(q.replace("0x", "") for q in text.split(",") if q))


def mdev_ap_matrix(dev: HostDevice) -> ApMatrix:
    """The matrix assigned to a vfio-ap mdev: udev's `matrix` when read from sysfs, else the cross product
    of libvirt's/mdevctl's `assign_adapter` x `assign_domain` attributes, each read as the kernel reads
    the value written to it (`kernel_number`)."""
    if dev.fact(F.AP_QUEUES) or dev.fact(F.AP_ADAPTERS) or dev.fact(F.AP_DOMAINS):
        adapters = {n for x in dev.fact(F.AP_ADAPTERS).split(",") if (n := kernel_number(x)) is not None}
        domains = {n for x in dev.fact(F.AP_DOMAINS).split(",") if (n := kernel_number(x)) is not None}
        queued = parse_ap_queue_ids(dev.fact(F.AP_QUEUES))
        return ApMatrix(frozenset(adapters | queued.adapters), frozenset(domains | queued.domains), queued.queues)
    adapters = {n for x in dev.fact(F.ASSIGN_ADAPTER).split(",") if (n := kernel_number(x)) is not None}
    domains = {n for x in dev.fact(F.ASSIGN_DOMAIN).split(",") if (n := kernel_number(x)) is not None}
    return ApMatrix(frozenset(adapters), frozenset(domains),
                    frozenset((a, d) for a in adapters for d in domains))


def mdev_control_domains(dev: HostDevice) -> frozenset[int]:
    """A vfio-ap mdev's control domains (sysfs `control_domains`, or libvirt's `assign_control_domain`)."""
    listed = dev.fact(F.CONTROL_DOMAINS)
    if listed:
        return frozenset(n for x in listed.split(",") if (n := kernel_number(x)) is not None)
    return frozenset(n for x in dev.fact(F.ASSIGN_CONTROL_DOMAIN).split(",") if (n := kernel_number(x)) is not None)


# AP function facility bits (arch ap.h: MEX4K 1, CRT4K 2, COPRO 3, ACCEL 4, EP11 5), numbered from the most
# significant bit of the 32-bit `ap_functions` word, as `ap_test_bit` does
_AP_MODES = ((5, "EP11"), (3, "CCA"), (4, "Accelerator"))


def ap_card_mode(ap_functions: str) -> str:
    """`CCA`, `EP11` or `Accelerator` from a card's `ap_functions` (`0x92000000`), as lszcrypt shows it."""
    try:
        word = int(ap_functions, 16)
    except ValueError:
        return ""
    for bit, mode in _AP_MODES:
        if word & (0x80000000 >> bit):
            return mode
    return ""


def ap_queue_state(dev: HostDevice) -> str:
    """An AP queue's state as lszcrypt words it: `online`, `offline`, `deconfig`, `checkstop`."""
    if dev.fact(F.AP_CONFIG) == "0":
        return "deconfig"
    if dev.fact(F.AP_CHKSTOP) == "1":
        return "checkstop"
    return {"1": "online", "0": "offline"}.get(dev.fact(F.ONLINE), "")


def carried_busid(css: HostDevice) -> str:
    """The bus-ID of the ccw device a subchannel carries: udev's `dev_busid` (`none` when it carries none,
    css.c), libvirt's `channel_dev_addr`, else the ccw child io_subchannel holds; '' for none."""
    busid = css.fact(F.DEV_BUSID) or css.fact(F.CHANNEL_DEV_ADDR) or css.fact(F.CCW_DEVICE).split(",")[0]
    return "" if busid == "none" else busid


# --- channel paths ---------------------------------------------------------------------------------------

CHP_CONFIGURE = {"0": "standby", "1": "configured", "2": "reserved", "3": "not recognized"}


@dataclass(frozen=True, slots=True)
class ChpState:
    """One channel path as `lschp` shows it: vary state (online/offline), configure state, type."""

    chpid: str  # two hex digits, `05`; CHPID 00 is a valid CHPID
    installed: bool = True
    operational: bool = True
    online: bool | None = None
    configure: str = ""
    type: str = ""

    @property
    def problem(self) -> str:
        """Why this path carries no I/O, '' when it does (or nothing is known)."""
        if not self.operational:
            return f"CHPID {self.chpid} not operational (POM)"
        if self.online is False:
            return f"CHPID {self.chpid} offline (chchp -v 1 {self.chpid})"
        if self.configure and self.configure != "configured":
            return f"CHPID {self.chpid} {self.configure} (chchp -c 1 {self.chpid})"
        return ""


def chp_states(dev: HostDevice) -> dict[str, ChpState]:
    """The states of the CHPIDs a device recorded (`chp_states`: `chpid:vary:configure:type` items)."""
    out: dict[str, ChpState] = {}
    for item in dev.fact(F.CHP_STATES).split():
        parts = item.split(":")
        if len(parts) == 4:
            out[parts[0]] = ChpState(parts[0], online={"1": True, "0": False}.get(parts[1]),
                                     configure=CHP_CONFIGURE.get(parts[2], parts[2]), type=parts[3])
    return out


def subchannel_paths(dev: HostDevice) -> list[ChpState]:
    """The installed channel paths of a subchannel: path i is installed when bit i (from the left) of the
    PIM in `pimpampom` is set, and operational when the same bit of the POM is; each names the i-th of the
    eight `chpids`, `00` included. Without a PIM (libvirt records) every non-zero CHPID is listed."""
    chpids = dev.fact(F.CHPIDS).split()
    pim_text = dev.fact(F.PIMPAMPOM)
    states = chp_states(dev)
    try:
        pim, pom = int(pim_text[0:2], 16), int(pim_text[4:6], 16)
    except (ValueError, IndexError):
        pim = pom = -1
    paths: list[ChpState] = []
    for i, chpid in enumerate(chpids[:8]):
        chpid = chpid.lower()
        if pim >= 0:
            if not pim & (0x80 >> i):
                continue
            operational = bool(pom & (0x80 >> i))
        elif not chpid.strip("0"):
            continue
        else:
            operational = True
        known = states.get(chpid)
        paths.append(ChpState(chpid, True, operational, known.online if known else None,
                              known.configure if known else "", known.type if known else ""))
    return paths


# --- DASD ------------------------------------------------------------------------------------------------

#: DASD `status` values under which the volume can carry no file system for a guest (dasd_devmap.c)
DASD_NOT_READY = frozenset(("new", "detected", "basic", "unformatted", "no stat", "unknown"))


def is_dasd_alias(dev: HostDevice) -> bool:
    """A PAV or HyperPAV alias: another path to a base volume, never a volume of its own."""
    return dev.fact(F.ALIAS) == "1"


def dasd_lcu(uid: str) -> str:
    """The logical control unit of a DASD uid (`IBM.750000000DXP71.5c00.3f` → `IBM.750000000DXP71.5c00`);
    a HyperPAV alias's uid ends in `.xx` and serves any base of that LCU."""
    parts = uid.split(".")
    return ".".join(parts[:3]) if len(parts) >= 4 else ""


def dasd_problem(dev: HostDevice) -> str:
    """Why a DASD cannot back a guest disk right now ('' when it can): offline, or a status short of
    `online` (an unformatted volume needs dasdfmt)."""
    if dev.fact(F.ONLINE) == "0":
        return f"offline (chzdev -e {dev.id})"
    status = dev.fact(F.STATUS)
    if status == "unformatted":
        return "volume is unformatted (dasdfmt, then fdasd)"
    if status in DASD_NOT_READY:
        return f"DASD status {status}"
    return ""
