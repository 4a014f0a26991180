"""The local host's devices from udev and sysfs, as `HostDevice` records (the only module importing pyudev).

libvirt's node devices miss most of what an IBM Z administrator looks at (DASD online state, qeth card
type and CHPID, the zFCP path of a SCSI LUN, zPCI uid/fid), and they are not there at all on a host whose
libvirt is older than the hardware. udev sees all of it, on the local host only.

pyudev enumerates; attribute values are read straight from the sysfs files instead of through
`Device.attributes`, because libudev caches a value per device object for the object's lifetime and ztui
re-reads one device after an event. `read_device(sys_path)` builds a fresh record for one device.

The IBM Z attributes (`ztui.zsysfs`) are kept exactly as the kernel wrote them, less the newline that ends
a sysfs value — `pimpampom` with its spaces, `chpids` with its trailing space, an empty `matrix` as empty —
and read through their readers where they are used; a value that is not in the kernel's format is said
once per walk and attribute (`ztui.zsysfs.report_misreads`). Other attributes are kept stripped.

Nothing here raises for odd data: a missing attribute is an empty fact, an unknown driver is just a name,
and a device of a subsystem ztui does not know is skipped. Fact keys are the ones `ztui.host.resolve` reads.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable

import pyudev

from ztui.facts import CcwRole, F, FactSource, ap_card_mode, card_kind, ccw_role_of_driver
from ztui.host.sysfs import THIS_HOST
from ztui.model import Fact, HostDevice, HostDeviceKind, MdevType
from ztui.zsysfs import MdevTypes, UltraVisor, report_misreads

log = logging.getLogger("ztui.host.udev")

SOURCE = FactSource.UDEV.value

#: the subsystems enumerated, in the order their records are returned
SUBSYSTEMS = ("css", "ccw", "ccwgroup", "scsi", "block", "net", "pci", "ap", "matrix", "mdev")

_QUEUE = re.compile(r"^([0-9a-fA-F]{2})\.([0-9a-fA-F]{4})$")
_CARD = re.compile(r"^card([0-9a-fA-F]{2})$")
_HCTL = re.compile(r"^\d+:\d+:\d+:\d+$")


# --- raw sysfs reads (fresh every time) ---------------------------------------------------------------


def _read(path: str, name: str) -> str:
    """One sysfs attribute, stripped; empty when absent, unreadable or write-only."""
    try:
        with open(os.path.join(path, name), "rb") as f:
            return f.read(65536).decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _link(path: str, name: str) -> str:
    """The last component of a sysfs symlink (`driver` → `vfio_ccw`); empty when there is none."""
    try:
        return os.path.basename(os.readlink(os.path.join(path, name)))
    except OSError:
        return ""


def _listdir(path: str, name: str) -> list[str]:
    try:
        return sorted(os.listdir(os.path.join(path, name)))
    except OSError:
        return []


def _kernel_text(path: str, name: str) -> str | None:
    """One sysfs attribute as the kernel wrote it, less the one newline a value ends with (spaces and empty
    values kept); None when absent or unreadable."""
    try:
        with open(os.path.join(path, name), "rb") as f:
            text = f.read(65536).decode("utf-8", "replace")
    except OSError:
        return None
    return text[:-1] if text.endswith("\n") else text


# --- one device ---------------------------------------------------------------------------------------


class _Builder:
    """Collects the facts of one device; empty values are dropped so absent attributes cost nothing."""

    def __init__(self, device: pyudev.Device) -> None:
        self.device = device
        self.path = str(device.sys_path)
        self.facts: list[Fact] = []
        self.warnings: list[str] = []

    def fact(self, key: str, value: str | None) -> str:
        if value:
            self.facts.append(Fact(key, value, SOURCE))
        return value or ""

    def fact_value(self, key: str) -> str:
        """A fact already collected for this device ('' when absent)."""
        return next((f.value for f in self.facts if f.key == key), "")

    def attr(self, key: str, name: str | None = None) -> str:
        return self.fact(key, _read(self.path, name or key))

    def kernel(self, key: str, name: str | None = None, *, path: str | None = None) -> str:
        """An IBM Z attribute kept in the kernel's words (`ztui.zsysfs`), empty values included."""
        text = _kernel_text(path or self.path, name or key)
        if text is not None:
            self.facts.append(Fact(key, text, SOURCE))
        return text or ""

    def prop(self, name: str) -> str:
        try:
            return str(self.device.properties.get(name, "") or "")
        except (KeyError, UnicodeDecodeError):  # pragma: no cover - libudev oddities
            return ""

    def mdev_types(self) -> tuple[MdevType, ...]:
        types = []
        for tid in _listdir(self.path, "mdev_supported_types"):
            base = os.path.join(self.path, "mdev_supported_types", tid)
            types.append(MdevType(id=tid, name=MdevTypes.name.read(_kernel_text(base, "name")) or "",
                                  device_api=MdevTypes.device_api.read(_kernel_text(base, "device_api")) or "",
                                  available=MdevTypes.available_instances.read(
                                      _kernel_text(base, "available_instances"))))
        return tuple(types)

    def build(self, kind: HostDeviceKind, id: str, *, devnodes: tuple[str, ...] = (),
              mdev_types: tuple[MdevType, ...] = (), parent: str = "") -> HostDevice:
        group = _link(self.path, "iommu_group")
        return HostDevice(
            kind=kind, name=str(self.device.sys_name), id=id, parent=parent,
            driver=_link(self.path, "driver") or self.prop("DRIVER"), sysfs_path=self.path,
            devnodes=devnodes, mdev_types=mdev_types,
            iommu_group=int(group) if group.isdigit() else None,
            facts=tuple(self.facts), source=SOURCE, warnings=tuple(self.warnings))


_BUSID = re.compile(r"^[0-9a-f]\.[0-9a-f]\.[0-9a-f]{4}$")


def _css(b: _Builder) -> HostDevice | None:
    if not _BUSID.match(str(b.device.sys_name)):
        return None  # the channel subsystem itself (css0), not a subchannel
    for key in (F.SCH_TYPE, F.CHPIDS, F.PIMPAMPOM, F.DEV_BUSID, F.DRIVER_OVERRIDE):
        b.kernel(key)
    # the ccw device a subchannel carries, as long as io_subchannel holds it (vfio_ccw hides it)
    children = [c for c in _listdir(b.path, ".") if _BUSID.match(c)]
    b.fact(F.CCW_DEVICE, ",".join(children))
    return b.build(HostDeviceKind.CSS, str(b.device.sys_name), mdev_types=b.mdev_types())


_CHP = re.compile(r"^chp([0-9a-f]+)\.([0-9a-f]{2})$")


def channel_paths(sysfs: str = "/sys") -> list[HostDevice]:
    """The channel paths (`/sys/devices/css0/chp0.05`), one record each, id `0.05` as lschp names them. They
    belong to no bus or class, so udev cannot list them: their directories are."""
    found: list[HostDevice] = []
    devices = os.path.join(sysfs, "devices")
    for css in _listdir(devices, "."):
        if not css.startswith("css"):
            continue
        for name in _listdir(devices, css):
            m = _CHP.match(name)
            if m is None:
                continue
            path = os.path.join(devices, css, name)
            facts = [Fact(key, text, SOURCE) for key in (F.CHP_STATUS, F.CHP_CONFIGURE, F.CHP_TYPE, F.CHID,
                                                         F.CHID_EXTERNAL)
                     if (text := _kernel_text(path, key)) is not None]
            found.append(HostDevice(HostDeviceKind.CHPID, name, f"{int(m.group(1), 16):x}.{m.group(2)}",
                                    sysfs_path=path, facts=tuple(facts), source=SOURCE))
    return found


def _ccw(b: _Builder) -> HostDevice:
    for key in (F.CUTYPE, F.DEVTYPE, F.ONLINE, F.AVAILABILITY):
        b.kernel(key)
    driver = _link(b.path, "driver") or b.prop("DRIVER")
    role = ccw_role_of_driver(driver)
    b.fact(F.ROLE, role.value)
    if role is CcwRole.FCP:
        for key in (F.PEER_WWPN, F.IN_RECOVERY, F.FAILED):
            b.kernel(key)
    if role is CcwRole.DASD:
        for key in (F.STATUS, F.DISCIPLINE, F.READONLY, F.UID, F.ALIAS, F.RAW_TRACK_ACCESS, F.ESE, F.USE_DIAG):
            b.kernel(key)
    group = _link(b.path, "group_device")
    b.fact(F.GROUP_DEVICE, group)
    parent = b.device.parent
    return b.build(HostDeviceKind.CCW, str(b.device.sys_name),
                   parent=str(parent.sys_name) if parent is not None else "")


def _ccwgroup(b: _Builder) -> HostDevice:
    card_type = b.kernel(F.CARD_TYPE)
    b.fact(F.CARD_KIND, card_kind(card_type))
    for key in (F.IF_NAME, F.CHPID, F.LAYER2, F.STATE, F.ONLINE, F.PORTNO, F.BRIDGE_ROLE):
        b.kernel(key)
    members = [_link(b.path, f"cdev{i}") for i in range(3)]
    b.fact(F.CCW_DEVICES, ",".join(m for m in members if m))
    return b.build(HostDeviceKind.CCWGROUP, str(b.device.sys_name))


def _scsi(b: _Builder) -> HostDevice | None:
    name = str(b.device.sys_name)
    devtype = b.prop("DEVTYPE")
    if devtype == "scsi_host" or name.startswith("host"):
        b.attr(F.UNIQUE_ID)
        # the FC host of a zFCP channel: NPIV when the port is a virtual one (`NPIV VPORT`, and a
        # `port_name` other than the `permanent_port_name`)
        fc = os.path.join(b.path, "fc_host", name)
        for key in (F.PORT_TYPE, F.PORT_NAME, F.PERMANENT_PORT_NAME, F.PORT_STATE):
            b.kernel(key, path=fc)
        return b.build(HostDeviceKind.SCSI_HOST, name)
    if not _HCTL.match(name):
        return None  # targets and transport objects: the resolver walks through them by sysfs path
    for key in (F.HBA_ID, F.WWPN, F.FCP_LUN, F.ZFCP_ACCESS_DENIED, F.ZFCP_FAILED, F.ZFCP_IN_RECOVERY):
        b.kernel(key)
    for key in (F.VENDOR, F.MODEL, F.STATE):
        b.attr(key)
    b.kernel(F.WWID)  # the LUN's identifier from VPD page 0x83, the same on every path and every LPAR
    # the remote port's state (Online, Blocked, Not Present), from the fc_remote_port above the target
    rport = os.path.dirname(os.path.dirname(b.path))
    if os.path.basename(rport).startswith("rport-"):
        b.kernel(F.RPORT_STATE, "port_state",
                 path=os.path.join(rport, "fc_remote_ports", os.path.basename(rport)))
    b.attr(F.SCSI_TYPE, "type")
    return b.build(HostDeviceKind.SCSI, name)


def _block(b: _Builder) -> HostDevice:
    devnode = str(b.device.device_node or "") or f"/dev/{b.device.sys_name}"
    links = tuple(sorted(b.prop("DEVLINKS").split()))
    b.fact(F.DEVTYPE, b.prop("DEVTYPE"))
    b.fact(F.MAJMIN, f"{b.prop('MAJOR')}:{b.prop('MINOR')}" if b.prop("MAJOR") else _read(b.path, "dev"))
    b.attr(F.SIZE)
    b.attr(F.RO)
    b.attr(F.PARTITION)
    b.fact(F.DM_NAME, b.prop("DM_NAME") or _read(b.path, "dm/name"))
    b.fact(F.DM_UUID, b.prop("DM_UUID") or _read(b.path, "dm/uuid"))
    b.fact(F.SLAVES, ",".join(f"/dev/{s}" for s in _listdir(b.path, "slaves")))
    b.fact(F.HOLDERS, ",".join(f"/dev/{s}" for s in _listdir(b.path, "holders")))
    b.fact(F.LOOP_BACKING_FILE, _read(b.path, "loop/backing_file"))
    b.fact(F.FS_TYPE, b.prop("ID_FS_TYPE"))
    b.fact(F.SERIAL, b.prop("ID_SERIAL"))
    b.fact(F.WWN, b.prop("ID_WWN_WITH_EXTENSION") or b.prop("ID_WWN"))
    if str(b.device.sys_name).startswith("nvme"):
        b.kernel(F.WWID)  # an NVMe namespace's own identifier (a partition has none)
    return b.build(HostDeviceKind.BLOCK, devnode, devnodes=(devnode, *links))


def _net(b: _Builder) -> HostDevice:
    name = str(b.device.sys_name)
    devtype = b.prop("DEVTYPE")
    b.fact(F.DEVTYPE, devtype)
    b.attr(F.ADDRESS)
    b.attr(F.OPERSTATE)
    master = _link(b.path, "master")
    b.fact(F.MASTER, master)
    b.fact(F.OVS, "yes" if master == "ovs-system" else "")
    entries = _listdir(b.path, ".")
    b.fact(F.LOWER, ",".join(e[len("lower_"):] for e in entries if e.startswith("lower_")))
    b.fact(F.UPPER, ",".join(e[len("upper_"):] for e in entries if e.startswith("upper_")))
    if devtype == "bridge" or "bridge" in entries:
        b.fact(F.BRIDGE, "yes")
        b.fact(F.BRIDGE_PORTS, ",".join(_listdir(b.path, "brif")))
    b.fact(F.VIRTUAL, "yes" if "/devices/virtual/" in b.path else "")
    return b.build(HostDeviceKind.NET, name)


_ZPCI = (F.UID, F.FUNCTION_ID, F.PCHID, F.PFT, F.PORT, F.UID_IS_UNIQUE, F.VFN)


def _pci(b: _Builder) -> HostDevice:
    for key in (F.VENDOR, F.DEVICE, F.CLASS, F.SUBSYSTEM_VENDOR, F.SUBSYSTEM_DEVICE):
        b.attr(key)
    for key in (*_ZPCI, F.DRIVER_OVERRIDE):
        b.kernel(key)
    b.fact(F.PHYSFN, _link(b.path, "physfn"))
    b.fact(F.NET, ",".join(_listdir(b.path, "net")))
    return b.build(HostDeviceKind.PCI, str(b.device.sys_name), mdev_types=b.mdev_types())


def _ap(b: _Builder) -> HostDevice | None:
    name = str(b.device.sys_name).lower()
    if _CARD.match(name):
        for key in (F.AP_TYPE, F.HWTYPE, F.RAW_HWTYPE, F.ONLINE, F.AP_FUNCTIONS, F.AP_CONFIG, F.DEPTH,
                    F.AP_CHKSTOP):
            b.kernel(key)
        b.fact(F.AP_MODE, ap_card_mode(b.fact_value(F.AP_FUNCTIONS)))
        return b.build(HostDeviceKind.AP_CARD, name)  # `card07`, as the kernel and lszcrypt name it
    if _QUEUE.match(name):
        for key in (F.ONLINE, F.AP_CONFIG, F.AP_CHKSTOP):
            b.kernel(key)
        return b.build(HostDeviceKind.AP_QUEUE, name)  # `07.0038`
    return None


def _matrix(b: _Builder) -> HostDevice:
    return b.build(HostDeviceKind.AP_MATRIX, str(b.device.sys_name), mdev_types=b.mdev_types())


def _mdev(b: _Builder) -> HostDevice:
    b.fact(F.MDEV_TYPE, _link(b.path, "mdev_type"))
    # vfio-ap: `matrix` is what is assigned (`AA.DDDD`, or `AA.` / `.DDDD` while the other half is empty),
    # `guest_matrix` what the running guest really gets, `control_domains` one domain per line
    for key in (F.MATRIX, F.GUEST_MATRIX, F.CONTROL_DOMAINS):
        b.kernel(key)
    parent = b.device.parent
    return b.build(HostDeviceKind.MDEV, str(b.device.sys_name),
                   parent=str(parent.sys_name) if parent is not None else "")


_BUILDERS: dict[str, Callable[[_Builder], HostDevice | None]] = {
    "css": _css, "ccw": _ccw, "ccwgroup": _ccwgroup, "scsi": _scsi, "block": _block, "net": _net,
    "pci": _pci, "ap": _ap, "matrix": _matrix, "mdev": _mdev,
}


def host_device(device: pyudev.Device) -> HostDevice | None:
    """The record of one udev device, or None for a subsystem or object ztui does not track."""
    builder = _BUILDERS.get(str(device.subsystem or ""))
    if builder is None:
        return None
    try:
        return builder(_Builder(device))
    except (OSError, ValueError, KeyError) as exc:  # a device vanishing mid-read must not stop the rest
        log.debug("udev device %s skipped: %s", device.sys_path, exc)
        return None


HOST_ID = "host"
"""The id of the record that stands for the host machine itself (`system:host`)."""


_FIRMWARE = ((F.DUMP_TYPE, "dump", "dump_type"), (F.IPL_TYPE, "ipl", "ipl_type"), (F.IPL_DEVICE, "ipl", "device"))
_DUMP_TARGET = {"ccw": ((F.DUMP_DEVICE, "device"),), "eckd": ((F.DUMP_DEVICE, "device"),),
                "fcp": ((F.DUMP_DEVICE, "device"), (F.DUMP_WWPN, "wwpn"), (F.DUMP_LUN, "lun")),
                "nvme": ((F.DUMP_FID, "fid"),)}


def host_system(sysfs: str = "/sys") -> HostDevice | None:
    """The host machine's own facts, from files that belong to no device: whether it can run IBM Secure
    Execution guests (`/sys/firmware/uv/prot_virt_host`, 1 once the host booted with `prot_virt=1`), the
    device its kernel dumps to (`/sys/firmware/dump`, set by dumpconf) and the one it was IPLed from
    (`/sys/firmware/ipl`). None on a machine with none of them (not IBM Z)."""
    firmware = os.path.join(sysfs, "firmware")
    uv = os.path.join(firmware, "uv")
    facts: list[Fact] = []
    if os.path.isdir(uv):
        value = _kernel_text(uv, "prot_virt_host")
        if value is not None:
            facts.append(Fact(F.PROT_VIRT, value, SOURCE))
    for key, directory, name in _FIRMWARE:
        text = _kernel_text(os.path.join(firmware, directory), name)
        if text is not None:
            facts.append(Fact(key, text, SOURCE))
            if key == F.DUMP_TYPE:
                for target_key, target in _DUMP_TARGET.get(text, ()):
                    found = _kernel_text(os.path.join(firmware, "dump", text), target)
                    if found is not None:
                        facts.append(Fact(target_key, found, SOURCE))
    if not os.path.isdir(uv) and not facts:
        return None
    prot_virt = UltraVisor.prot_virt_host.read(next((f.value for f in facts if f.key == F.PROT_VIRT), None))
    warnings = ("Secure Execution guests cannot start here: boot the host with prot_virt=1",) \
        if os.path.isdir(uv) and prot_virt is False else ()
    return HostDevice(HostDeviceKind.SYSTEM, HOST_ID, HOST_ID, sysfs_path=firmware, facts=tuple(facts),
                      source=SOURCE, warnings=warnings)


def udev_devices(context: pyudev.Context | None = None,
                 subsystems: Iterable[str] = SUBSYSTEMS) -> tuple[HostDevice, ...]:
    """Every tracked device of the local host, its channel paths, and the host's own record (`host_system`).
    Cost: one sysfs walk per subsystem (milliseconds). Values not in the kernel's format are said once."""
    ctx = context or pyudev.Context()
    found: list[HostDevice] = []
    system = host_system()
    if system is not None:
        found.append(system)
    found.extend(channel_paths())
    for subsystem in subsystems:
        try:
            devices = list(ctx.list_devices(subsystem=subsystem))
        except (OSError, pyudev.DeviceNotFoundError) as exc:  # pragma: no cover - no /sys at all
            log.debug("udev enumeration of %s failed: %s", subsystem, exc)
            continue
        for device in devices:
            record = host_device(device)
            if record is not None:
                found.append(record)
    report_misreads(THIS_HOST, found)
    return tuple(found)


def read_device(sys_path: str, context: pyudev.Context | None = None) -> HostDevice | None:
    """One device read fresh (after a udev event), or None when it is gone or not tracked."""
    try:
        device = pyudev.Devices.from_sys_path(context or pyudev.Context(), sys_path)
    except (pyudev.DeviceNotFoundError, OSError, ValueError):
        return None
    record = host_device(device)
    if record is not None:
        report_misreads(THIS_HOST, (record,))
    return record


def udev_available() -> bool:
    """True when this machine has a sysfs udev can enumerate (not in some containers)."""
    return os.path.isdir("/sys/devices")


class UdevWatch:
    """Tells about changes of tracked devices on this host, from a background thread.

    Without a udev daemon (containers, minimal hosts) the kernel's own uevents are read instead of
    udevd's rebroadcast: they name the same devices, only without udev's properties, and the caller
    re-reads the device from sysfs anyway (`read_device`).
    """

    def __init__(self, on_change: Callable[[str, str], None], subsystems: Iterable[str] = SUBSYSTEMS,
                 context: pyudev.Context | None = None) -> None:
        self._on_change = on_change
        self._subsystems = tuple(subsystems)
        self._context = context or pyudev.Context()
        self._observer: pyudev.MonitorObserver | None = None
        self.source = "udev" if os.path.exists("/run/udev/control") else "kernel"

    def start(self) -> None:
        monitor = pyudev.Monitor.from_netlink(self._context, source=self.source)
        for subsystem in self._subsystems:
            monitor.filter_by(subsystem)

        def event(device: pyudev.Device) -> None:
            try:
                self._on_change(str(device.action or "change"), str(device.sys_path))
            except Exception:  # a failing callback must not end the watch
                log.exception("udev event handler failed")

        self._observer = pyudev.MonitorObserver(monitor, callback=event, name="udev-watch", daemon=True)
        self._observer.start()

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.send_stop()
            self._observer = None
