"""libvirt node-device XML → `HostDevice` records.

libvirt's node-device API is the only inventory ztui has of a *remote* host (udev is out of reach over
ssh), so this reader works on the XML text alone and imports neither libvirt nor textual. It is written for
damaged and unexpected input: a support dump, a newer libvirt with capabilities this code has never seen,
the `-invalid` node-device fixtures (devno `0x10000`). Anything that cannot be interpreted becomes a warning on
the record or an `OTHER` record that keeps its XML; the only exception that leaves this module is
`XmlError`, for text that is not well-formed XML at all.

Every capability yields an `id` in the notation an administrator types (see `HostDevice`) and `Fact`s for
the rest (`card_type`, `wwpn`, `vendor`, `mdev_type`, …), so the resolver and the UI need no XML.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ztui.facts import F, FactSource, wwn
from ztui.libvirtxml.common import XmlError, child_attr, child_text, parse_int, parse_xml, to_xml
from ztui.model import Fact, HostDevice, HostDeviceKind, MdevType, format_busid, format_pci
from ztui.zsysfs import ap_card, apqn

__all__ = [
    "XmlError",
    "device_from_element",
    "id_from_name",
    "parse_nodedev",
    "parse_nodedev_text",
    "parse_nodedevs",
    "split_concatenated_devices",
]

SOURCE = FactSource.LIBVIRT.value
"""`Fact.source` and `HostDevice.source` of everything read here."""

_INTERNAL_ERROR = "ztui could not interpret this node device"
"""Prefix of the warning left by the last-resort guard in `device_from_element` (tests look for it)."""

_UUID_RE = re.compile(r"([0-9a-f]{8})[-_]([0-9a-f]{4})[-_]([0-9a-f]{4})[-_]([0-9a-f]{4})[-_]([0-9a-f]{12})", re.I)
_BUSID_NAME_RE = re.compile(r"^(?:css|ccw|ccwgroup)_([0-9a-f]+)_([0-9a-f]+)_([0-9a-f]+)$", re.I)
_PCI_NAME_RE = re.compile(r"^pci_([0-9a-f]{4})_([0-9a-f]{2})_([0-9a-f]{2})_([0-9a-f])$", re.I)
_XML_DECL_RE = re.compile(r"<\?xml[^>]*\?>")

# Limits of the hardware notations; values outside are kept but warned about (the `-invalid` fixtures).
_CSSID_MAX, _SSID_MAX, _DEVNO_MAX = 0xFF, 0x3, 0xFFFF
_PCI_LIMITS = (("domain", 0xFFFF), ("bus", 0xFF), ("slot", 0x1F), ("function", 0x7))
_AP_ADAPTER_MAX, _AP_DOMAIN_MAX = 0xFF, 0xFFFF


@dataclass
class _Record:
    """The parts of a `HostDevice` a capability reader fills in; frozen into the record at the end."""

    kind: HostDeviceKind
    name: str
    id: str = ""
    facts: list[Fact] = field(default_factory=list)
    mdev_types: list[MdevType] = field(default_factory=list)
    devnodes: list[str] = field(default_factory=list)
    iommu_group: int | None = None
    warnings: list[str] = field(default_factory=list)

    def fact(self, key: str, value: str | int | None) -> None:
        """Add one fact; empty values are left out so `HostDevice.fact` can tell absent from blank."""
        if value is None:
            return
        text = value.strip() if isinstance(value, str) else str(value)
        if text:
            self.facts.append(Fact(key, text, SOURCE))

    def text_fact(self, key: str, elem: ET.Element, path: str) -> str:
        """Add the text at `path` below `elem` as fact `key`, and return it."""
        text = child_text(elem, path)
        self.fact(key, text)
        return text

    def warn(self, message: str) -> None:
        self.warnings.append(message)


# ---------------------------------------------------------------------------------------------- public API


def parse_nodedev(xml: str) -> HostDevice:
    """One node device from its XML (`virNodeDeviceGetXMLDesc`); XmlError only if it is not XML at all."""
    root = parse_xml(xml, "node-device XML")
    return device_from_element(root, xml.strip())


def parse_nodedevs(xmls: Iterable[str]) -> list[HostDevice | XmlError]:
    """Several node devices, one XML document each: each read, or why it could not be, in order.

    A big Z LPAR lists thousands of node devices (subchannels, mdevs, APQNs, zPCI functions), each a
    small document, and setting up a parser for one costs about as much as reading it. So when every text
    is a plain `<device>` element, all are read by one parser, wrapped in one root; the guard makes sure
    each text is then exactly one child (its one `<device>` opens it and its one `</device>` closes it,
    nothing hides in comments or declarations). Otherwise, or when that fails, each is read alone."""
    texts = [text.strip() for text in xmls]
    if len(texts) > 1 and all(_plain_device(text) for text in texts):
        try:
            wrapper: ET.Element | None = ET.fromstring("<ztui-devices>" + "".join(texts) + "</ztui-devices>")
        except (ET.ParseError, ValueError):
            wrapper = None
        if wrapper is not None and len(wrapper) == len(texts):
            return [device_from_element(elem, text) for elem, text in zip(wrapper, texts, strict=True)]
    found: list[HostDevice | XmlError] = []
    for text in texts:
        try:
            found.append(parse_nodedev(text))
        except XmlError as exc:
            found.append(exc)
    return found


def _plain_device(text: str) -> bool:
    return (text.startswith(("<device>", "<device ")) and text.endswith("</device>") and text.count("<device") == 1
            and text.count("</device>") == 1 and "<!" not in text and "<?" not in text)


def split_concatenated_devices(text: str) -> list[str]:
    """The `<device>` elements of text holding several of them back to back, each as its own XML.

    mdevctl-derived output (tests/fixtures/mdevctl/list-defined.xml) concatenates `<device>` documents, which is not
    one well-formed document; the test driver's host file nests them in `<node>`. Both are handled: each
    top-level `<device>` is returned, and the direct `<device>` children of any other top-level element.
    Raises XmlError when the text is damaged beyond that.
    """
    body = _XML_DECL_RE.sub("", text)
    wrapper = parse_xml(f"<ztui-devices>{body}</ztui-devices>", "concatenated node-device XML")
    found: list[str] = []
    for top in wrapper:
        if top.tag == "device":
            found.append(to_xml(top))
        else:
            found.extend(to_xml(child) for child in top if child.tag == "device")
    return found


def parse_nodedev_text(text: str) -> tuple[HostDevice, ...]:
    """Every node device in a text of one or more `<device>` elements (see `split_concatenated_devices`)."""
    return tuple(parse_nodedev(part) for part in split_concatenated_devices(text))


def device_from_element(elem: ET.Element, xml: str | None = None) -> HostDevice:
    """A `<device>` element as a `HostDevice`; `xml` is its original text when the caller has it.

    A last-resort guard turns any unforeseen failure into an `OTHER` record with a warning: a node device
    ztui cannot read must never take the whole host view down.
    """
    xml_text = xml if xml is not None else to_xml(elem)
    try:
        return _device(elem, xml_text)
    except Exception as exc:  # the documented guard, see above
        name = (elem.findtext("name") or "").strip()
        return HostDevice(kind=HostDeviceKind.OTHER, name=name, id=name, xml=xml_text, source=SOURCE,
                          warnings=(f"{_INTERNAL_ERROR}: {type(exc).__name__}: {exc}",))


# ------------------------------------------------------------------------------------------- the device


def _device(elem: ET.Element, xml: str) -> HostDevice:
    """Read the parts every node device has, then hand the primary capability to its reader."""
    name = child_text(elem, "name")
    cap = elem.find("capability")
    cap_type = cap.get("type", "") if cap is not None else ""
    rec = _Record(kind=_kind(cap_type), name=name)
    if elem.tag != "device":
        rec.warn(f"root element is <{elem.tag}>, not <device>")
    if not name:
        rec.warn("node device without a <name>")
    rec.devnodes.extend(_devnodes(elem))
    if cap is None:
        rec.warn("node device without a <capability>")
    else:
        rec.fact(F.CAPABILITY, cap_type)
        _READERS.get(rec.kind, _read_other)(rec, cap)
    return HostDevice(
        kind=rec.kind,
        name=name,
        id=rec.id or name,
        parent=child_text(elem, "parent"),
        driver=_driver_name(elem.find("driver")),
        sysfs_path=child_text(elem, "path"),
        devnodes=tuple(dict.fromkeys(rec.devnodes)),
        mdev_types=tuple(rec.mdev_types),
        iommu_group=rec.iommu_group,
        facts=tuple(rec.facts),
        source=SOURCE,
        xml=xml,
        warnings=tuple(rec.warnings),
    )


def _driver_name(driver: ET.Element | None) -> str:
    return child_text(driver, "name") if driver is not None else ""


def _kind(cap_type: str) -> HostDeviceKind:
    """The record kind for a capability type; the enum's values are libvirt's names, the rest is OTHER."""
    try:
        kind = HostDeviceKind(cap_type)
    except ValueError:
        return HostDeviceKind.OTHER
    return HostDeviceKind.OTHER if kind is HostDeviceKind.BLOCK else kind  # BLOCK is udev's, not libvirt's


def _devnodes(elem: ET.Element) -> list[str]:
    """`<devnode>` paths, the `dev` node first (it is the one to open), links after it."""
    nodes = [(n.get("type", ""), (n.text or "").strip()) for n in elem.findall("devnode")]
    nodes.sort(key=lambda item: item[0] != "dev")
    return [path for _, path in nodes if path]


# ------------------------------------------------------------------------------------- shared sub-parts


def _int_child(rec: _Record, cap: ET.Element, tag: str, limit: int | None = None) -> int | None:
    """An integer child element (hex or decimal); a warning when it is unreadable, negative or too big."""
    raw = child_text(cap, tag)
    if not raw:
        return None
    value = parse_int(raw)
    if value is None:
        rec.warn(f"<{tag}> {raw!r} is not a number")
        return None
    if value < 0 or (limit is not None and value > limit):
        bound = f"0..0x{limit:x}" if limit is not None else "≥ 0"
        rec.warn(f"<{tag}> {raw} is out of range ({bound})")
    return value


def _busid(rec: _Record, elem: ET.Element, what: str) -> str | None:
    """The bus-ID `0.0.xxxx` of `<cssid>/<ssid>/<devno>` children, warning about values out of range.

    Out-of-range values are still formatted (`0.0.10000`) so the administrator sees what libvirt said.
    """
    values: list[int] = []
    for tag, limit in (("cssid", _CSSID_MAX), ("ssid", _SSID_MAX), ("devno", _DEVNO_MAX)):
        value = _int_child(rec, elem, tag, limit)
        if value is None:
            rec.warn(f"{what}: <{tag}> missing or unreadable")
            return None
        values.append(value)
    cssid, ssid, devno = values
    if min(values) < 0:
        return None
    return format_busid(cssid, ssid, devno)


def _busid_from_name(name: str) -> str:
    """`css_0_0_fffe` → `0.0.fffe`: the id when the address elements are damaged."""
    match = _BUSID_NAME_RE.match(name)
    if not match:
        return ""
    cssid, ssid, devno = (int(g, 16) for g in match.groups())
    return format_busid(cssid, ssid, devno)


def _pci_attr_address(elem: ET.Element) -> str:
    """`<address domain= bus= slot= function=/>` as `dddd:bb:ss.f`, empty when any part is unreadable."""
    parts = [parse_int(elem.get(attr)) for attr in ("domain", "bus", "slot", "function")]
    if any(p is None or p < 0 for p in parts):
        return ""
    domain, bus, slot, function = (p for p in parts if p is not None)
    return format_pci(domain, bus, slot, function)


def _addresses(elem: ET.Element | None) -> list[str]:
    """All readable PCI `<address>` children of `elem`, in document order."""
    if elem is None:
        return []
    return [addr for addr in (_pci_attr_address(a) for a in elem.findall("address")) if addr]


def _iommu_group(rec: _Record, cap: ET.Element) -> None:
    """`<iommuGroup number=…>` and, for PCI, the other functions in the same group (they pass through
    together, which is why the members are worth showing)."""
    group = cap.find("iommuGroup")
    if group is None:
        return
    raw = group.get("number")
    number = parse_int(raw)
    if number is None or number < 0:
        rec.warn(f"iommuGroup number {raw!r} is not a group number")
    else:
        rec.iommu_group = number
    rec.fact(F.IOMMU_GROUP_MEMBERS, ",".join(_addresses(group)))


def _mdev_types(rec: _Record, cap: ET.Element) -> None:
    """The `<capability type='mdev_types'>` offers of a parent (css subchannel, ap_matrix, PCI GPU)."""
    for types in cap.findall("capability"):
        if types.get("type") != "mdev_types":
            continue
        for t in types.findall("type"):
            rec.mdev_types.append(_mdev_type(rec, t))


def _mdev_type(rec: _Record, elem: ET.Element) -> MdevType:
    type_id = elem.get("id", "")
    if not type_id:
        rec.warn("mdev type without an id")
    raw = child_text(elem, "availableInstances")
    available = parse_int(raw)
    if raw and (available is None or available < 0):
        rec.warn(f"mdev type {type_id}: availableInstances {raw!r} is not a count")
        available = None
    return MdevType(id=type_id, name=child_text(elem, "name"), device_api=child_text(elem, "deviceAPI"),
                    available=available)


def _subcaps(cap: ET.Element) -> dict[str, ET.Element]:
    """Nested `<capability type=…>` elements by type (the first of each type)."""
    found: dict[str, ET.Element] = {}
    for sub in cap.findall("capability"):
        found.setdefault(sub.get("type", ""), sub)
    return found


def _ids_fact(rec: _Record, cap: ET.Element, tag: str) -> None:
    """`<vendor id='0x8086'>Intel</vendor>` → facts `vendor` (the name) and `vendor_id`."""
    rec.text_fact(tag, cap, tag)
    rec.fact(f"{tag}_id", child_attr(cap, tag, "id"))


# ---------------------------------------------------------------------------------- capability readers


def _read_system(rec: _Record, cap: ET.Element) -> None:
    rec.text_fact(F.PRODUCT, cap, "product")
    for tag in ("vendor", "version", "serial", "uuid"):
        rec.text_fact(tag, cap, f"hardware/{tag}")
    for tag in ("vendor", "version", "release_date"):
        rec.text_fact(f"firmware_{tag}", cap, f"firmware/{tag}")


def _read_pci(rec: _Record, cap: ET.Element) -> None:
    """PCI function: address, ids, IOMMU group, SR-IOV relations, mdev types, link, zPCI and VPD."""
    rec.id = _pci_id(rec, cap)
    rec.text_fact(F.CLASS, cap, "class")
    _ids_fact(rec, cap, "vendor")
    _ids_fact(rec, cap, "product")
    _iommu_group(rec, cap)
    _mdev_types(rec, cap)
    rec.fact(F.NUMA_NODE, child_attr(cap, "numa", "node"))
    _pci_subcaps(rec, cap)
    _pci_express(rec, cap)
    _zpci(rec, cap)


def _pci_id(rec: _Record, cap: ET.Element) -> str:
    """`dddd:bb:ss.f`; the libvirt name stands in when the elements are garbage (an upstream fixture
    stores bus 4294967295)."""
    values: list[int] = []
    bad = False
    for tag, limit in _PCI_LIMITS:
        value = _int_child(rec, cap, tag, limit)
        if value is None:
            rec.warn(f"PCI address: <{tag}> missing or unreadable")
            return _pci_id_from_name(rec.name)
        bad = bad or not 0 <= value <= limit
        values.append(value)
    named = _pci_id_from_name(rec.name)
    if bad and named:
        return named
    if min(values) < 0:
        return rec.name
    domain, bus, slot, function = values
    return format_pci(domain, bus, slot, function)


def _pci_id_from_name(name: str) -> str:
    match = _PCI_NAME_RE.match(name)
    if not match:
        return ""
    domain, bus, slot, function = (int(g, 16) for g in match.groups())
    return format_pci(domain, bus, slot, function)


def _pci_subcaps(rec: _Record, cap: ET.Element) -> None:
    """SR-IOV (`virt_functions`, `phys_function`), bridges and VPD, as facts."""
    subs = _subcaps(cap)
    vfs = subs.get("virt_functions")
    if vfs is not None:
        rec.fact(F.VIRT_FUNCTIONS, ",".join(_addresses(vfs)))
        rec.fact(F.VIRT_FUNCTIONS_MAX, vfs.get("maxCount"))
    pf = subs.get("phys_function")
    if pf is not None:
        rec.fact(F.PHYS_FUNCTION, ",".join(_addresses(pf)))
    for bridge in ("pci-bridge", "cardbus-bridge"):
        if bridge in subs:
            rec.fact(F.BRIDGE, bridge)
    vpd = subs.get("vpd")
    if vpd is not None:
        _read_vpd(rec, vpd, prefix="vpd_")


def _pci_express(rec: _Record, cap: ET.Element) -> None:
    """`<pci-express><link validity='cap'|'sta' speed width>` → `link_cap`/`link_sta` (`2.5 GT/s x4`)."""
    for link in cap.findall("pci-express/link"):
        validity = link.get("validity", "")
        if validity not in ("cap", "sta"):
            continue
        speed, width = link.get("speed", ""), link.get("width", "")
        parts = ([f"{speed} GT/s"] if speed else []) + ([f"x{width}"] if width else [])
        rec.fact(f"link_{validity}", " ".join(parts))


def _zpci(rec: _Record, cap: ET.Element) -> None:
    """zPCI `uid`/`fid` when the XML carries them (`<zpci uid= fid=/>` as in domain XML, or child
    elements); libvirt 9.0 node-device XML has no such element, so usually nothing is found."""
    zpci = cap.find("zpci")
    if zpci is None:
        zpci = _subcaps(cap).get("zpci")
    if zpci is None:
        return
    for key, digits in (("uid", 4), ("fid", 8)):
        raw = zpci.get(key) or child_text(zpci, key)
        value = parse_int(raw)
        if raw and (value is None or value < 0):
            rec.warn(f"zpci {key} {raw!r} is not a number")
        elif value is not None:
            rec.fact(key, f"0x{value:0{digits}x}")


def _read_vpd(rec: _Record, vpd: ET.Element, prefix: str = "") -> None:
    """Vital product data: the name and every read-only/read-write field, keyed by tag."""
    rec.text_fact(f"{prefix}name", vpd, "name")
    for fields in vpd.findall("fields"):
        for item in fields:
            index = item.get("index")
            key = f"{prefix}{item.tag}" + (f"_{index}" if index else "")
            rec.fact(key, (item.text or "").strip())


def _read_vpd_device(rec: _Record, cap: ET.Element) -> None:
    _read_vpd(rec, cap, prefix="vpd_")


def _read_usb_device(rec: _Record, cap: ET.Element) -> None:
    rec.text_fact(F.USB_BUS, cap, "bus")
    rec.text_fact(F.USB_DEVICE, cap, "device")
    _ids_fact(rec, cap, "vendor")
    _ids_fact(rec, cap, "product")


def _read_usb_interface(rec: _Record, cap: ET.Element) -> None:
    for tag in ("number", "class", "subclass", "protocol", "description"):
        rec.text_fact(f"usb_{tag}", cap, tag)


def _read_net(rec: _Record, cap: ET.Element) -> None:
    """Network interface: the interface name is the id; MAC, link state/speed and features as facts."""
    rec.id = rec.text_fact(F.INTERFACE, cap, "interface")
    rec.text_fact(F.ADDRESS, cap, "address")
    rec.fact(F.LINK_STATE, child_attr(cap, "link", "state"))
    rec.fact(F.LINK_SPEED, child_attr(cap, "link", "speed"))
    features = [f.get("name", "") for f in cap.findall("feature")]
    rec.fact(F.FEATURES, ",".join(f for f in features if f))
    net_types = [t for t in _subcaps(cap) if t]
    rec.fact(F.NET_TYPE, ",".join(net_types))


def _read_scsi_host(rec: _Record, cap: ET.Element) -> None:
    """SCSI host `hostN`; an FC HBA (zFCP channel, lpfc) carries its WWNN/WWPN and NPIV vport counts."""
    host = _int_child(rec, cap, "host")
    if host is not None and host >= 0:
        rec.id = f"host{host}"
        rec.fact(F.HOST, host)
    rec.text_fact(F.UNIQUE_ID, cap, "unique_id")
    subs = _subcaps(cap)
    fc = subs.get("fc_host")
    if fc is not None:
        for tag, key in (("wwnn", F.WWNN), ("wwpn", F.WWPN), ("fabric_wwn", F.FABRIC_WWN)):
            rec.fact(key, wwn(child_text(fc, tag)))
    vports = subs.get("vport_ops")
    if vports is not None:
        rec.fact(F.VPORT_OPS, "yes")
        rec.text_fact(F.MAX_VPORTS, vports, "max_vports")
        rec.text_fact(F.VPORTS, vports, "vports")


def _read_scsi_target(rec: _Record, cap: ET.Element) -> None:
    """SCSI target `targetH:B:T`; behind an FC remote port it names the port and its WWPN (the storage
    controller port a zFCP LUN is reached through)."""
    rec.id = rec.text_fact(F.TARGET, cap, "target")
    rport = _subcaps(cap).get("fc_remote_port")
    if rport is not None:
        rec.text_fact(F.RPORT, rport, "rport")
        rec.fact(F.WWPN, wwn(child_text(rport, "wwpn")))


def _read_scsi(rec: _Record, cap: ET.Element) -> None:
    """SCSI device `H:B:T:L`, the notation lsscsi prints."""
    parts: list[int] = []
    for tag in ("host", "bus", "target", "lun"):
        value = _int_child(rec, cap, tag)
        if value is not None:
            rec.fact(tag if tag != "bus" else "scsi_bus", value)
            parts.append(value)
    if len(parts) == 4 and min(parts) >= 0:
        rec.id = ":".join(str(p) for p in parts)
    rec.text_fact(F.SCSI_TYPE, cap, "type")


def _read_storage(rec: _Record, cap: ET.Element) -> None:
    """Block storage: the devnode (`/dev/sda`) is the id; model, vendor, serial and size as facts."""
    block = rec.text_fact(F.BLOCK, cap, "block")
    if block:
        rec.id = block
        rec.devnodes.insert(0, block)
    for tag in ("bus", "drive_type", "model", "vendor", "serial", "size", "logical_block_size", "num_blocks"):
        rec.text_fact(tag, cap, tag)
    subs = _subcaps(cap)
    removable = subs.get("removable")
    if removable is not None:
        rec.fact(F.REMOVABLE, "yes")
        for tag in ("media_available", "media_size", "media_label"):
            rec.text_fact(tag, removable, tag)
    if "hotpluggable" in subs:
        rec.fact(F.HOTPLUGGABLE, "yes")


def _read_drm(rec: _Record, cap: ET.Element) -> None:
    rec.text_fact(F.DRM_TYPE, cap, "type")


def _read_mdev(rec: _Record, cap: ET.Element) -> None:
    """A mediated device: its UUID is the id (what a guest's `<hostdev type='mdev'>` names).

    Older libvirt and the test driver give no `<uuid>`; the UUID is then taken from the name
    (`mdev_8e37ee90_2b51_…[_0_0_0052]`). Attributes (`assign_adapter`, …) may repeat, so each becomes one
    fact `attr.<name>` with the values comma-joined in document order.
    """
    mdev_type = child_attr(cap, "type", "id")
    rec.fact(F.MDEV_TYPE, mdev_type)
    uuid = child_text(cap, "uuid") or _uuid_from(rec.name)
    if not uuid:
        rec.warn("mdev without a UUID")
    rec.id = uuid.lower()
    rec.fact(F.UUID, rec.id)
    rec.text_fact(F.PARENT_ADDR, cap, "parent_addr")
    rec.fact(F.START, child_attr(cap, "start", "type"))
    _iommu_group(rec, cap)
    attrs: dict[str, list[str]] = {}
    for attr in cap.findall("attr"):
        attrs.setdefault(attr.get("name", ""), []).append(attr.get("value", ""))
    for key, values in attrs.items():
        if key:
            rec.fact(f"attr.{key}", ",".join(values))


def _uuid_from(name: str) -> str:
    match = _UUID_RE.search(name)
    return "-".join(match.groups()) if match else ""


def _read_ccw(rec: _Record, cap: ET.Element) -> None:
    """A ccw device (DASD, FCP channel, OSA member); a ccwgroup member names its group device."""
    rec.id = _busid(rec, cap, "ccw address") or _busid_from_name(rec.name)
    member = _subcaps(cap).get("ccwgroup_member")
    if member is not None:
        group = rec.text_fact(F.GROUP_DEVICE, member, "group_device")
        rec.fact(F.GROUP_BUSID, _busid_from_name(group))


def _read_css(rec: _Record, cap: ET.Element) -> None:
    """A subchannel; `channel_dev_addr` is the ccw device on it, `mdev_types` its vfio-ccw offer."""
    rec.id = _busid(rec, cap, "subchannel address") or _busid_from_name(rec.name)
    channel = cap.find("channel_dev_addr")
    if channel is not None:
        rec.fact(F.CHANNEL_DEV_ADDR, _busid(rec, channel, "channel_dev_addr"))
    _mdev_types(rec, cap)


def _read_ccwgroup(rec: _Record, cap: ET.Element) -> None:
    """A qeth ccwgroup (OSA, HiperSockets): the id is its first device; members in `cdevN` order."""
    rec.id = _busid(rec, cap, "ccwgroup address") or _busid_from_name(rec.name)
    # libvirt's `online`/`offline` for the group, not qeth's `state` (`UP (LAN ONLINE)`, `SOFTSETUP`, …)
    rec.text_fact(F.CCWGROUP_STATE, cap, "state")
    members = sorted(cap.findall("members/ccw_device"), key=lambda m: m.get("ref", ""))
    names = [(m.text or "").strip() for m in members]
    rec.fact(F.MEMBERS, ",".join(n for n in names if n))
    rec.fact(F.MEMBER_BUSIDS, ",".join(b for b in (_busid_from_name(n) for n in names) if b))
    for sub_type, sub in _subcaps(cap).items():
        if sub_type.startswith("qeth"):
            rec.fact(F.CCWGROUP_TYPE, sub_type)
            rec.text_fact(F.CARD_TYPE, sub, "card_type")
            rec.text_fact(F.CHPID, sub, "chpid")


def _ap_number(rec: _Record, cap: ET.Element, tag: str, limit: int, digits: int) -> str:
    """An AP adapter or domain number as libvirt writes it (`0x07` / `0x0038`)."""
    value = _int_child(rec, cap, tag, limit)
    if value is None or value < 0:
        return ""
    return f"0x{value:0{digits}x}"


def _read_ap_card(rec: _Record, cap: ET.Element) -> None:
    """An AP card, id `card05` as the kernel and lszcrypt name it (libvirt's `<ap-adapter>0x05`)."""
    adapter = _ap_number(rec, cap, "ap-adapter", _AP_ADAPTER_MAX, 2)
    rec.fact(F.AP_ADAPTER, adapter)
    if adapter:
        rec.id = ap_card(int(adapter, 16))


def _read_ap_queue(rec: _Record, cap: ET.Element) -> None:
    """An AP queue (adapter x usage domain), id `05.002a` as the kernel, vfio_ap and lszcrypt name it."""
    adapter = _ap_number(rec, cap, "ap-adapter", _AP_ADAPTER_MAX, 2)
    domain = _ap_number(rec, cap, "ap-domain", _AP_DOMAIN_MAX, 4)
    rec.fact(F.AP_ADAPTER, adapter)
    rec.fact(F.AP_DOMAIN, domain)
    if adapter and domain:
        rec.id = apqn(int(adapter, 16), int(domain, 16))


def _read_ap_matrix(rec: _Record, cap: ET.Element) -> None:
    _mdev_types(rec, cap)


def _read_vdpa(rec: _Record, cap: ET.Element) -> None:
    chardev = rec.text_fact(F.CHARDEV, cap, "chardev")
    if chardev:
        rec.devnodes.append(chardev)


def _read_other(rec: _Record, cap: ET.Element) -> None:
    """A capability ztui does not know: keep the XML (the record has it) and say so once."""
    rec.warn(f"unknown node-device capability {cap.get('type', '')!r}")


_READERS: dict[HostDeviceKind, Callable[[_Record, ET.Element], None]] = {
    HostDeviceKind.SYSTEM: _read_system,
    HostDeviceKind.PCI: _read_pci,
    HostDeviceKind.USB_DEVICE: _read_usb_device,
    HostDeviceKind.USB_INTERFACE: _read_usb_interface,
    HostDeviceKind.NET: _read_net,
    HostDeviceKind.SCSI_HOST: _read_scsi_host,
    HostDeviceKind.SCSI_TARGET: _read_scsi_target,
    HostDeviceKind.SCSI: _read_scsi,
    HostDeviceKind.STORAGE: _read_storage,
    HostDeviceKind.DRM: _read_drm,
    HostDeviceKind.MDEV: _read_mdev,
    HostDeviceKind.CCW: _read_ccw,
    HostDeviceKind.CSS: _read_css,
    HostDeviceKind.CCWGROUP: _read_ccwgroup,
    HostDeviceKind.AP_CARD: _read_ap_card,
    HostDeviceKind.AP_QUEUE: _read_ap_queue,
    HostDeviceKind.AP_MATRIX: _read_ap_matrix,
    HostDeviceKind.VDPA: _read_vdpa,
    HostDeviceKind.VPD: _read_vpd_device,
}


def id_from_name(name: str) -> str:
    """A node device's id from its libvirt name alone — a css or ccw device's bus-ID (`ccw_0_0_5c3f` →
    `0.0.5c3f`), a PCI function's address, an mdev's UUID — for a list that must not fetch each device's
    XML (shell completion). '' for a name that carries none."""
    if name.startswith("mdev_"):
        return _uuid_from(name)
    return _busid_from_name(name) or _pci_id_from_name(name)
