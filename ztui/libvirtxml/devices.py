"""Device specs → device XML for hotplug, built with ElementTree.

A spec says what an administrator asked for (a disk from this image at devno 0.0.0005, a NIC on that
bridge, this mdev); `build_xml` turns it into the element libvirt's attach call takes. Values are set as
attributes of elements, never pasted into strings, so a path with quotes or angle brackets cannot change
the document. `spec_from_device` reads a parsed device back into a spec, which the round-trip tests use
and which lets an operation describe an existing device in the same terms.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from ztui.errors import BadInput
from ztui.libvirtxml.common import parse_xml
from ztui.model import CcwAddress, DeviceKind, GuestDevice, PciAddress, Zpci

_BUSID = re.compile(r"^(?:(?P<css>[0-9a-fA-F]{1,2})\.)?(?P<ssid>[0-3])\.(?P<devno>[0-9a-fA-F]{1,4})$")
_PCI = re.compile(r"^(?:(?P<domain>[0-9a-fA-F]{1,4}):)?(?P<bus>[0-9a-fA-F]{1,2}):(?P<slot>[0-9a-fA-F]{1,2})"
                  r"\.(?P<function>[0-7])$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class SpecError(BadInput, ValueError):
    """A spec value that cannot go into device XML; the message is one line meant for the user."""


def parse_busid(text: str) -> CcwAddress:
    """`0.0.5c3f` (or `5c3f`, `0.0.0001`) as the guest-visible ccw address on the virtual css 0xfe."""
    value = text.strip()
    if re.fullmatch(r"[0-9a-fA-F]{1,4}", value):
        value = f"0.0.{value}"
    match = _BUSID.match(value)
    if match is None:
        raise SpecError(f"'{text}' is not a ccw bus-ID (expected 0.<ssid>.<devno>, e.g. 0.0.5c3f)")
    css = int(match["css"] or "0", 16)
    if css not in (0, 0xFE):
        raise SpecError(f"'{text}': guests see their virtual channel subsystem as css 0")
    return CcwAddress(cssid=0xFE, ssid=int(match["ssid"], 16), devno=int(match["devno"], 16))


def parse_pci(text: str) -> PciAddress:
    """`0000:06:12.5` or `06:12.5` as a PCI address."""
    match = _PCI.match(text.strip())
    if match is None:
        raise SpecError(f"'{text}' is not a PCI address (expected dddd:bb:ss.f, e.g. 0000:06:12.5)")
    slot = int(match["slot"], 16)
    if slot > 0x1F:
        raise SpecError(f"'{text}': PCI slot {slot:#x} is outside 0x00..0x1f")
    return PciAddress(domain=int(match["domain"] or "0", 16), bus=int(match["bus"], 16), slot=slot,
                      function=int(match["function"]))


@dataclass(frozen=True, slots=True)
class DiskSpec:
    """A virtio-blk (or SCSI) disk from an image file or a host block device."""

    source: str
    target: str
    source_type: str = "file"  # file | block
    device: str = "disk"  # disk | cdrom | lun
    bus: str = "virtio"
    format: str = ""  # qcow2 | raw | "" (libvirt probes nothing; callers should set it)
    cache: str = ""
    readonly: bool = False
    shareable: bool = False
    serial: str = ""
    ccw: CcwAddress | None = None


@dataclass(frozen=True, slots=True)
class InterfaceSpec:
    """A NIC on a libvirt network, a bridge, Open vSwitch, macvtap (direct) or the user-mode stack."""

    type: str  # network | bridge | direct | ethernet | user
    source: str = ""
    model: str = "virtio"
    mac: str = ""
    openvswitch: bool = False
    mode: str = "bridge"  # direct only: bridge | vepa | private | passthrough
    ccw: CcwAddress | None = None


@dataclass(frozen=True, slots=True)
class HostdevSpec:
    """A VFIO pass-through device: an mdev (vfio-ccw, vfio-ap, vfio-pci) by UUID or a PCI function."""

    type: str  # mdev | pci
    source: str  # mdev UUID or host PCI address
    model: str = ""  # mdev: vfio-ccw | vfio-ap | vfio-pci
    managed: bool = True
    ccw: CcwAddress | None = None
    zpci: Zpci | None = None


DeviceSpec = DiskSpec | InterfaceSpec | HostdevSpec


def build_element(spec: DeviceSpec) -> ET.Element:
    """The device element for a spec; raises SpecError for values libvirt would reject anyway."""
    if isinstance(spec, DiskSpec):
        return _disk(spec)
    if isinstance(spec, InterfaceSpec):
        return _interface(spec)
    return _hostdev(spec)


def build_xml(spec: DeviceSpec) -> str:
    """Device XML text for a spec, indented the way `virsh dumpxml` shows devices."""
    elem = build_element(spec)
    ET.indent(elem)
    return ET.tostring(elem, encoding="unicode")


def scsi_controller_xml(index: int) -> str:
    """A virtio-scsi controller (`<controller type='scsi' index=… model='virtio-scsi'/>`), which a SCSI
    disk or LUN needs when the guest has none."""
    elem = ET.Element("controller", type="scsi", index=str(index), model="virtio-scsi")
    return ET.tostring(elem, encoding="unicode")


def _ccw(parent: ET.Element, ccw: CcwAddress | None) -> None:
    if ccw is not None:
        ET.SubElement(parent, "address", type="ccw", cssid=f"{ccw.cssid:#x}", ssid=f"{ccw.ssid:#x}",
                      devno=f"{ccw.devno:#06x}")


def _disk(spec: DiskSpec) -> ET.Element:
    if spec.source_type not in ("file", "block"):
        raise SpecError(f"disk source type '{spec.source_type}' is not file or block")
    if spec.device not in ("disk", "cdrom", "lun"):
        raise SpecError(f"disk device '{spec.device}' is not disk, cdrom or lun")
    if not spec.target:
        raise SpecError("a disk needs a target name such as vdb")
    elem = ET.Element("disk", type=spec.source_type, device=spec.device)
    driver = ET.SubElement(elem, "driver", name="qemu")
    if spec.format:
        driver.set("type", spec.format)
    if spec.cache:
        driver.set("cache", spec.cache)
    if spec.source:
        ET.SubElement(elem, "source", {"file" if spec.source_type == "file" else "dev": spec.source})
    ET.SubElement(elem, "target", dev=spec.target, bus=spec.bus)
    if spec.readonly:
        ET.SubElement(elem, "readonly")
    if spec.shareable:
        ET.SubElement(elem, "shareable")
    if spec.serial:
        ET.SubElement(elem, "serial").text = spec.serial
    _ccw(elem, spec.ccw)
    return elem


def _interface(spec: InterfaceSpec) -> ET.Element:
    if spec.type not in ("network", "bridge", "direct", "ethernet", "user"):
        raise SpecError(f"interface type '{spec.type}' is not network, bridge, direct, ethernet or user")
    if spec.type in ("network", "bridge", "direct") and not spec.source:
        raise SpecError(f"a {spec.type} interface needs a source")
    elem = ET.Element("interface", type=spec.type)
    if spec.mac:
        ET.SubElement(elem, "mac", address=spec.mac)
    if spec.type == "network":
        ET.SubElement(elem, "source", network=spec.source)
    elif spec.type == "bridge":
        ET.SubElement(elem, "source", bridge=spec.source)
    elif spec.type == "direct":
        ET.SubElement(elem, "source", dev=spec.source, mode=spec.mode)
    elif spec.type == "ethernet" and spec.source:
        ET.SubElement(elem, "target", dev=spec.source)
    if spec.openvswitch:
        ET.SubElement(elem, "virtualport", type="openvswitch")
    ET.SubElement(elem, "model", type=spec.model)
    _ccw(elem, spec.ccw)
    return elem


def _hostdev(spec: HostdevSpec) -> ET.Element:
    if spec.type == "mdev":
        if not _UUID.match(spec.source):
            raise SpecError(f"'{spec.source}' is not an mdev UUID")
        if spec.model not in ("vfio-ccw", "vfio-ap", "vfio-pci"):
            raise SpecError(f"mdev model '{spec.model}' is not vfio-ccw, vfio-ap or vfio-pci")
        elem = ET.Element("hostdev", mode="subsystem", type="mdev", model=spec.model)
        source = ET.SubElement(elem, "source")
        ET.SubElement(source, "address", uuid=spec.source.lower())
        _ccw(elem, spec.ccw)
        return elem
    if spec.type == "pci":
        host = parse_pci(spec.source)
        elem = ET.Element("hostdev", mode="subsystem", type="pci", managed="yes" if spec.managed else "no")
        ET.SubElement(elem, "driver", name="vfio")
        source = ET.SubElement(elem, "source")
        ET.SubElement(source, "address", domain=f"{host.domain:#06x}", bus=f"{host.bus:#04x}",
                      slot=f"{host.slot:#04x}", function=f"{host.function:#x}")
        if spec.zpci is not None:
            addr = ET.SubElement(elem, "address", type="pci")
            zpci = ET.SubElement(addr, "zpci")
            if spec.zpci.uid is not None:
                zpci.set("uid", f"{spec.zpci.uid:#06x}")
            if spec.zpci.fid is not None:
                zpci.set("fid", f"{spec.zpci.fid:#010x}")
        return elem
    raise SpecError(f"hostdev type '{spec.type}' is not mdev or pci")


def spec_from_device(device: GuestDevice) -> DeviceSpec | None:
    """The spec that would rebuild a parsed disk, interface or hostdev; None for other kinds."""
    ccw = device.address if isinstance(device.address, CcwAddress) else None
    if device.kind in (DeviceKind.DISK, DeviceKind.CDROM, DeviceKind.LUN):
        return DiskSpec(source=device.source, target=device.target,
                        source_type=device.detail("type") or "file", device=device.kind.value,
                        bus=device.bus or "virtio", format=device.detail("format"),
                        cache=device.detail("cache"), readonly=bool(device.detail_flag("readonly")),
                        shareable=bool(device.detail_flag("shareable")), serial=device.detail("serial"),
                        ccw=ccw)
    if device.kind in (DeviceKind.NET_NETWORK, DeviceKind.NET_BRIDGE, DeviceKind.NET_DIRECT,
                       DeviceKind.NET_ETHERNET, DeviceKind.NET_USER, DeviceKind.NET_OVS):
        itype = device.detail("type")
        source = device.detail("host_dev") if itype == "ethernet" else device.source
        return InterfaceSpec(type=itype, source=source, model=device.model or "virtio", mac=device.target,
                             openvswitch=device.kind is DeviceKind.NET_OVS,
                             mode=device.detail("mode") or "bridge", ccw=ccw)
    if device.kind in (DeviceKind.MDEV_VFIO_CCW, DeviceKind.MDEV_VFIO_AP, DeviceKind.MDEV_OTHER):
        return HostdevSpec(type="mdev", source=device.source, model=device.model, ccw=ccw)
    if device.kind is DeviceKind.HOSTDEV_PCI:
        zpci = device.address.zpci if isinstance(device.address, PciAddress) else None
        return HostdevSpec(type="pci", source=device.source, managed=device.detail_flag("managed") is not False,
                           zpci=zpci)
    return None



USER_ALIAS_PREFIX = "ua-"  # libvirt keeps only aliases with this prefix (domain XML docs, "Devices")


def with_user_alias(xml: str, alias: str) -> str:
    """The device XML with `<alias name='ua-…'/>` (replacing any alias it had).

    libvirt derives a hotplugged device's QEMU id from its own count (`virtio-disk3`); after a daemon was
    killed mid-attach QEMU may still hold a device with that id that libvirt forgot, and every attach of
    the next such id fails ("Duplicate device ID"). A user alias is the device's QEMU id instead."""

    if not re.fullmatch(USER_ALIAS_PREFIX + r"[A-Za-z0-9_-]+", alias):
        raise SpecError(f"'{alias}' is not a user alias (ua- followed by letters, digits, - or _)")
    elem = parse_xml(xml, "device XML")
    for old in elem.findall("alias"):
        elem.remove(old)
    ET.SubElement(elem, "alias", name=alias)
    return ET.tostring(elem, encoding="unicode")


def has_address(xml: str) -> bool:
    """Whether the device XML names its guest address (else libvirt picks one)."""

    return parse_xml(xml, "device XML").find("address") is not None


def with_ccw_address(xml: str, ccw: CcwAddress) -> str:
    """The device XML with this ccw address (replacing any address it had)."""

    elem = parse_xml(xml, "device XML")
    for old in elem.findall("address"):
        elem.remove(old)
    _ccw(elem, ccw)
    return ET.tostring(elem, encoding="unicode")
