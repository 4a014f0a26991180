"""The device model: immutable records for hosts, guests, guest devices and host devices.

Everything above this module (XML parsers, resolver, libvirt layer, CLI, TUI) exchanges these records.
They are frozen so a snapshot can be handed between threads and compared to the next one without copies;
a change is a new record, never a mutation. This module imports neither libvirt nor textual.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class GuestState(StrEnum):
    """A guest's state, spelled as libvirt and virsh spell it."""

    NOSTATE = "no state"
    RUNNING = "running"
    BLOCKED = "idle"
    PAUSED = "paused"
    SHUTDOWN = "in shutdown"
    SHUTOFF = "shut off"
    CRASHED = "crashed"
    PMSUSPENDED = "pmsuspended"
    UNKNOWN = "unknown"

    @classmethod
    def from_libvirt(cls, code: int) -> GuestState:
        """Map libvirt's virDomainState number (0..7) to its name; anything else is `unknown`."""
        order = (
            cls.NOSTATE,
            cls.RUNNING,
            cls.BLOCKED,
            cls.PAUSED,
            cls.SHUTDOWN,
            cls.SHUTOFF,
            cls.CRASHED,
            cls.PMSUSPENDED,
        )
        return order[code] if 0 <= code < len(order) else cls.UNKNOWN

    @property
    def is_active(self) -> bool:
        """True while QEMU runs for the guest (the states in which live hotplug applies)."""
        return self in (GuestState.RUNNING, GuestState.BLOCKED, GuestState.PAUSED, GuestState.SHUTDOWN,
                        GuestState.PMSUSPENDED)


class DeviceKind(StrEnum):
    """What a guest device is. The values are the `kind` strings of `ztui tree --json`."""

    # storage
    DISK = "disk"
    CDROM = "cdrom"
    FLOPPY = "floppy"
    LUN = "lun"
    CONTROLLER = "controller"
    # network interfaces, by how they reach the host
    NET_NETWORK = "net-network"
    NET_BRIDGE = "net-bridge"
    NET_OVS = "net-openvswitch"
    NET_DIRECT = "net-direct"
    NET_ETHERNET = "net-ethernet"
    NET_USER = "net-user"
    NET_VDPA = "net-vdpa"
    NET_HOSTDEV = "net-hostdev"
    NET_VHOSTUSER = "net-vhostuser"
    NET_OTHER = "net-other"
    # host devices passed through
    MDEV_VFIO_CCW = "mdev-vfio-ccw"
    MDEV_VFIO_AP = "mdev-vfio-ap"
    MDEV_OTHER = "mdev"
    HOSTDEV_PCI = "hostdev-pci"
    HOSTDEV_SCSI = "hostdev-scsi"
    HOSTDEV_SCSI_HOST = "hostdev-scsi-host"
    HOSTDEV_USB = "hostdev-usb"
    HOSTDEV_OTHER = "hostdev"
    # devices QEMU provides
    BALLOON = "balloon"
    RNG = "rng"
    VIDEO = "video"
    INPUT = "input"
    CONSOLE = "console"
    SERIAL = "serial"
    CHANNEL = "channel"
    PARALLEL = "parallel"
    VSOCK = "vsock"
    FILESYSTEM = "filesystem"
    WATCHDOG = "watchdog"
    PANIC = "panic"
    SHMEM = "shmem"
    GRAPHICS = "graphics"
    SOUND = "sound"
    AUDIO = "audio"
    TPM = "tpm"
    SMARTCARD = "smartcard"
    REDIRDEV = "redirdev"
    REDIRFILTER = "redirfilter"
    HUB = "hub"
    MEMORY = "memory"
    IOMMU = "iommu"
    CRYPTO = "crypto"
    NVRAM = "nvram"
    LEASE = "lease"
    PSTORE = "pstore"
    OTHER = "other"

    @property
    def category(self) -> DeviceCategory:
        """The group a device is listed under."""
        return _CATEGORY.get(self, DeviceCategory.OTHER)


class DeviceCategory(StrEnum):
    """Coarse grouping of device kinds, for display order and filters."""

    STORAGE = "storage"
    NETWORK = "network"
    PASSTHROUGH = "passthrough"
    VIRTUAL = "virtual"
    OTHER = "other"


_CATEGORY: dict[DeviceKind, DeviceCategory] = {
    **{k: DeviceCategory.STORAGE for k in (DeviceKind.DISK, DeviceKind.CDROM, DeviceKind.FLOPPY,
                                           DeviceKind.LUN, DeviceKind.CONTROLLER, DeviceKind.FILESYSTEM)},
    **{k: DeviceCategory.NETWORK for k in DeviceKind if k.value.startswith("net-")},
    **{k: DeviceCategory.PASSTHROUGH for k in DeviceKind
       if k.value.startswith(("mdev", "hostdev"))},
}
for _k in DeviceKind:
    _CATEGORY.setdefault(_k, DeviceCategory.VIRTUAL)
_CATEGORY[DeviceKind.OTHER] = DeviceCategory.OTHER


class AddressType(StrEnum):
    """The kind of guest-side address a device sits at (`address_type` in JSON)."""

    CCW = "ccw"
    PCI = "pci"
    ZPCI = "zpci"
    DRIVE = "drive"
    USB = "usb"
    OTHER = "other"
    NONE = "none"


VIRTUAL_CSSID = 0xFE
"""The css QEMU's virtual devices live in; a guest without MCSS-E (Linux) sees it as css 0."""


@dataclass(frozen=True, slots=True)
class CcwAddress:
    """A virtual channel-subsystem address. `cssid` is kept raw. A device in the virtual css 0xfe is what a
    Linux guest sees, as css 0, so `text` prints the bus-ID the guest uses: `0.<ssid>.<devno>`. A device in
    any other css is invisible to a guest without MCSS-E; its text keeps the raw css (`0x00.0.0007`) so it
    never reads like the bus-ID of a visible device."""

    cssid: int
    ssid: int
    devno: int

    @property
    def type(self) -> AddressType:
        return AddressType.CCW

    @property
    def visible(self) -> bool:
        """True when a Linux guest sees the device (it is in the virtual css)."""
        return self.cssid == VIRTUAL_CSSID

    @property
    def text(self) -> str:
        if self.visible:
            return format_busid(0, self.ssid, self.devno)
        return f"0x{self.cssid:02x}.{self.ssid:x}.{self.devno:04x}"


@dataclass(frozen=True, slots=True)
class Zpci:
    """The zPCI identifiers of a PCI function on IBM Z: user-defined id and function id."""

    uid: int | None
    fid: int | None

    @property
    def guest_address(self) -> str:
        """Where a Linux guest sees the function: QEMU enables uid checking, so the guest's PCI domain is
        the uid and the function sits at bus 0, slot 0 (`0019:00:00.0`); '' without a uid."""
        return format_pci(self.uid, 0, 0, 0) if self.uid is not None else ""

    @property
    def text(self) -> str:
        parts = []
        if self.uid is not None:
            parts.append(f"uid=0x{self.uid:04x}")
        if self.fid is not None:
            parts.append(f"fid=0x{self.fid:08x}")
        return " ".join(parts) or "zpci"


@dataclass(frozen=True, slots=True)
class PciAddress:
    """A PCI address `dddd:bb:ss.f`, with the zPCI extension when the guest is on IBM Z."""

    domain: int
    bus: int
    slot: int
    function: int
    zpci: Zpci | None = None

    @property
    def type(self) -> AddressType:
        return AddressType.ZPCI if self.zpci is not None else AddressType.PCI

    @property
    def text(self) -> str:
        base = format_pci(self.domain, self.bus, self.slot, self.function)
        if self.zpci is None:
            return base
        seen = self.zpci.guest_address
        return f"{base} {self.zpci.text}" + (f" (guest {seen})" if seen else "")


@dataclass(frozen=True, slots=True)
class DriveAddress:
    """A disk's place on a SCSI/IDE/SATA controller: controller:bus:target:unit."""

    controller: int
    bus: int
    target: int
    unit: int

    @property
    def type(self) -> AddressType:
        return AddressType.DRIVE

    @property
    def text(self) -> str:
        return f"{self.controller}:{self.bus}:{self.target}:{self.unit}"


@dataclass(frozen=True, slots=True)
class UsbAddress:
    """A USB bus and port."""

    bus: int
    port: str

    @property
    def type(self) -> AddressType:
        return AddressType.USB

    @property
    def text(self) -> str:
        return f"usb {self.bus}-{self.port}" if self.port else f"usb {self.bus}"


@dataclass(frozen=True, slots=True)
class OtherAddress:
    """Any address type ztui does not interpret (virtio-serial, isa, dimm, …), kept as its attributes."""

    raw_type: str
    attrs: tuple[tuple[str, str], ...] = ()

    @property
    def type(self) -> AddressType:
        return AddressType.OTHER

    @property
    def text(self) -> str:
        inner = " ".join(f"{k}={v}" for k, v in self.attrs)
        return f"{self.raw_type} {inner}".strip()


Address = CcwAddress | PciAddress | DriveAddress | UsbAddress | OtherAddress


def format_busid(cssid: int, ssid: int, devno: int) -> str:
    """Z bus-ID notation, `0.0.5c3f`: lower-case hex, devno always four digits."""
    return f"{cssid:x}.{ssid:x}.{devno:04x}"


def yes_no(text: str | None) -> bool | None:
    """One of libvirt's yes/no attributes (`managed`, `<cid auto>`, …): True for `yes`, False for `no`; None
    when it is absent (or anything else), so that the attribute's own default decides."""
    return {"yes": True, "no": False}.get(text or "")


def format_pci(domain: int, bus: int, slot: int, function: int) -> str:
    """PCI notation `dddd:bb:ss.f` as lspci -D prints it."""
    return f"{domain:04x}:{bus:02x}:{slot:02x}.{function:x}"


class StepKind(StrEnum):
    """What one step of a backing chain stands for (`kind` of a step in `ztui tree --json`)."""

    AP_CARD = "ap-card"
    AP_MATRIX = "ap-matrix"
    AP_QUEUE = "ap-queue"
    BLOCK = "block"
    BRIDGE = "bridge"
    CCW = "ccw"
    CHPID = "chpid"
    CSS = "css"
    DASD = "dasd"
    DIRECTORY = "directory"
    DM = "dm"
    FCP = "fcp"
    FILE = "file"
    LOOP = "loop"
    LUN = "lun"
    MACVTAP = "macvtap"
    MDEV = "mdev"
    MOUNT = "mount"
    MULTIPATH = "multipath"
    NET = "net"
    NETWORK = "network"
    OVS_BRIDGE = "ovs-bridge"
    PARENT = "parent"
    PARTITION = "partition"
    PCI = "pci"
    POOL = "pool"
    QETH = "qeth"
    REMOTE = "remote"
    SCSI = "scsi"
    SOURCE = "source"
    VDPA = "vdpa"
    VHOST_SCSI = "vhost-scsi"
    VOLUME = "volume"
    WWPN = "wwpn"


class IdentityKind(StrEnum):
    """What makes a volume the same volume wherever it is seen: the fact each kind of volume carries."""

    DASD = "dasd-uid"  # a base DASD's uid: vendor.serial.ssid.unit-address[.vduit] (dasd_devmap.c)
    SCSI = "scsi-wwid"  # a SCSI LUN's device identifier (VPD page 0x83: naa., eui., t10., a name string)
    NVME = "nvme-wwid"  # an NVMe namespace's wwid (eui., uuid., nvme.…)
    IMAGE = "image"  # an image file on storage several hosts share: that storage, and the file's path in it

    @property
    def label(self) -> str:
        return {IdentityKind.DASD: "DASD", IdentityKind.SCSI: "LUN", IdentityKind.NVME: "NVMe namespace",
                IdentityKind.IMAGE: "image"}[self]


@dataclass(frozen=True, slots=True, order=True)
class VolumeIdentity:
    """A volume's identity: equal identities on two hosts are one volume, whatever each host calls it."""

    kind: IdentityKind
    value: str

    @property
    def text(self) -> str:
        """`DASD IBM.750000000DXP71.5c00.05`, `LUN naa.6005076303ffc5620000000000001000`."""
        return f"{self.kind.label} {self.value}"


@dataclass(frozen=True, slots=True)
class HostVolume:
    """One volume as one host sees it: its identity, the device that stands for it there (the DASD's bus-ID,
    the multipath map, the NVMe namespace, the pool volume) and every device key of that host that is this
    volume (its paths, its block devices and their partitions)."""

    identity: VolumeIdentity
    device: str
    key: str
    keys: frozenset[str]


@dataclass(frozen=True, slots=True)
class VolumeUser:
    """A guest device on another host that uses a volume: `writes` when it uses it writable (neither
    `<readonly/>` nor `<shareable/>`)."""

    guest: str
    target: str
    running: bool
    writes: bool


@dataclass(frozen=True, slots=True)
class Sighting:
    """A volume on another host: which host (its name and URI), what that host calls it, and who uses it there."""

    host: str
    uri: str
    device: str
    users: tuple[VolumeUser, ...] = ()

    @property
    def text(self) -> str:
        """`zlab-y as 0.0.6c05 (used by zlnx07)`."""
        used = "; ".join(dict.fromkeys(f"{u.guest}{'' if u.running else ', not running'}" for u in self.users))
        return f"{self.host} as {self.device}" + (f" (used by {used})" if used else "")


@dataclass(frozen=True, slots=True)
class BackingStep:
    """One step of the chain from a guest device down to the host hardware that backs it.

    `device_key` names the host device (`HostDevice.key`) or host object (`file:/path`) the step stands
    for, so "who uses what" can be derived from the chains. `exclusive` marks the step the guest device
    takes for itself (a writable image, a passed-through function); a shared step (a bridge, the file
    system an image lives on) is not. `level` is the branch depth: a multipath device lists each of its
    paths one level deeper, so a flat list still draws as a tree. A step the guest takes for itself that
    the host also uses itself (a DASD behind the host's root file system) carries a warning.
    """

    kind: StepKind
    id: str
    name: str = ""
    warning: str | None = None
    device_key: str = ""
    exclusive: bool = False
    level: int = 0
    host_use: str = ""
    """How the host itself uses the device of this step (`/dev/dasda1 is mounted on /`), '' when it does not."""
    volume: VolumeIdentity | None = None
    """The identity of the volume this step is (on the first step of a chain that is a volume), else None."""
    also_on: tuple[Sighting, ...] = ()
    """The same volume on the other hosts of the session (set where several hosts are read together)."""


@dataclass(frozen=True, slots=True)
class GuestDevice:
    """One element under a guest's `<devices>` (the `<emulator>` path excepted).

    `target` is how the device is named towards the guest or the administrator: `vda` for a disk, the MAC
    for an interface, the mdev UUID for an mdev hostdev. `source` names what backs it on the host: a path,
    a network or bridge, a host PCI address. `xml` is the element's own XML, so nothing is lost even for
    elements ztui does not know.
    """

    kind: DeviceKind
    xml: str
    bus: str = ""
    model: str = ""
    target: str = ""
    alias: str = ""
    address: Address | None = None
    source: str = ""
    passthrough: bool = False
    migration_blocker: bool = False
    blocker_reason: str = ""
    details: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()
    backing: tuple[BackingStep, ...] = ()

    @property
    def address_type(self) -> AddressType:
        return self.address.type if self.address is not None else AddressType.NONE

    @property
    def address_text(self) -> str:
        return self.address.text if self.address is not None else ""

    @property
    def display_name(self) -> str:
        """The name a device is known by in every report and the name `--detach` takes: its target
        (`vda`, a MAC, an mdev UUID), else libvirt's alias, else its source, else its kind."""
        return self.target or self.alias or self.source or self.kind.value

    @property
    def busid(self) -> str:
        """The guest bus-ID for a ccw device, empty for anything else."""
        return self.address.text if isinstance(self.address, CcwAddress) else ""

    def detail(self, key: str) -> str:
        """One of the extra attributes (`details`), empty when absent."""
        for k, v in self.details:
            if k == key:
                return v
        return ""

    def detail_flag(self, key: str) -> bool | None:
        """A yes/no detail (`readonly`, `shareable`, `managed`) as the XML says it (`yes_no`); None when the
        XML does not say, and the asker's default decides."""
        return yes_no(self.detail(key))

    def with_backing(self, backing: tuple[BackingStep, ...]) -> GuestDevice:
        """The same device with another chain (what `dataclasses.replace` does, at a tenth of the cost:
        resolving a big host makes one per device)."""
        if backing == self.backing:
            return self
        return GuestDevice(self.kind, self.xml, self.bus, self.model, self.target, self.alias, self.address,
                           self.source, self.passthrough, self.migration_blocker, self.blocker_reason,
                           self.details, self.warnings, backing)


@dataclass(frozen=True, slots=True)
class Guest:
    """A libvirt domain as ztui shows it. `state` is None when only the XML is known (no connection)."""

    name: str
    uuid: str
    state: GuestState | None = None
    arch: str = ""
    machine: str = ""
    vcpus: int = 0
    memory_kib: int = 0
    domain_type: str = ""
    persistent: bool | None = None
    devices: tuple[GuestDevice, ...] = ()
    warnings: tuple[str, ...] = ()
    launch_security: str = ""  # `<launchSecurity type=…>`: s390-pv is IBM Secure Execution
    boot_devs: tuple[str, ...] = ()  # `<os><boot dev=…/>` in order (hd, cdrom, network, fd): legacy boot order
    secure_execution_form: SecureExecutionForm | None = None
    kernel: str = ""  # `<os><kernel>`: the guest starts from this file, not from a boot device

    @property
    def secure_execution(self) -> bool:
        """An IBM Secure Execution guest, defined with `<launchSecurity type='s390-pv'/>` or the older way
        (`iommu='on'` on every virtio device): its memory is protected from the host, so QEMU cannot migrate
        it live."""
        return self.secure_execution_form is not None or self.launch_security == "s390-pv"

    @property
    def blockers(self) -> tuple[GuestDevice, ...]:
        """Devices that stop a live migration until they are taken off."""
        return tuple(d for d in self.devices if d.migration_blocker)


class SecureExecutionForm(StrEnum):
    """How a guest is defined as an IBM Secure Execution guest (libvirt kbase s390_protected_virt)."""

    LAUNCH_SECURITY = "launchSecurity s390-pv"
    IOMMU = "iommu='on' on every virtio device, no <launchSecurity>"


class HostDeviceKind(StrEnum):
    """What a host device is; values follow libvirt's node-device capability names where one exists."""

    SYSTEM = "system"
    PCI = "pci"
    USB_DEVICE = "usb_device"
    USB_INTERFACE = "usb"
    NET = "net"
    SCSI_HOST = "scsi_host"
    SCSI_TARGET = "scsi_target"
    SCSI = "scsi"
    STORAGE = "storage"
    BLOCK = "block"
    DRM = "drm"
    MDEV = "mdev"
    CCW = "ccw"
    CSS = "css"
    CCWGROUP = "ccwgroup"
    VDPA = "vdpa"
    AP_CARD = "ap_card"
    AP_QUEUE = "ap_queue"
    AP_MATRIX = "ap_matrix"
    CHPID = "chpid"  # a channel path (`/sys/devices/css0/chp0.05`), id `0.05` as lschp writes it
    VPD = "vpd"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class MdevType:
    """A mediated-device type a parent device offers (e.g. `vfio_ccw-io` on a subchannel)."""

    id: str
    name: str = ""
    device_api: str = ""
    available: int | None = None


@dataclass(frozen=True, slots=True)
class Fact:
    """One attribute of a host device, remembering where it was read (`libvirt` or `udev`)."""

    key: str
    value: str
    source: str


@dataclass(frozen=True, slots=True)
class HostDevice:
    """A device on the host, from libvirt's node devices or from udev.

    `id` is the device's own identity in the notation an administrator types: bus-ID `0.0.5c3f` for ccw
    and css devices, `dddd:bb:ss.f` for PCI, the UUID for an mdev, `07.0038` for an AP queue,
    `card07` for an AP card (as the kernel names them), `0.05` for a channel path,
    the interface name for a network interface, the devnode for a block device.
    """

    kind: HostDeviceKind
    name: str
    id: str
    parent: str = ""
    driver: str = ""
    sysfs_path: str = ""
    devnodes: tuple[str, ...] = ()
    mdev_types: tuple[MdevType, ...] = ()
    iommu_group: int | None = None
    facts: tuple[Fact, ...] = ()
    source: str = "libvirt"
    xml: str = ""
    warnings: tuple[str, ...] = ()
    # derived once, because resolving a big host asks for them tens of thousands of times
    key: str = field(init=False, repr=False, compare=False)
    """A key unique within one host: ids alone collide (subchannel `0.0.0000` and ccw device `0.0.0000`
    usually both exist), so the kind is part of it, e.g. `css:0.0.0010`."""
    _fact_values: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", device_key(self.kind, self.id))
        values: dict[str, str] = {}
        for f in self.facts:
            values.setdefault(f.key, f.value)
        object.__setattr__(self, "_fact_values", values)

    def fact(self, key: str) -> str:
        """The value of one fact (the first, when a key repeats), empty when absent."""
        return self._fact_values.get(key, "")

    def has_fact(self, key: str) -> bool:
        """Whether the fact was read at all: an attribute the kernel may leave empty (a vfio-ap mdev's
        `matrix`, a DASD's `uid`) is kept empty, which is not the same as not read."""
        return key in self._fact_values


def device_key(kind: HostDeviceKind | str, id: str) -> str:
    """The `HostDevice.key` of a device of this kind and id (`file:/path` for host objects).

    libvirt's `storage` and udev's `block` records of one devnode get the same key, and so do libvirt's
    `ap_matrix` and udev's `matrix`, so a device has one key whichever side reported it."""
    text = kind.value if isinstance(kind, HostDeviceKind) else kind
    if text == "storage":
        text = "block"
    elif text == "ap_matrix" and id == "ap_matrix":
        id = "matrix"
    return f"{text}:{id}"


@dataclass(frozen=True, slots=True)
class NetworkInfo:
    """A libvirt virtual network: the bridge it makes and how it forwards (nat, bridge, macvtap …)."""

    name: str
    bridge: str = ""
    forward_mode: str = ""
    forward_devs: tuple[str, ...] = ()
    active: bool | None = None


@dataclass(frozen=True, slots=True)
class DeviceUse:
    """One guest device using one host device (or host object such as an image file).

    `exclusive` is true when the guest device needs the host device for itself (pass-through, a writable
    disk); two running guests using the same device exclusively is a conflict."""

    device_key: str
    guest: str
    guest_uuid: str
    target: str
    device_kind: DeviceKind
    running: bool
    exclusive: bool
    host_uri: str | None = None


@dataclass(frozen=True, slots=True)
class Eligibility:
    """Whether a subchannel, PCI function or AP queue is ready for VFIO pass-through, and what is missing.

    `wanted_driver` is the VFIO driver it must be bound to; `missing` lists what an administrator has to
    do first, each item one sentence."""

    device_key: str
    ready: bool
    driver: str
    wanted_driver: str
    missing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Host:
    """One libvirt connection: its URI (None for saved XML read without a connection) and what it holds."""

    uri: str | None
    hostname: str = ""
    connected: bool = True
    guests: tuple[Guest, ...] = ()
    host_devices: tuple[HostDevice, ...] = ()
    error: str = ""
    warnings: tuple[str, ...] = field(default=())
    facts: str = ""
    """Where the host facts behind the chains come from when they are not read live on this machine
    (`IBM z16 (simulated)`, a recorded snapshot); empty for live and remote hosts."""
    volumes: tuple[HostVolume, ...] = ()
    """Every volume of the host that carries an identity (a DASD uid, a LUN's WWID, …), for joining hosts."""
