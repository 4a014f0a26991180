"""A libvirt test-driver host file with N IBM Z guests: the fixture for browsing and scale.

libvirt's test driver (`test:///abs/path/host.xml`) loads a whole host from one XML file: a `<node>` root
holding `<domain>`, `<network>` and `<device>` elements (see virt-manager's `testdriver.xml`). It needs no
daemon, no QEMU and no VFIO, yet answers `listAllDomains`, `XMLDesc`, `listAllDevices` and emits lifecycle
events, which is what the tree, the resolver and the benchmarks need. Actions (attach, detach, migrate) are
refused by that driver; they are exercised against the real lab instead.

Each generated guest is a plausible s390x KVM guest of about twelve devices: virtio-ccw disks (one a qcow2
image, one a DASD by bus-ID path) and interfaces with explicit ccw addresses, a virtio-scsi controller
with a SCSI disk on a multipath FCP LUN, a vfio-ccw and a vfio-ap mdev hostdev, a zPCI hostdev, a balloon,
an RNG and the SCLP console. The node devices are what backs them on the host: the subchannels and DASDs,
the vfio-ccw mdevs on their subchannels, the AP matrix with its cards, queues and vfio-ap mdevs, and the
PCI functions — so every guest-side pass-through device resolves to a host device by UUID or address.

Everything is derived from the guest number (names `lnx001`…, UUIDs by `uuid5`, MACs and device numbers
by arithmetic): the same N gives the same file, byte for byte. The XML is built with ElementTree only.
"""

from __future__ import annotations

import os
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from ztui.model import format_busid, format_pci

__all__ = [
    "MAX_GUESTS",
    "TEST_NS",
    "build_testdriver",
    "build_testdriver_xml",
    "guest_name",
    "guest_running",
    "guest_uuid",
    "node_device_counts",
    "write_testdriver",
]

TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"
"""The test driver's namespace for per-domain state (`<test:runstate>`), as in virt-manager's file."""

MAX_GUESTS = 0x7000
"""Upper bound that keeps every generated subchannel and device number inside 0x0000..0xffff."""

_RUNSTATE_RUNNING = 1  # virDomainState VIR_DOMAIN_RUNNING
_RUNSTATE_SHUTOFF = 5  # VIR_DOMAIN_SHUTOFF
_UUID_NS = uuid.UUID("0b7c1f3e-6a64-4f59-9d0a-7a1d3c2b9e10")  # fixed: makes every UUID reproducible
_VIRTUAL_CSSID = 0xFE  # virtio-ccw devices live in the virtual channel subsystem
_DASD_DEVNO_BASE = 0x1000  # host DASD used by the guest's virtio-blk vdb
_VFIO_DEVNO_BASE = 0x8000  # host DASD passed through with vfio-ccw
_AP_DOMAINS_PER_ADAPTER = 85  # usage domains 0..84, as on a real crypto express adapter
_FCP_HOSTS = (("0.0.1900", 0, "c05076ffe5005611"), ("0.0.1940", 1, "c05076ffe5005651"))
_OSA_BUSID = "0.0.bd00"
_OSA_INTERFACE = "encbd00"

ET.register_namespace("test", TEST_NS)


# ------------------------------------------------------------------------------------ per-guest values


def guest_name(index: int, guests: int) -> str:
    """`lnx001`…: numbered from 1, zero-padded to at least three digits so names sort like numbers."""
    return f"lnx{index + 1:0{max(3, len(str(guests)))}d}"


def guest_running(index: int) -> bool:
    """Two of three guests run, every third is shut off: both states appear from three guests on."""
    return index % 3 != 2


def guest_uuid(index: int) -> str:
    return _uuid("guest", index)


def _uuid(what: str, index: int) -> str:
    return str(uuid.uuid5(_UUID_NS, f"{what}-{index}"))


def _vfio_ccw_uuid(index: int) -> str:
    return _uuid("vfio-ccw", index)


def _vfio_ap_uuid(index: int) -> str:
    return _uuid("vfio-ap", index)


def _ap_pair(index: int) -> tuple[int, int]:
    """The (adapter, usage domain) a guest's vfio-ap mdev gets; unique per guest."""
    return 1 + index // _AP_DOMAINS_PER_ADAPTER, index % _AP_DOMAINS_PER_ADAPTER


def _zpci_host(index: int) -> tuple[int, int, int]:
    """Host PCI domain, zPCI uid and fid of the guest's function (Linux on Z numbers domains in order)."""
    return index, index + 1, 0x100 + index


def _mac(prefix: int, index: int) -> str:
    return f"52:54:{prefix:02x}:{(index >> 16) & 0xFF:02x}:{(index >> 8) & 0xFF:02x}:{index & 0xFF:02x}"


def _lun_wwid(index: int) -> str:
    return f"36005076307ffc5e3000000000000{index:04x}"


# -------------------------------------------------------------------------------------- XML helpers


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    """`ET.SubElement` with optional text, so each device reads as one short block."""
    elem = ET.SubElement(parent, tag, attrs)
    if text is not None:
        elem.text = text
    return elem


def _hex(value: int, digits: int = 1) -> str:
    return f"0x{value:0{digits}x}"


def _ccw_address(parent: ET.Element, devno: int) -> None:
    _sub(parent, "address", type="ccw", cssid=_hex(_VIRTUAL_CSSID, 2), ssid="0x0", devno=_hex(devno, 4))


# ------------------------------------------------------------------------------------------- domains


def _domain(index: int, guests: int) -> ET.Element:
    """One s390x guest in test-driver form: state first (`<test:runstate>`), then a normal definition."""
    dom = ET.Element("domain", type="test")
    state = _RUNSTATE_RUNNING if guest_running(index) else _RUNSTATE_SHUTOFF
    _sub(dom, f"{{{TEST_NS}}}runstate", str(state))
    name = guest_name(index, guests)
    _sub(dom, "name", name)
    _sub(dom, "uuid", guest_uuid(index))
    _sub(dom, "memory", str(2 * 1024 * 1024), unit="KiB")
    _sub(dom, "vcpu", str(1 + index % 4))
    os_elem = _sub(dom, "os")
    _sub(os_elem, "type", "hvm", arch="s390x", machine="s390-ccw-virtio")
    _sub(dom, "on_crash", "preserve")
    devices = _sub(dom, "devices")
    for add in _DEVICE_BUILDERS:
        add(devices, index, name)
    return dom


def _disk_image(devices: ET.Element, index: int, name: str) -> None:
    disk = _sub(devices, "disk", type="file", device="disk")
    _sub(disk, "driver", name="qemu", type="qcow2", cache="none")
    _sub(disk, "source", file=f"/var/lib/libvirt/images/{name}.qcow2")
    _sub(disk, "target", dev="vda", bus="virtio")
    _sub(disk, "boot", order="1")
    _ccw_address(disk, 0x0000)


def _disk_dasd(devices: ET.Element, index: int, name: str) -> None:
    """A whole host DASD given to the guest as virtio-blk, named by its bus-ID path like admins do."""
    disk = _sub(devices, "disk", type="block", device="disk")
    _sub(disk, "driver", name="qemu", type="raw", cache="none", io="native")
    _sub(disk, "source", dev=f"/dev/disk/by-path/ccw-{_dasd_busid(index)}")
    _sub(disk, "target", dev="vdb", bus="virtio")
    _ccw_address(disk, 0x0001)


def _net_network(devices: ET.Element, index: int, name: str) -> None:
    iface = _sub(devices, "interface", type="network")
    _sub(iface, "mac", address=_mac(0x00, index))
    _sub(iface, "source", network="default")
    _sub(iface, "model", type="virtio")
    _ccw_address(iface, 0x0002)


def _net_direct(devices: ET.Element, index: int, name: str) -> None:
    """macvtap on the OSA card's interface: the usual way a Z guest reaches the LAN."""
    iface = _sub(devices, "interface", type="direct")
    _sub(iface, "mac", address=_mac(0x01, index))
    _sub(iface, "source", dev=_OSA_INTERFACE, mode="bridge")
    _sub(iface, "model", type="virtio")
    _ccw_address(iface, 0x0003)


def _scsi_controller(devices: ET.Element, index: int, name: str) -> None:
    ctrl = _sub(devices, "controller", type="scsi", index="0", model="virtio-scsi")
    _ccw_address(ctrl, 0x0004)


def _scsi_disk(devices: ET.Element, index: int, name: str) -> None:
    """An FCP LUN through host multipath, on the virtio-scsi controller."""
    disk = _sub(devices, "disk", type="block", device="disk")
    _sub(disk, "driver", name="qemu", type="raw", cache="none", io="native")
    _sub(disk, "source", dev=f"/dev/mapper/{_lun_wwid(index)}")
    _sub(disk, "target", dev="sda", bus="scsi")
    _sub(disk, "address", type="drive", controller="0", bus="0", target="0", unit="0")


def _hostdev_vfio_ccw(devices: ET.Element, index: int, name: str) -> None:
    hostdev = _sub(devices, "hostdev", mode="subsystem", type="mdev", model="vfio-ccw")
    source = _sub(hostdev, "source")
    _sub(source, "address", uuid=_vfio_ccw_uuid(index))
    _ccw_address(hostdev, 0x0005)


def _hostdev_vfio_ap(devices: ET.Element, index: int, name: str) -> None:
    hostdev = _sub(devices, "hostdev", mode="subsystem", type="mdev", model="vfio-ap")
    source = _sub(hostdev, "source")
    _sub(source, "address", uuid=_vfio_ap_uuid(index))


def _hostdev_zpci(devices: ET.Element, index: int, name: str) -> None:
    """A PCI function passed through, with the zPCI uid/fid the guest will see."""
    domain, uid, fid = _zpci_host(index)
    hostdev = _sub(devices, "hostdev", mode="subsystem", type="pci", managed="yes")
    _sub(hostdev, "driver", name="vfio")
    source = _sub(hostdev, "source")
    _sub(source, "address", domain=_hex(domain, 4), bus="0x00", slot="0x00", function="0x0")
    address = _sub(hostdev, "address", type="pci", domain="0x0000", bus="0x00", slot="0x01", function="0x0")
    _sub(address, "zpci", uid=_hex(uid, 4), fid=_hex(fid, 8))


def _balloon(devices: ET.Element, index: int, name: str) -> None:
    balloon = _sub(devices, "memballoon", model="virtio")
    _ccw_address(balloon, 0x0006)


def _rng(devices: ET.Element, index: int, name: str) -> None:
    rng = _sub(devices, "rng", model="virtio")
    _sub(rng, "backend", "/dev/urandom", model="random")
    _ccw_address(rng, 0x0007)


def _console(devices: ET.Element, index: int, name: str) -> None:
    console = _sub(devices, "console", type="pty")
    _sub(console, "target", type="sclp", port="0")


_DEVICE_BUILDERS = (
    _disk_image, _disk_dasd, _net_network, _net_direct, _scsi_controller, _scsi_disk,
    _hostdev_vfio_ccw, _hostdev_vfio_ap, _hostdev_zpci, _balloon, _rng, _console,
)


# -------------------------------------------------------------------------------------- node devices


def _nodedev(name: str, parent: str | None, path: str | None, driver: str | None,
             cap_type: str) -> tuple[ET.Element, ET.Element]:
    """A `<device>` skeleton; returns it and its `<capability>` for the caller to fill."""
    dev = ET.Element("device")
    _sub(dev, "name", name)
    if path:
        _sub(dev, "path", path)
    if parent:
        _sub(dev, "parent", parent)
    if driver:
        driver_elem = _sub(dev, "driver")
        _sub(driver_elem, "name", driver)
    return dev, _sub(dev, "capability", type=cap_type)


def _ccw_ids(cap: ET.Element, devno: int) -> None:
    _sub(cap, "cssid", "0x0")
    _sub(cap, "ssid", "0x0")
    _sub(cap, "devno", _hex(devno, 4))


def _mdev_types(cap: ET.Element, type_id: str, name: str, api: str, available: int) -> None:
    types = _sub(cap, "capability", type="mdev_types")
    mtype = _sub(types, "type", id=type_id)
    _sub(mtype, "name", name)
    _sub(mtype, "deviceAPI", api)
    _sub(mtype, "availableInstances", str(available))


def _dasd_busid(index: int) -> str:
    return format_busid(0, 0, _DASD_DEVNO_BASE + index)


def _css(schid: int, driver: str, devno: int, vfio: bool) -> ET.Element:
    """A subchannel; one bound to vfio_ccw offers the vfio_ccw-io type (already used: 0 available)."""
    busid = format_busid(0, 0, schid)
    dev, cap = _nodedev(f"css_0_0_{schid:04x}", "computer", f"/sys/devices/css0/{busid}", driver, "css")
    _ccw_ids(cap, schid)
    channel = _sub(cap, "channel_dev_addr")
    _ccw_ids(channel, devno)
    if vfio:
        _mdev_types(cap, "vfio_ccw-io", "I/O subchannel (Non-QDIO)", "vfio-ccw", 0)
    return dev


def _guest_ccw_nodedevs(index: int) -> Iterator[ET.Element]:
    """Host side of the guest's DASD (subchannel + ccw device) and of its vfio-ccw pass-through
    (subchannel on vfio_ccw + the mdev on it)."""
    dasd_sch, vfio_sch = 2 * index, 2 * index + 1
    dasd_devno, vfio_devno = _DASD_DEVNO_BASE + index, _VFIO_DEVNO_BASE + index
    yield _css(dasd_sch, "io_subchannel", dasd_devno, vfio=False)
    busid = format_busid(0, 0, dasd_devno)
    dev, cap = _nodedev(f"ccw_0_0_{dasd_devno:04x}", f"css_0_0_{dasd_sch:04x}",
                        f"/sys/devices/css0/{format_busid(0, 0, dasd_sch)}/{busid}", "dasd-eckd", "ccw")
    _ccw_ids(cap, dasd_devno)
    yield dev
    yield _css(vfio_sch, "vfio_ccw", vfio_devno, vfio=True)
    mdev_uuid = _vfio_ccw_uuid(index)
    sch_busid = format_busid(0, 0, vfio_sch)
    dev, cap = _nodedev(f"mdev_{mdev_uuid.replace('-', '_')}", f"css_0_0_{vfio_sch:04x}",
                        f"/sys/devices/css0/{sch_busid}/{mdev_uuid}", "vfio_ccw_mdev", "mdev")
    _sub(cap, "type", id="vfio_ccw-io")
    _sub(cap, "uuid", mdev_uuid)
    _sub(cap, "parent_addr", sch_busid)
    _sub(cap, "iommuGroup", number=str(index))
    yield dev


def _guest_ap_nodedevs(index: int) -> Iterator[ET.Element]:
    """The guest's AP queue and the vfio-ap mdev that assigns it."""
    adapter, domain = _ap_pair(index)
    dev, cap = _nodedev(f"ap_{adapter:02x}_{domain:04x}", f"ap_card{adapter:02x}",
                        f"/sys/devices/ap/card{adapter:02x}/{adapter:02x}.{domain:04x}", "vfio_ap", "ap_queue")
    _sub(cap, "ap-adapter", _hex(adapter, 2))
    _sub(cap, "ap-domain", _hex(domain, 4))
    yield dev
    mdev_uuid = _vfio_ap_uuid(index)
    dev, cap = _nodedev(f"mdev_{mdev_uuid.replace('-', '_')}", "ap_matrix",
                        f"/sys/devices/vfio_ap/matrix/{mdev_uuid}", "vfio_ap_mdev", "mdev")
    _sub(cap, "type", id="vfio_ap-passthrough")
    _sub(cap, "uuid", mdev_uuid)
    _sub(cap, "parent_addr", "matrix")
    _sub(cap, "iommuGroup", number=str(0x4000 + index))
    for key, value in (("assign_adapter", adapter), ("assign_domain", domain), ("assign_control_domain", domain)):
        _sub(cap, "attr", name=key, value=_hex(value, 2))
    yield dev


def _guest_pci_nodedev(index: int) -> ET.Element:
    """The zPCI function a guest gets (a RoCE VF). libvirt 9.0 node-device XML has no zPCI element: the
    `<zpci>` written here is ignored by libvirt and kept only for readers of the file itself."""
    domain, uid, fid = _zpci_host(index)
    address = format_pci(domain, 0, 0, 0)
    dev, cap = _nodedev(f"pci_{domain:04x}_00_00_0", "computer", f"/sys/devices/pci{domain:04x}:00/{address}",
                        "vfio-pci", "pci")
    for tag, value in (("class", "0x020000"), ("domain", str(domain)), ("bus", "0"), ("slot", "0"),
                       ("function", "0")):
        _sub(cap, tag, value)
    _sub(cap, "product", "ConnectX-4 Lx Virtual Function", id="0x1016")
    _sub(cap, "vendor", "Mellanox Technologies", id="0x15b3")
    group = _sub(cap, "iommuGroup", number=str(0x8000 + index))
    _sub(group, "address", domain=_hex(domain, 4), bus="0x00", slot="0x00", function="0x0")
    _sub(cap, "zpci", uid=_hex(uid, 4), fid=_hex(fid, 8))
    return dev


def _shared_nodedevs(guests: int) -> Iterator[ET.Element]:
    """Devices every host has once: the root, the AP matrix and cards, the OSA card, the FCP channels."""
    dev, cap = _nodedev("computer", None, None, None, "system")
    hardware = _sub(cap, "hardware")
    _sub(hardware, "vendor", "IBM")
    _sub(hardware, "version", "3931")
    _sub(hardware, "uuid", _uuid("host", 0))
    _sub(cap, "firmware")
    yield dev
    dev, cap = _nodedev("ap_matrix", "computer", "/sys/devices/vfio_ap/matrix", "vfio_ap", "ap_matrix")
    _mdev_types(cap, "vfio_ap-passthrough", "VFIO AP Passthrough Device", "vfio-ap", 65536 - guests)
    yield dev
    for adapter in sorted({_ap_pair(i)[0] for i in range(guests)}):
        dev, cap = _nodedev(f"ap_card{adapter:02x}", "computer", f"/sys/devices/ap/card{adapter:02x}", "cex4card",
                            "ap_card")
        _sub(cap, "ap-adapter", _hex(adapter, 2))
        yield dev
    dev, cap = _nodedev(f"net_{_OSA_INTERFACE}", "computer", f"/sys/devices/qeth/{_OSA_BUSID}/net/{_OSA_INTERFACE}",
                        None, "net")
    _sub(cap, "interface", _OSA_INTERFACE)
    _sub(cap, "address", "02:00:00:bd:00:01")
    _sub(cap, "link", state="up", speed="10000")
    _sub(cap, "capability", type="80203")
    yield dev
    for busid, host, wwpn in _FCP_HOSTS:
        sysfs = f"/sys/devices/css0/{format_busid(0, 0, 0xFFF0 + host)}/{busid}/host{host}"
        dev, cap = _nodedev(f"scsi_host{host}", "computer", sysfs, None, "scsi_host")
        _sub(cap, "host", str(host))
        fc = _sub(cap, "capability", type="fc_host")
        _sub(fc, "wwnn", "c05076ffe5000000")
        _sub(fc, "wwpn", wwpn)
        yield dev


def _nodedevs(guests: int) -> Iterator[ET.Element]:
    yield from _shared_nodedevs(guests)
    for index in range(guests):
        yield from _guest_ccw_nodedevs(index)
        yield from _guest_ap_nodedevs(index)
        yield _guest_pci_nodedev(index)


def node_device_counts(guests: int) -> dict[str, int]:
    """How many node devices of each capability `build_testdriver(guests)` writes (for tests and docs)."""
    adapters = len({_ap_pair(i)[0] for i in range(guests)})
    return {
        "system": 1,
        "ap_matrix": 1,
        "ap_card": adapters,
        "net": 1,
        "scsi_host": len(_FCP_HOSTS),
        "css": 2 * guests,
        "ccw": guests,
        "mdev": 2 * guests,
        "ap_queue": guests,
        "pci": guests,
    }


# ----------------------------------------------------------------------------------------- the host


def _network() -> ET.Element:
    """libvirt's `default` NAT network, which the guests' first interface uses."""
    net = ET.Element("network")
    _sub(net, "name", "default")
    _sub(net, "uuid", _uuid("network", 0))
    _sub(net, "forward", mode="nat")
    _sub(net, "bridge", name="virbr0", stp="on", delay="0")
    ip = _sub(net, "ip", address="192.168.122.1", netmask="255.255.255.0")
    dhcp = _sub(ip, "dhcp")
    _sub(dhcp, "range", start="192.168.122.2", end="192.168.122.254")
    return net


def _host_cpu(node: ET.Element) -> None:
    cpu = _sub(node, "cpu")
    for tag, value in (("nodes", "1"), ("sockets", "1"), ("cores", "16"), ("threads", "2"), ("active", "32"),
                       ("mhz", "5200"), ("model", "s390x")):
        _sub(cpu, tag, value)
    _sub(node, "memory", str(256 * 1024 * 1024))


def build_testdriver(guests: int) -> ET.Element:
    """The `<node>` element of a test-driver host with `guests` guests (0..MAX_GUESTS)."""
    if not 0 <= guests <= MAX_GUESTS:
        raise ValueError(f"guests must be between 0 and {MAX_GUESTS}, not {guests}")
    node = ET.Element("node")
    _host_cpu(node)
    node.extend(_domain(i, guests) for i in range(guests))
    node.append(_network())
    node.extend(_nodedevs(guests))
    return node


def build_testdriver_xml(guests: int) -> str:
    """The host file's text, indented so a human can read and diff it."""
    node = build_testdriver(guests)
    ET.indent(node)
    return ET.tostring(node, encoding="unicode") + "\n"


def write_testdriver(path: Path, guests: int) -> None:
    """Write the host file for `test://<absolute path>`; written aside and renamed, so a reader that
    opens the URI meanwhile sees the old file or the new one, never half of one."""
    text = build_testdriver_xml(guests)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
