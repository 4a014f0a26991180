"""The vocabulary of host-device facts, and the answers every layer shares about them.

A `HostDevice` carries its attributes as `Fact`s keyed by name. The readers (`ztui.host.udev` from sysfs,
`ztui.libvirtxml.nodedev` from node-device XML) write them and the resolver, the usage checks, the reports
and the operations read them; a key spelled differently on one side is a fact silently lost, so every
key is named once here (`F`). Where the two readers describe the same thing they use the same key
(`wwpn`, `uid`, `online`); where they cannot (libvirt's `channel_dev_addr`, udev's `dev_busid`) both keys
are listed and the question is answered by one function below.

Facts read from sysfs keep the kernel's text; each is read through its attribute's reader in
`ztui.zsysfs`. The questions asked of facts in more than one place live here too, once: a ccw device's
role, a qeth card's kind, whether an interface is a Linux bridge, WWPN/LUN notation, a subchannel's channel
paths, AP queue and card names, a DASD's uid, discipline and alias base, and whether a connection's host is
this machine. Pure: imports only the model and `ztui.zsysfs`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final
from urllib.parse import urlsplit

from ztui.model import HostDevice, HostDeviceKind
from ztui.zsysfs import (
    CHP_CONFIGURE,
    ApCard,
    ApMatrix,
    CcwDevice,
    ChannelPath,
    Dasd,
    DasdUid,
    Subchannel,
    VfioAp,
    ZfcpLun,
    Zpci,
    ap_card,
    apqn,
    attribute_of,
)

__all__ = [
    "ApMatrix",
    "CardKind",
    "CcwRole",
    "F",
    "FactSource",
    "ap_card",
    "apqn",
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
    # --- channel paths (`chp0.05`) ------------------------------------------------------------------
    CHP_STATUS: Final = "status"  # vary state: online / offline
    CHP_CONFIGURE: Final = "configure"  # 0 standby, 1 configured, 2 reserved, 3 not recognized
    CHP_TYPE: Final = "type"  # channel-path type, hex
    CHID: Final = "chid"  # the PCHID/VCHID (empty when the firmware gives none)
    CHID_EXTERNAL: Final = "chid_external"
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
    DISCIPLINE: Final = "discipline"  # DASD: ECKD, `FBA ` (with its space), DIAG, none
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
    CCWGROUP_STATE: Final = "ccwgroup_state"  # libvirt: `online` / `offline` (the group's `online`, in words)
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
    WWID: Final = "wwid"  # a SCSI device's VPD 0x83 identifier (`naa.…`), an NVMe namespace's wwid (`eui.…`)
    WWN: Final = "wwn"  # udev's ID_WWN_WITH_EXTENSION (else ID_WWN) of a disk: `0x` and the NAA in hex
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
    # --- mdevs --------------------------------------------------------------------------------------
    MDEV_TYPE: Final = "mdev_type"
    MATRIX: Final = "matrix"  # vfio-ap: what is assigned, the kernel's `AA.DDDD` lines
    GUEST_MATRIX: Final = "guest_matrix"  # vfio-ap: what the guest really gets (kept empty when it is)
    CONTROL_DOMAINS: Final = "control_domains"  # vfio-ap: one `DDDD` line per control domain
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
    DUMP_TYPE: Final = "dump_type"  # /sys/firmware/dump/dump_type: none, ccw, eckd, fcp, nvme
    DUMP_DEVICE: Final = "dump_device"  # /sys/firmware/dump/<type>/device (ccw, eckd, fcp)
    DUMP_WWPN: Final = "dump_wwpn"  # /sys/firmware/dump/fcp/wwpn
    DUMP_LUN: Final = "dump_lun"  # /sys/firmware/dump/fcp/lun
    DUMP_FID: Final = "dump_fid"  # /sys/firmware/dump/nvme/fid
    IPL_TYPE: Final = "ipl_type"  # /sys/firmware/ipl/ipl_type
    IPL_DEVICE: Final = "ipl_device"  # /sys/firmware/ipl/device


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


def kernel_flag(dev: HostDevice, key: str) -> bool | None:
    """A 0/1 attribute the kernel writes (`online`, `readonly`, `zfcp_access_denied`, `uid_is_unique`, …),
    read through its reader (`ztui.zsysfs`): True or False, None when it was not read or is not in the
    kernel's format (unknown, never a guess)."""
    attr = attribute_of(dev.kind, key)
    if attr is None or not dev.has_fact(key):
        return None
    value = attr.read(dev.fact(key))
    return value if isinstance(value, bool) else None


def is_online(dev: HostDevice) -> bool | None:
    """Whether a ccw device, qeth card or AP card or queue is online: its `online`, or for a qeth card
    libvirt knows alone, libvirt's `<state>` of the group (`online`/`offline`); None when unknown."""
    found = kernel_flag(dev, F.ONLINE)
    if found is None and dev.kind is HostDeviceKind.CCWGROUP:
        found = {"online": True, "offline": False}.get(dev.fact(F.CCWGROUP_STATE))
    return found


def is_linux_bridge(dev: HostDevice) -> bool:
    """Whether a network interface is a Linux bridge (udev: its `DEVTYPE` or its sysfs `bridge` directory).
    A PCI function's `bridge` fact is its bridge capability, no interface: never a Linux bridge."""
    return dev.kind is HostDeviceKind.NET and dev.fact(F.BRIDGE) == "yes"


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


def is_virtual_interface(dev: HostDevice) -> bool:
    """Whether a network interface is one the kernel made itself, with no device of its own behind it (udev:
    it sits under /sys/devices/virtual — a bridge, a tap, a macvtap, a veth, a VLAN on a lower device)."""
    return dev.kind is HostDeviceKind.NET and dev.fact(F.VIRTUAL) == "yes"


def is_ovs_interface(dev: HostDevice) -> bool:
    """Whether Open vSwitch holds a network interface (udev: its master is `ovs-system`): an OVS bridge's own
    interface or a port of one."""
    return dev.kind is HostDeviceKind.NET and dev.fact(F.OVS) == "yes"


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


def zfcp_path(scsi: HostDevice) -> tuple[str, str, str]:
    """The FCP channel, WWPN and FCP LUN of a SCSI device behind zFCP (`0.0.1700`, `0x500507630300c562`,
    `0x4001400000000000`), read from its `hba_id`, `wwpn` and `fcp_lun`; '' for each one not known."""
    wwpn, lun = ZfcpLun.wwpn.read(scsi.fact(F.WWPN)), ZfcpLun.fcp_lun.read(scsi.fact(F.FCP_LUN))
    return (ZfcpLun.hba_id.read(scsi.fact(F.HBA_ID)) or "", f"0x{wwpn:016x}" if wwpn is not None else "",
            f"0x{lun:016x}" if lun is not None else "")


def zpci_uid(pci: HostDevice) -> int | None:
    """A zPCI function's user-defined id: sysfs's `uid` (`0x%x`, through its reader), or the one libvirt
    names (`0x%.4x`, padded); None when unknown."""
    fact = next((f for f in pci.facts if f.key == F.UID), None) if pci.kind is HostDeviceKind.PCI else None
    if fact is None:
        return None
    if fact.source != FactSource.LIBVIRT:
        return Zpci.uid.read(fact.value)
    try:
        return int(fact.value, 16) if fact.value.lower().startswith("0x") else None
    except ValueError:
        return None


def unique_zpci_uid(pci: HostDevice) -> int | None:
    """A zPCI function's user-defined id when the machine guarantees it unique (`uid_is_unique` 1: UID
    checking is active, the same uid names the same function on every LPAR); None otherwise."""
    return zpci_uid(pci) if kernel_flag(pci, F.UID_IS_UNIQUE) else None


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


def parse_ap_matrix(text: str) -> ApMatrix:
    """The kernel's `matrix` text (`07.0038`, `07.`, `.0038` lines); an empty matrix when the text is not in
    the kernel's format."""
    return VfioAp.matrix.read(text) or ApMatrix()


def ap_queue_numbers(queue_id: str) -> tuple[int, int] | None:
    """(adapter, domain) of a queue named as the kernel names it (`07.0038`), None for anything else."""
    adapter, dot, domain = queue_id.partition(".")
    if not dot or len(adapter) != 2 or len(domain) != 4:
        return None
    try:
        return int(adapter, 16), int(domain, 16)
    except ValueError:
        return None


def ap_card_of(queue_id: str) -> str:
    """The card a queue is on (`07.0038` → `card07`); '' for a name that is no queue."""
    numbers = ap_queue_numbers(queue_id)
    return ap_card(numbers[0]) if numbers is not None else ""


def mdev_ap_matrix(dev: HostDevice) -> ApMatrix:
    """The matrix assigned to a vfio-ap mdev: its sysfs `matrix` when read from sysfs, else the cross
    product of libvirt's/mdevctl's `assign_adapter` x `assign_domain` attributes, each read as the kernel
    reads the value written to it (`kernel_number`)."""
    if dev.has_fact(F.MATRIX):
        return parse_ap_matrix(dev.fact(F.MATRIX))
    adapters = {n for x in dev.fact(F.ASSIGN_ADAPTER).split(",") if (n := kernel_number(x)) is not None}
    domains = {n for x in dev.fact(F.ASSIGN_DOMAIN).split(",") if (n := kernel_number(x)) is not None}
    return ApMatrix(frozenset(adapters), frozenset(domains),
                    frozenset((a, d) for a in adapters for d in domains))


def mdev_guest_matrix(dev: HostDevice) -> ApMatrix | None:
    """What the guest of a vfio-ap mdev really gets (`guest_matrix`), None when it was not read (libvirt,
    or a kernel without the attribute) or is not in the kernel's format."""
    return VfioAp.guest_matrix.read(dev.fact(F.GUEST_MATRIX)) if dev.has_fact(F.GUEST_MATRIX) else None


def mdev_control_domains(dev: HostDevice) -> frozenset[int]:
    """A vfio-ap mdev's control domains (sysfs `control_domains`, or libvirt's `assign_control_domain`)."""
    if dev.has_fact(F.CONTROL_DOMAINS):
        return VfioAp.control_domains.read(dev.fact(F.CONTROL_DOMAINS)) or frozenset()
    return frozenset(n for x in dev.fact(F.ASSIGN_CONTROL_DOMAIN).split(",") if (n := kernel_number(x)) is not None)


# AP function facility bits (arch ap.h: MEX4K 1, CRT4K 2, COPRO 3, ACCEL 4, EP11 5), numbered from the most
# significant bit of the 32-bit `ap_functions` word, as `ap_test_bit` does
_AP_MODES = ((5, "EP11"), (3, "CCA"), (4, "Accelerator"))


def ap_card_mode(ap_functions: str) -> str:
    """`CCA`, `EP11` or `Accelerator` from a card's `ap_functions` (`0x92000000`), as lszcrypt shows it."""
    word = ApCard.ap_functions.read(ap_functions)
    if word is None:
        return ""
    for bit, mode in _AP_MODES:
        if word & (0x80000000 >> bit):
            return mode
    return ""


def ap_queue_state(dev: HostDevice) -> str:
    """An AP queue's state as lszcrypt words it: `online`, `offline`, `deconfig`, `checkstop`."""
    if kernel_flag(dev, F.AP_CONFIG) is False:
        return "deconfig"
    if kernel_flag(dev, F.AP_CHKSTOP):
        return "checkstop"
    return {True: "online", False: "offline", None: ""}[is_online(dev)]


def carried_busid(css: HostDevice) -> str:
    """The bus-ID of the ccw device a subchannel carries: udev's `dev_busid` (`none` when it carries none,
    css.c), libvirt's `channel_dev_addr`, else the ccw child io_subchannel holds; '' for none."""
    if css.fact(F.DEV_BUSID):
        return Subchannel.dev_busid.read(css.fact(F.DEV_BUSID)) or ""
    busid = css.fact(F.CHANNEL_DEV_ADDR) or css.fact(F.CCW_DEVICE).split(",")[0]
    return "" if busid == "none" else busid


def driver_override(dev: HostDevice) -> str:
    """The driver a subchannel or PCI function is overridden to, '' when none (`(null)` in sysfs)."""
    return Subchannel.driver_override.read(dev.fact(F.DRIVER_OVERRIDE)) or ""


# --- channel paths ---------------------------------------------------------------------------------------


def chpid_id(text: str) -> str:
    """A CHPID as lschp names it, `0.05` (css 0): sysfs writes `05` (`chpids`) or `05` upper-case (qeth's
    `chpid`), libvirt `0x05`; '' for text that is no CHPID."""
    t = text.strip().lower().removeprefix("0x")
    if t.startswith("0.") and len(t) == 4:
        t = t[2:]
    try:
        value = int(t, 16) if t else -1
    except ValueError:
        return ""
    return f"0.{value:02x}" if 0 <= value <= 0xFF else ""


@dataclass(frozen=True, slots=True)
class ChpState:
    """One channel path of a subchannel: installed (PIM), available (PAM) and operational (POM) for it, and
    the CHPID's own state as lschp shows it (vary state online/offline, configure state, type)."""

    chpid: str  # two hex digits, `05`; CHPID 00 is a valid CHPID
    installed: bool = True
    available: bool = True
    operational: bool = True
    online: bool | None = None  # the CHPID's vary state (`status`); None when not known
    configure: str = ""  # standby, configured, reserved, not recognized; '' when not known
    type: str = ""  # the channel-path type as lschp prints it (`1b`)

    @property
    def chp_problem(self) -> str:
        """Why the CHPID itself carries no I/O, with the command that changes it; '' when it does."""
        if self.configure and self.configure != "configured":
            return f"CHPID {self.chpid} {self.configure} (chchp -c 1 {self.chpid})"
        if self.online is False:
            return f"CHPID {self.chpid} offline (chchp -v 1 {self.chpid})"
        return ""

    @property
    def path_problem(self) -> str:
        """Why this subchannel's path over the CHPID carries no I/O although the CHPID is up: not available
        (PAM) or not operational (POM), from the subchannel's own masks; '' otherwise."""
        if self.chp_problem:
            return ""
        if not self.available:
            return f"CHPID {self.chpid} not available (PAM): configure it (chchp -c 1 {self.chpid})"
        if not self.operational:
            return (f"CHPID {self.chpid} not operational (POM): once the link to the control unit is repaired, "
                    f"chchp -v 1 {self.chpid} verifies the path again")
        return ""

    @property
    def problem(self) -> str:
        """Why this path carries no I/O ('' when it does, or nothing is known): the CHPID's state first,
        else the subchannel's masks."""
        return self.chp_problem or self.path_problem

    @property
    def word(self) -> str:
        """`05`, or `05(offline)` for a path that carries no I/O, as compact as lscss's CHPID column."""
        why = ("not operational" if not self.operational else "not available" if not self.available else
               "offline" if self.online is False else
               self.configure if self.configure and self.configure != "configured" else "")
        return f"{self.chpid}({why})" if why else self.chpid


def chp_state(chp: HostDevice, chpid: str = "") -> ChpState:
    """A channel path record's own state (`status`, `configure`, `type`), as one path of no subchannel."""
    configure = ChannelPath.configure.read(chp.fact(F.CHP_CONFIGURE))
    kind = ChannelPath.type.read(chp.fact(F.CHP_TYPE))
    return ChpState(chpid or chp.id.rpartition(".")[2], online=ChannelPath.status.read(chp.fact(F.CHP_STATUS)),
                    configure=CHP_CONFIGURE.get(configure, str(configure)) if configure is not None else "",
                    type=f"{kind:02x}" if kind is not None else "")


def subchannel_paths(dev: HostDevice, chp: Callable[[str], HostDevice | None] = lambda _: None) -> list[ChpState]:
    """The installed channel paths of a subchannel: path i is installed when bit i (0x80 >> i) of the PIM
    in `pimpampom` is set, available and operational when the same bit of the PAM and POM is; each names
    the i-th of the eight `chpids`, `00` included. `chp` finds the channel path record of a CHPID (`0.05`)
    for its vary and configure state. Empty when the masks or CHPIDs are unknown (a libvirt record, or
    text not in the kernel's format)."""
    chpids = Subchannel.chpids.read(dev.fact(F.CHPIDS))
    masks = Subchannel.pimpampom.read(dev.fact(F.PIMPAMPOM))
    if chpids is None or masks is None:
        return []
    paths: list[ChpState] = []
    for i, number in enumerate(chpids):
        bit = 0x80 >> i
        if not masks.pim & bit:
            continue
        chpid = f"{number:02x}"
        record = chp(f"0.{chpid}")
        known = chp_state(record, chpid) if record is not None else ChpState(chpid)
        paths.append(ChpState(chpid, True, bool(masks.pam & bit), bool(masks.pom & bit), known.online,
                              known.configure, known.type))
    return paths


# --- DASD ------------------------------------------------------------------------------------------------

#: DASD `status` values under which the volume can carry no file system for a guest (dasd_devmap.c)
DASD_NOT_READY = frozenset(("new", "detected", "basic", "unformatted", "no stat", "unknown"))


def dasd_alias(dev: HostDevice) -> bool | None:
    """Whether a DASD is a PAV or HyperPAV alias — another path to a base volume, never a volume of its own
    —, by its `alias` attribute, or by a uid whose unit address is `xx` (a HyperPAV alias); None when neither
    tells (the attribute not read, or not in the kernel's words)."""
    flag = Dasd.alias.read(dev.fact(F.ALIAS)) if dev.has_fact(F.ALIAS) else None
    return True if flag or dasd_uid(dev).hyperpav else flag


def is_dasd_alias(dev: HostDevice) -> bool:
    """A PAV or HyperPAV alias (`dasd_alias`), as far as its facts tell."""
    return dasd_alias(dev) is True


def dasd_uid(dev: HostDevice) -> DasdUid:
    """A DASD's uid (empty for FBA, DIAG, an offline device, or text not in the kernel's format)."""
    return Dasd.uid.read(dev.fact(F.UID)) or DasdUid()


def dasd_discipline(dev: HostDevice) -> str:
    """`ECKD`, `FBA` or `DIAG` (the kernel writes `FBA ` with a space), from the DASD's `discipline`, else
    from its driver or device type (an offline DASD has no discipline: `none`); '' when unknown."""
    found = Dasd.discipline.read(dev.fact(F.DISCIPLINE))
    if found:
        return found
    devtype = CcwDevice.devtype.read(dev.fact(F.DEVTYPE)) or ""
    if dev.driver == "dasd-eckd" or devtype.startswith(("3390/", "3380/")):
        return "ECKD"
    if dev.driver == "dasd-fba" or devtype.startswith(("9336/", "3370/")):
        return "FBA"
    if dev.driver == "dasd-diag":
        return "DIAG"
    return ""


def alias_bases(alias: HostDevice, devices: Iterable[HostDevice]) -> list[HostDevice]:
    """The base devices a PAV alias serves: a classic PAV alias the one base with its very uid (its unit
    address is the base's), a HyperPAV alias (uid ending `.xx`) every base of its logical control unit."""
    uid = dasd_uid(alias)
    if not uid:
        return []
    found = []
    for dev in devices:
        other = dasd_uid(dev) if dev.kind is HostDeviceKind.CCW and dev is not alias else DasdUid()
        if not other or is_dasd_alias(dev):
            continue
        if (uid.hyperpav and other.lcu == uid.lcu) or (not uid.hyperpav and other.text == uid.text):
            found.append(dev)
    return sorted(found, key=lambda d: d.id)


def alias_problem(alias: HostDevice, devices: Iterable[HostDevice],
                  usable: Callable[[HostDevice], bool] = lambda _base: True) -> str:
    """Why a PAV alias cannot back a guest disk, naming its base: an alias is online but carries I/O for
    base volumes and has no block device of its own (lsdasd lists it as `alias`). Only bases that are
    `usable` are offered in its place (never one the host itself uses)."""
    uid = dasd_uid(alias)
    kind = "HyperPAV alias" if uid.hyperpav else "PAV alias"
    bases = [b for b in alias_bases(alias, devices) if usable(b)]
    if not bases:
        where = f" of {uid.lcu}" if uid.hyperpav and uid else ""
        return (f"{alias.id} is a {kind}{where}: it is online but has no block device of its own and cannot be "
                "attached; attach its base device")
    if uid.hyperpav:
        names = ", ".join(b.id for b in bases[:4]) + (", …" if len(bases) > 4 else "")
        return (f"{alias.id} is a HyperPAV alias of {uid.lcu}: it is online but has no block device of its own "
                f"and cannot be attached; attach one of its bases ({names})")
    return (f"{alias.id} is a PAV alias: it is online but has no block device of its own and cannot be "
            f"attached; attach its base {bases[0].id}")


#: the drivers and control-unit types of tape devices (drivers/s390/char/tape_34xx.c, tape_3590.c)
_TAPE_DRIVERS = ("tape_34xx", "tape_3590")
_TAPE_CU = ("3480/", "3490/", "3590/")
#: why vfio-ccw takes ECKD DASD only: the kernel's Documentation/arch/s390/vfio-ccw.rst, "Limitations"
VFIO_CCW_ECKD_ONLY = ("vfio-ccw supports the block device commands of ECKD DASD only (kernel "
                      "Documentation/arch/s390/vfio-ccw.rst, Limitations)")


def vfio_ccw_problem(ccw: HostDevice, devices: Iterable[HostDevice] = (),
                     usable: Callable[[HostDevice], bool] = lambda _base: True) -> str:
    """Why vfio-ccw cannot pass this ccw device through ('' when it can): only a base ECKD DASD can — not
    an FBA or DIAG DASD, not a tape, not a PAV alias (its base can), not a QDIO device (FCP, OSA,
    HiperSockets). `devices` lets an alias name its base, if it is `usable` (`alias_problem`)."""
    role = ccw_role(ccw)
    cutype = CcwDevice.cutype.read(ccw.fact(F.CUTYPE)) or ""
    if role in (CcwRole.FCP, CcwRole.QETH) or cutype.startswith("1731/"):
        what = {CcwRole.FCP: "an FCP channel", CcwRole.QETH: "a qeth (OSA/HiperSockets) device"}.get(
            role, f"a QDIO device (cutype {cutype})")
        return f"{ccw.id} is {what}: QDIO devices cannot be passed through with vfio-ccw"
    if ccw.driver in _TAPE_DRIVERS or cutype.startswith(_TAPE_CU):
        return f"{ccw.id} is a tape: {VFIO_CCW_ECKD_ONLY}"
    discipline = dasd_discipline(ccw)
    if role is CcwRole.DASD or discipline:
        if is_dasd_alias(ccw):
            return alias_problem(ccw, devices, usable)
        if discipline and discipline != "ECKD":
            return f"{ccw.id} is {'an' if discipline == 'FBA' else 'a'} {discipline} DASD: {VFIO_CCW_ECKD_ONLY}"
        return ""
    return f"{ccw.id} is not an ECKD DASD ({ccw.driver or 'no driver'}, cutype {cutype or '?'}): {VFIO_CCW_ECKD_ONLY}"


def dasd_problem(dev: HostDevice) -> str:
    """Why a DASD cannot back a guest disk right now ('' when it can): offline, or a status short of
    `online` (an unformatted volume needs dasdfmt)."""
    if CcwDevice.online.read(dev.fact(F.ONLINE)) is False:
        return f"offline (chzdev -e {dev.id})"
    status = Dasd.status.read(dev.fact(F.STATUS)) or ""
    if status == "unformatted":
        return "volume is unformatted (dasdfmt, then fdasd)"
    if status in DASD_NOT_READY:
        return f"DASD status {status}"
    return ""
