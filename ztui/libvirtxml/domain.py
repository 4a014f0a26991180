"""Domain XML → guest and guest devices.

The parser must cope with everything libvirt (or a support dump) can hand it: upstream test files mix hex
and decimal, omit addresses, and use elements newer than the libvirt we run on. So every element under
`<devices>` (except `<emulator>`) becomes exactly one `GuestDevice`; what ztui does not know becomes an
`other` device carrying its XML; values it cannot read become warnings on the device. Only a document that
is not XML at all, or not a domain, raises `XmlError`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, replace
from xml.parsers import expat

from ztui.libvirtxml.common import XmlError, child_attr, child_text, parse_int, parse_xml, to_xml
from ztui.model import (
    Address,
    CcwAddress,
    DeviceKind,
    DriveAddress,
    Guest,
    GuestDevice,
    GuestState,
    OtherAddress,
    PciAddress,
    SecureExecutionForm,
    UsbAddress,
    Zpci,
    format_pci,
    yes_no,
)

_MEMORY_UNITS_KIB: dict[str, float] = {
    "b": 1 / 1024, "bytes": 1 / 1024,
    "kb": 1000 / 1024, "k": 1, "kib": 1,
    "mb": 1000**2 / 1024, "m": 1024, "mib": 1024,
    "gb": 1000**3 / 1024, "g": 1024**2, "gib": 1024**2,
    "tb": 1000**4 / 1024, "t": 1024**3, "tib": 1024**3,
}


def parse_domain(xml: str | bytes, state: GuestState | None = None, persistent: bool | None = None,
                 what: str = "domain XML") -> Guest:
    """Read a whole `<domain>` document. `state` and `persistent` come from libvirt, not from the XML."""
    root, texts = _parse_with_device_texts(xml, what)
    if root.tag != "domain":
        raise XmlError(f"{what} has root element <{root.tag}>, not <domain>")
    return guest_from_element(root, state=state, persistent=persistent, texts=texts)


# Each device's XML is cut out of the document as libvirt wrote it instead of serialising the element
# again: re-serialising was half the cost of reading a big host. libvirt puts every child of <devices> on
# its own line at one indentation, so the lines that open at that indentation are where the children
# start; the cut is used only for a document with one <devices> block and when it gives exactly the
# children ElementTree parsed: tag for tag, element for element. Anything laid out otherwise is cut at
# expat's byte offsets (slower: a Python call per element), and when even that fails the element is
# serialised again. Only the texts of the line cut are keys of `_READ_BEFORE` (see `parse_devices`).
_LINE_OPENING_TAG = re.compile(r"\n([ \t]*)<(?![/!?])")


@dataclass(frozen=True, slots=True)
class DeviceTexts:
    """Each child of `<devices>` (by `id`) with its text as it stands in the document. `reusable` when
    a text alone says what the device is (no DTD to expand entities, nothing decoded lossily), so a
    record read from the same text elsewhere may stand for it."""

    texts: dict[int, str]
    reusable: bool


def _parse_with_device_texts(xml: str | bytes, what: str) -> tuple[ET.Element, DeviceTexts]:
    """The element tree (as ElementTree builds it, namespaces as `{uri}tag`) plus the device texts."""
    root = parse_xml(xml, what)
    devices = root.find("devices")
    if devices is None or len(devices) == 0:
        return root, DeviceTexts({}, False)
    if isinstance(xml, str):
        texts = _cut_at_lines(xml, devices)
        if texts is not None:
            return root, DeviceTexts(texts, "<!DOCTYPE" not in xml)
    root, texts = _parse_with_expat_offsets(xml, what)
    return root, DeviceTexts(texts, False)


def _line_pieces(text: str) -> list[str] | None:
    """The `<devices>` block cut where the lines at its first child's indentation open (each piece with
    its trailing whitespace stripped); None without such a block. Nothing is checked here."""
    begin = text.find("<devices>")
    end = text.find("</devices>", begin)
    if begin < 0 or end < 0 or text.count("<devices>") != 1 or text.count("</devices>") != 1:
        return None  # another block of that name (in <metadata>, say) could be taken for the real one
    block = text[begin + len("<devices>"):end]
    first = _LINE_OPENING_TAG.search(block)
    if first is None:
        return None
    marker = "\n" + first.group(1) + "<"
    starts: list[int] = []
    at = first.start()
    while at >= 0:
        tag_at = at + len(marker)
        if block[tag_at:tag_at + 1] not in ("/", "!", "?"):
            starts.append(tag_at - 1)
        at = block.find(marker, tag_at)
    starts.append(len(block))
    return [block[starts[i]:starts[i + 1]].rstrip() for i in range(len(starts) - 1)]


def _is_element_text(piece: str, tag: object) -> bool:
    """The piece opens with `<tag` and closes that element (`/>` or `</tag>`)."""
    if not isinstance(tag, str) or not piece.startswith(tag, 1) or piece[len(tag) + 1:len(tag) + 2] not in (
            " ", "\t", "\n", "/", ">"):
        return False
    return piece.endswith("/>") or piece.endswith(f"</{tag}>")


def _cut_at_lines(text: str, devices: ET.Element) -> dict[int, str] | None:
    """The children of `<devices>` cut where their lines open, or None unless the cut matches the parsed
    children one for one (same count, each piece opening with the child's tag and closing its element)."""
    pieces = _line_pieces(text)
    children = list(devices)
    if pieces is None or len(pieces) != len(children):
        return None
    texts: dict[int, str] = {}
    for piece, child in zip(pieces, children, strict=True):
        # the piece opens the child's tag, closes it, and holds as many elements as the child does
        if not _is_element_text(piece, child.tag) or (
                piece.count("<") - piece.count("</") != len(list(child.iter()))):
            return None
        texts[id(child)] = piece
    return texts


def _parse_with_expat_offsets(xml: str | bytes, what: str) -> tuple[ET.Element, dict[int, str]]:
    """The tree built again from expat's events, cutting every element two levels below the root at the
    byte offsets expat reports."""
    data = xml.encode() if isinstance(xml, str) else xml
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    depth = 0
    starts: dict[int, int] = {}
    texts: dict[int, str] = {}

    def name(raw: str) -> str:
        return "{" + raw if "}" in raw else raw

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        elem = builder.start(name(tag), {name(k): v for k, v in attrs.items()})
        if depth == 3:
            starts[id(elem)] = parser.CurrentByteIndex

    def end(tag: str) -> None:
        nonlocal depth
        elem = builder.end(name(tag))
        if depth == 3:
            begin, here = starts.get(id(elem), -1), parser.CurrentByteIndex
            # at an end tag the offset points at `</`; after `<x/>` it points just past it
            close = data.find(b">", here) + 1 if data.startswith(b"</", here) else here
            if 0 <= begin < close:
                texts[id(elem)] = data[begin:close].decode("utf-8", "replace")
        depth -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
        root = builder.close()
    except (expat.ExpatError, ValueError, IndexError, AssertionError):
        return parse_xml(xml, what), {}  # the same error message as everywhere else
    return root, texts


def guest_from_element(root: ET.Element, state: GuestState | None = None,
                       persistent: bool | None = None, texts: DeviceTexts | None = None) -> Guest:
    """A `Guest` from an already parsed `<domain>` element (also used for test-driver host files);
    `texts` are its devices' texts as cut from the document (`parse_domain`), when the caller has them."""
    warnings: list[str] = []
    name = child_text(root, "name")
    if not name:
        warnings.append("domain has no <name>")
    devices_elem = root.find("devices")
    devices = parse_devices(devices_elem, texts) if devices_elem is not None else ()
    # libvirt's default is one vCPU when <vcpu> is absent
    vcpu_elem = root.find("vcpu")
    os_type = _first_grandchild(root, "os", "type")
    vcpus = 1 if vcpu_elem is None else (parse_int(vcpu_elem.text) or 0)
    launch = root.find("launchSecurity")
    launch_security = launch.get("type", "") if launch is not None else ""
    arch = os_type.get("arch", "") if os_type is not None else ""
    form = None
    if devices_elem is not None:
        form = secure_execution_form(launch_security, arch, devices_elem)
        if form is not None:
            warnings.append(f"IBM Secure Execution guest ({form.value}): it cannot migrate live, and its host "
                            "needs prot_virt=1")
            devices = _secure_execution_limits(root, devices_elem, devices, warnings)
    return Guest(
        name=name,
        uuid=child_text(root, "uuid"),
        state=state,
        arch=os_type.get("arch", "") if os_type is not None else "",
        machine=os_type.get("machine", "") if os_type is not None else "",
        vcpus=vcpus,
        memory_kib=_memory_kib(root.find("currentMemory") if root.find("currentMemory") is not None
                               else root.find("memory")),
        domain_type=root.get("type", ""),
        persistent=persistent,
        devices=devices,
        warnings=tuple(warnings),
        launch_security=launch_security,
        boot_devs=tuple(b.get("dev", "") for os_elem in root.findall("os") for b in os_elem.findall("boot")
                        if b.get("dev")),
        secure_execution_form=form,
        kernel=(root.findtext("os/kernel") or "").strip(),
    )


# --- IBM Secure Execution ---------------------------------------------------------------------------------

_VIRTIO_MODELS = ("virtio", "virtio-transitional", "virtio-non-transitional")


def _is_virtio(elem: ET.Element) -> bool:
    """A device on a virtio transport (which a Secure Execution guest must give `iommu='on'` when it has no
    `<launchSecurity>`); the balloon is left out: such a guest has none (see `_secure_execution_limits`)."""
    tag = elem.tag
    if tag == "disk":
        return child_attr(elem, "target", "bus") == "virtio"
    if tag == "interface":
        return child_attr(elem, "model", "type") in _VIRTIO_MODELS
    if tag == "controller":
        return elem.get("type") == "virtio-serial" or (elem.get("type") == "scsi"
                                                       and elem.get("model", "").startswith("virtio"))
    if tag in ("rng", "vsock"):
        return elem.get("model", "virtio") in _VIRTIO_MODELS
    if tag == "input":
        return elem.get("bus") == "virtio"
    if tag == "video":
        return child_attr(elem, "model", "type") == "virtio"
    return tag == "filesystem"


def secure_execution_form(launch_security: str, arch: str, devices: ET.Element) -> SecureExecutionForm | None:
    """How a guest is defined as an IBM Secure Execution guest, None when it is not: with `<launchSecurity
    type='s390-pv'/>` (libvirt >= 7.6), or the older way — an s390x guest with `iommu='on'` on the driver of
    every virtio device and no `<launchSecurity>` (libvirt kbase s390_protected_virt)."""
    if launch_security == "s390-pv":
        return SecureExecutionForm.LAUNCH_SECURITY
    if launch_security or arch != "s390x":
        return None
    virtio = [e for e in devices if isinstance(e.tag, str) and _is_virtio(e)]
    if virtio and all(child_attr(e, "driver", "iommu") == "on" for e in virtio):
        return SecureExecutionForm.IOMMU
    return None


_SE_SOURCES = "QEMU docs/system/s390x/protvirt.rst"


def _secure_execution_limits(root: ET.Element, devices_elem: ET.Element, devices: tuple[GuestDevice, ...],
                             warnings: list[str]) -> tuple[GuestDevice, ...]:
    """What a Secure Execution guest cannot have, each said where it is: a balloon other than
    `model='none'` (QEMU fences ballooning: libvirt kbase s390_protected_virt), host huge pages and
    pass-through (vfio) devices (QEMU's protvirt.rst: "Host huge page backings are not supported",
    "Passthrough (vfio) devices are currently not supported") — the last two keep it from starting."""
    memory = root.find("memoryBacking")
    if memory is not None and memory.find("hugepages") is not None:
        warnings.append("a Secure Execution guest cannot be backed by host huge pages (" + _SE_SOURCES + "): it "
                        "will not start in secure mode; remove <hugepages/> from <memoryBacking>")
    elements = [e for e in devices_elem if isinstance(e.tag, str) and e.tag != "emulator"]
    out = []
    for elem, device in zip(elements, devices, strict=False):
        extra = ""
        if device.kind is DeviceKind.BALLOON and (elem.get("model") or "virtio") != "none":
            extra = ("a Secure Execution guest cannot balloon: QEMU fences it (libvirt kbase s390_protected_virt); "
                     "use <memballoon model='none'/>")
        elif device.kind in (DeviceKind.MDEV_VFIO_CCW, DeviceKind.MDEV_VFIO_AP, DeviceKind.MDEV_OTHER,
                             DeviceKind.HOSTDEV_PCI, DeviceKind.NET_HOSTDEV):
            extra = (f"a Secure Execution guest cannot take pass-through (vfio) devices ({_SE_SOURCES}): it will "
                     "not start with this device")
        out.append(_warned(device, extra) if extra else device)
    return tuple(out)


_WARNED: dict[tuple[int, str], tuple[GuestDevice, GuestDevice]] = {}


def _warned(device: GuestDevice, warning: str) -> GuestDevice:
    """The device with one more warning: the same record each time for the same device (a device read
    before is reused by its text, `parse_devices`, and so is its warned form)."""
    known = _WARNED.get((id(device), warning))
    if known is not None and known[0] is device:
        return known[1]
    if len(_WARNED) >= _READ_BEFORE_MAX:
        _WARNED.clear()
    warned = replace(device, warnings=(*device.warnings, warning))
    _WARNED[(id(device), warning)] = (device, warned)
    return warned


def _memory_kib(elem: ET.Element | None) -> int:
    if elem is None:
        return 0
    amount = parse_int(elem.text)
    if amount is None or amount < 0:
        return 0
    factor = _MEMORY_UNITS_KIB.get(elem.get("unit", "KiB").lower(), 1)
    return int(amount * factor)


def parse_devices(devices: ET.Element, known: DeviceTexts | None = None) -> tuple[GuestDevice, ...]:
    """One `GuestDevice` per child of `<devices>`, in document order, `<emulator>` skipped.

    Guests made from one template repeat many device elements byte for byte (controllers, consoles,
    balloons, panic devices), and an event re-reads a guest whose devices mostly did not change: a device
    is a function of its text, so a text read before gives the same (immutable) record again."""
    texts = known.texts if known is not None else {}
    reuse = known is not None and known.reusable
    found: list[GuestDevice] = []
    for child in devices:
        if not isinstance(child.tag, str) or child.tag == "emulator":
            continue
        text = texts.get(id(child))
        if text is None or not reuse:
            found.append(parse_device(child, text))
            continue
        device = _READ_BEFORE.get(text)
        found.append(device if device is not None else _remember(text, child, parse_device(child, text)))
    return tuple(found)


_READ_BEFORE: dict[str, GuestDevice] = {}
_READ_BEFORE_MAX = 4096


def _remember(text: str, elem: ET.Element, device: GuestDevice) -> GuestDevice:
    """Keep a device record under its text (a bounded number of them), unless the element has a prefixed
    name (`<ovs:port>`, `xlink:href=`): what that means depends on declarations outside the text."""
    if not any(e.tag[:1] == "{" or "{" in "".join(e.attrib) for e in elem.iter()):
        if len(_READ_BEFORE) >= _READ_BEFORE_MAX:
            _READ_BEFORE.clear()
        _READ_BEFORE[text] = device
    return device


def parse_device_xml(xml: str) -> GuestDevice:
    """A single device element given as text (e.g. device XML for hotplug)."""
    return parse_device(parse_xml(xml, "device XML"))


def parse_device(elem: ET.Element, text: str | None = None) -> GuestDevice:
    """Read one device element; never raises: problems become warnings, unknown tags `other` devices.
    `text` is the element's XML as its document has it (else it is serialised again)."""
    parser = _PARSERS.get(elem.tag)
    warnings: list[str] = []
    address = _address(elem.find("address"), warnings)
    fields: dict[str, object] = {}
    if parser is not None:
        try:
            fields = parser(elem, warnings)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:  # pragma: no cover - defensive
            warnings.append(f"<{elem.tag}> could not be read fully: {exc}")
            fields = {}
    kind = fields.pop("kind", _SIMPLE_KINDS.get(elem.tag, DeviceKind.OTHER))
    assert isinstance(kind, DeviceKind)
    if kind is DeviceKind.OTHER:
        fields["model"] = elem.tag
    return GuestDevice(
        kind=kind,
        xml=text if text is not None else to_xml(elem),
        alias=child_attr(elem, "alias", "name"),
        address=address,
        warnings=tuple(warnings),
        **fields,  # type: ignore[arg-type]
    )


# --- addresses -------------------------------------------------------------------------------------


def _address(elem: ET.Element | None, warnings: list[str]) -> Address | None:
    """The guest-side `<address>` of a device; numbers outside their range become warnings."""
    if elem is None:
        return None
    kind = elem.get("type", "")
    if kind == "ccw":
        return _ccw_address(elem, warnings)
    if kind == "pci":
        return _pci_address(elem, warnings)
    if kind == "drive":
        nums = [_num(elem, a, warnings, 0, 0xFFFFFFFF) for a in ("controller", "bus", "target", "unit")]
        return DriveAddress(*nums)
    if kind == "usb":
        return UsbAddress(bus=_num(elem, "bus", warnings, 0, 0xFFFFFFFF), port=elem.get("port", ""))
    attrs = tuple((k, v) for k, v in elem.attrib.items() if k != "type")
    return OtherAddress(raw_type=kind or "unknown", attrs=attrs)


def _ccw_address(elem: ET.Element, warnings: list[str]) -> Address | None:
    """A ccw address; an empty `<address type='ccw'/>` means libvirt picks one, so there is none yet."""
    get = elem.get
    if not (get("cssid") or get("ssid") or get("devno")):
        return None
    address = CcwAddress(_num(elem, "cssid", warnings, 0, 0xFE), _num(elem, "ssid", warnings, 0, 3),
                         _num(elem, "devno", warnings, 0, 0xFFFF))
    if not address.visible and parse_int(get("cssid")) is not None:  # an unreadable cssid is warned already
        warnings.append(f"ccw address in css 0x{address.cssid:02x}: invisible to a Linux guest, which sees only "
                        "the virtual css 0xfe (as css 0) without MCSS-E; use cssid='0xfe'")
    return address


def _pci_address(elem: ET.Element, warnings: list[str]) -> Address | None:
    zpci_elem = elem.find("zpci")
    zpci = None
    if zpci_elem is not None:
        uid = parse_int(zpci_elem.get("uid"))
        fid = parse_int(zpci_elem.get("fid"))
        if uid is not None and not 1 <= uid <= 0xFFFF:
            warnings.append(f"zPCI uid {zpci_elem.get('uid')} is outside 0x0001..0xffff")
        if fid is not None and not 0 <= fid <= 0xFFFFFFFF:
            warnings.append(f"zPCI fid {zpci_elem.get('fid')} is outside 0x0..0xffffffff")
        zpci = Zpci(uid=uid, fid=fid)
    if not any(elem.get(a) for a in ("domain", "bus", "slot", "function")):
        # libvirt assigns the PCI slot itself; a zPCI id given without one still identifies the device
        return PciAddress(0, 0, 0, 0, zpci) if zpci is not None else None
    return PciAddress(
        domain=_num(elem, "domain", warnings, 0, 0xFFFF),
        bus=_num(elem, "bus", warnings, 0, 0xFF),
        slot=_num(elem, "slot", warnings, 0, 0x1F),
        function=_num(elem, "function", warnings, 0, 7),
        zpci=zpci,
    )


def _num(elem: ET.Element, attr: str, warnings: list[str], low: int, high: int) -> int:
    """An address number; absent means 0 (libvirt's default), unreadable or out of range warns."""
    raw = elem.get(attr)
    if raw is None:
        return 0
    try:  # how libvirt writes them: `0x00fe`, `0`
        value = int(raw, 16) if raw[:2] == "0x" else int(raw)
        if low <= value <= high:
            return value
    except ValueError:
        pass
    if raw.strip() == "":
        return 0
    parsed = parse_int(raw)
    if parsed is None:
        warnings.append(f"{attr}='{raw}' is not a number")
        return 0
    if not low <= parsed <= high:
        warnings.append(f"{attr}='{raw}' is outside {low:#x}..{high:#x}")
    return parsed


def _host_pci(elem: ET.Element | None) -> str:
    """A host PCI address from a `<source><address …/>` element, as `dddd:bb:ss.f`."""
    if elem is None:
        return ""
    nums = [parse_int(elem.get(a)) for a in ("domain", "bus", "slot", "function")]
    if any(n is None for n in nums[1:]):
        return ""
    return format_pci(nums[0] or 0, nums[1] or 0, nums[2] or 0, nums[3] or 0)


# --- per-element parsers -----------------------------------------------------------------------------

Fields = dict[str, object]


def _details(*pairs: tuple[str, str | None]) -> tuple[tuple[str, str], ...]:
    """Keep only the detail pairs that have a value."""
    return tuple([pair for pair in pairs if pair[1]])  # type: ignore[misc]


def _disk(elem: ET.Element, warnings: list[str]) -> Fields:
    device = elem.get("device", "disk")
    kind = _DISK_KINDS.get(device)
    if kind is None:
        warnings.append(f"unknown disk device '{device}'")
        kind = DeviceKind.DISK
    disk_type = elem.get("type", "file")
    children = _first_children(elem)
    get = children.get
    driver, target, boot = get("driver"), get("target"), get("boot")
    return {
        "kind": kind,
        "bus": target.get("bus", "") if target is not None else "",
        "model": elem.get("model", ""),
        "target": target.get("dev", "") if target is not None else "",
        "source": _disk_source(disk_type, get("source")),
        "details": _details(
            ("type", disk_type),
            ("format", driver.get("type") if driver is not None else None),
            ("cache", driver.get("cache") if driver is not None else None),
            ("io", driver.get("io") if driver is not None else None),
            ("iothread", driver.get("iothread") if driver is not None else None),
            ("readonly", "yes" if "readonly" in children else None),
            ("shareable", "yes" if "shareable" in children else None),
            ("serial", _stripped_text(get("serial"))),
            ("wwn", _stripped_text(get("wwn"))),
            ("boot", boot.get("order") if boot is not None else None),
            ("loadparm", boot.get("loadparm") if boot is not None else None),
            ("rawio", elem.get("rawio")),
            ("sgio", elem.get("sgio")),
            ("backing", _backing_store(elem)),
        ),
    }


_DISK_KINDS = {"disk": DeviceKind.DISK, "cdrom": DeviceKind.CDROM, "floppy": DeviceKind.FLOPPY,
               "lun": DeviceKind.LUN}


def _first_grandchild(elem: ET.Element, child: str, grandchild: str) -> ET.Element | None:
    """`elem.find("child/grandchild")` without ElementPath's parsing of the path."""
    for parent in elem.findall(child):
        found = parent.find(grandchild)
        if found is not None:
            return found
    return None


def _first_children(elem: ET.Element) -> dict[str, ET.Element]:
    """The first child of each tag, what `elem.find(tag)` would give, from one pass over the children."""
    found: dict[str, ET.Element] = {}
    for child in elem:
        found.setdefault(child.tag, child)
    return found


def _stripped_text(elem: ET.Element | None) -> str:
    return elem.text.strip() if elem is not None and elem.text is not None else ""


def _disk_source(disk_type: str, src: ET.Element | None) -> str:
    if src is None:
        return ""
    if disk_type == "file":
        return src.get("file", "")
    if disk_type == "block":
        return src.get("dev", "")
    if disk_type == "dir":
        return src.get("dir", "")
    if disk_type == "volume":
        return f"{src.get('pool', '')}/{src.get('volume', '')}"
    if disk_type == "network":
        host = src.find("host")
        where = ""
        if host is not None:
            where = host.get("name", "") + (f":{host.get('port')}" if host.get("port") else "")
        return f"{src.get('protocol', 'network')}://{where}/{src.get('name', '')}"
    if disk_type == "nvme":
        pci = _host_pci(src.find("address"))
        return f"nvme {pci} ns {src.get('namespace', '1')}"
    if disk_type == "vhostuser":
        return src.get("path", "")
    return src.get("file") or src.get("dev") or src.get("name") or ""


def _backing_store(elem: ET.Element) -> str:
    """The image a qcow2 overlay sits on (first level only), as libvirt reports it."""
    bs = _first_grandchild(elem, "backingStore", "source")
    if bs is None:
        return ""
    return bs.get("file") or bs.get("dev") or bs.get("name") or ""


def _controller(elem: ET.Element, warnings: list[str]) -> Fields:
    ctype = elem.get("type", "")
    index = elem.get("index", "")
    driver = elem.find("driver")
    return {
        "kind": DeviceKind.CONTROLLER,
        "bus": ctype,
        "model": elem.get("model", ""),
        "target": f"{ctype}{index}" if ctype else "",
        "details": _details(
            ("index", index),
            ("iothread", driver.get("iothread") if driver is not None else None),
            ("queues", driver.get("queues") if driver is not None else None),
            ("ports", elem.get("ports")),
            ("hotplug", child_attr(elem, "target", "hotplug")),  # 'off': libvirt unplugs nothing from this bus
        ),
    }


_INTERFACE_KINDS = {
    "network": DeviceKind.NET_NETWORK, "bridge": DeviceKind.NET_BRIDGE, "direct": DeviceKind.NET_DIRECT,
    "ethernet": DeviceKind.NET_ETHERNET, "user": DeviceKind.NET_USER, "vdpa": DeviceKind.NET_VDPA,
    "hostdev": DeviceKind.NET_HOSTDEV, "vhostuser": DeviceKind.NET_VHOSTUSER,
}


def _interface(elem: ET.Element, warnings: list[str]) -> Fields:
    itype = elem.get("type", "")
    virtualport = child_attr(elem, "virtualport", "type")
    kind = _INTERFACE_KINDS.get(itype, DeviceKind.NET_OTHER)
    if virtualport == "openvswitch":
        kind = DeviceKind.NET_OVS
    src = elem.find("source")
    source = ""
    if src is not None:
        if itype == "network":
            source = src.get("network", "")
        elif itype == "bridge":
            source = src.get("bridge", "")
        elif itype in ("direct", "vdpa"):
            source = src.get("dev", "")
        elif itype == "hostdev":
            source = _host_pci(src.find("address"))
        elif itype == "vhostuser":
            source = src.get("path", "")
        else:
            source = src.get("dev") or src.get("address") or src.get("path") or ""
    vlan_tags = ",".join(t.get("id", "") for vlan in elem.findall("vlan") for t in vlan.findall("tag"))
    teaming = child_attr(elem, "teaming", "type")
    fields: Fields = {
        "kind": kind,
        "bus": "",
        "model": child_attr(elem, "model", "type"),
        "target": child_attr(elem, "mac", "address"),
        "source": source,
        "details": _details(
            ("type", itype),
            ("mac", child_attr(elem, "mac", "address")),
            ("host_dev", child_attr(elem, "target", "dev")),
            ("mode", src.get("mode") if src is not None and itype == "direct" else None),
            ("portgroup", src.get("portgroup") if src is not None else None),
            # the libvirt network even where live XML reports the interface as type='bridge'
            ("network", src.get("network") if src is not None else None),
            ("virtualport", virtualport),
            ("vlan", vlan_tags),
            ("teaming", teaming),
            ("boot", child_attr(elem, "boot", "order")),
            ("driver", child_attr(elem, "driver", "name")),
        ),
    }
    if itype == "hostdev":
        fields["passthrough"] = True
        if teaming != "transient":
            fields["migration_blocker"] = True
            fields["blocker_reason"] = "SR-IOV VF passed through to the guest (interface type='hostdev')"
    return fields


_MDEV_REASONS = {
    "vfio-ccw": (DeviceKind.MDEV_VFIO_CCW, "vfio-ccw pass-through of a channel device cannot migrate live"),
    "vfio-ap": (DeviceKind.MDEV_VFIO_AP,
                "vfio-ap crypto pass-through cannot migrate live (detach it before, attach an mdev with the "
                "same APQNs on the destination after)"),
}


def _hostdev(elem: ET.Element, warnings: list[str]) -> Fields:
    mode = elem.get("mode", "subsystem")
    htype = elem.get("type", "")
    src = elem.find("source")
    fields: Fields = {"passthrough": True, "bus": htype}
    details: list[tuple[str, str | None]] = [("mode", mode), ("managed", elem.get("managed"))]
    if mode != "subsystem":
        fields.update(kind=DeviceKind.HOSTDEV_OTHER, source=_caps_source(src))
        details.append(("type", htype))
    elif htype == "mdev":
        model = elem.get("model", "")
        kind, reason = _MDEV_REASONS.get(model, (DeviceKind.MDEV_OTHER,
                                                  "mediated device pass-through cannot migrate live"))
        uuid = child_attr(src, "address", "uuid") if src is not None else ""
        fields.update(kind=kind, model=model, source=uuid, migration_blocker=True, blocker_reason=reason)
        guest_addr = elem.find("address")
        if model in ("vfio-ccw", "vfio-ap") and guest_addr is not None and guest_addr.get("type") not in (
                None, "ccw"):
            warnings.append(f"{model} mdev given a {guest_addr.get('type')} guest address; only ccw is valid")
        details.append(("display", elem.get("display")))
    elif htype == "pci":
        host = _host_pci(src.find("address") if src is not None else None)
        teaming = child_attr(elem, "teaming", "type")
        fields.update(kind=DeviceKind.HOSTDEV_PCI, source=host, model=child_attr(elem, "driver", "name"))
        if teaming != "transient":
            fields.update(migration_blocker=True, blocker_reason="PCI function passed through with VFIO")
        details.append(("teaming", teaming))
    elif htype == "scsi":
        fields.update(kind=DeviceKind.HOSTDEV_SCSI, source=_scsi_source(src), migration_blocker=True,
                      blocker_reason="host SCSI device passed through")
        details.append(("readonly", "yes" if elem.find("readonly") is not None else None))
    elif htype == "scsi_host":
        wwpn = src.get("wwpn", "") if src is not None else ""
        fields.update(kind=DeviceKind.HOSTDEV_SCSI_HOST, source=wwpn, model=elem.get("model", ""),
                      migration_blocker=True, blocker_reason="vhost-scsi host adapter passed through")
    elif htype == "usb":
        fields.update(kind=DeviceKind.HOSTDEV_USB, source=_usb_source(src))
    else:
        warnings.append(f"unknown hostdev type '{htype}'")
        fields.update(kind=DeviceKind.HOSTDEV_OTHER, source="")
    details.append(("boot", child_attr(elem, "boot", "order")))
    fields["details"] = _details(*details)
    return fields


def _scsi_source(src: ET.Element | None) -> str:
    """`scsi_host0:0:0:0` for a host adapter, `iscsi://host/iqn` for an iSCSI LUN."""
    if src is None:
        return ""
    if src.get("protocol") == "iscsi":
        host = child_attr(src, "host", "name")
        return f"iscsi://{host}/{src.get('name', '')}"
    adapter = child_attr(src, "adapter", "name")
    addr = src.find("address")
    if addr is None:
        return adapter
    parts = [str(parse_int(addr.get(a)) or 0) for a in ("bus", "target", "unit")]
    return f"{adapter}:{':'.join(parts)}"


def _usb_source(src: ET.Element | None) -> str:
    if src is None:
        return ""
    vendor, product = child_attr(src, "vendor", "id"), child_attr(src, "product", "id")
    if vendor or product:
        return f"{vendor}:{product}"
    addr = src.find("address")
    if addr is not None:
        return f"bus {addr.get('bus', '?')} device {addr.get('device', '?')}"
    return ""


def _caps_source(src: ET.Element | None) -> str:
    if src is None:
        return ""
    for path in ("block", "char", "interface"):
        text = child_text(src, path)
        if text:
            return text
    return ""


def _memballoon(elem: ET.Element, warnings: list[str]) -> Fields:
    return {"kind": DeviceKind.BALLOON, "model": elem.get("model", ""),
            "details": _details(("autodeflate", elem.get("autodeflate")),
                                ("freePageReporting", elem.get("freePageReporting")))}


def _rng(elem: ET.Element, warnings: list[str]) -> Fields:
    backend = elem.find("backend")
    source = ""
    if backend is not None:
        source = (backend.text or "").strip() or backend.get("model", "")
    return {"kind": DeviceKind.RNG, "model": elem.get("model", ""), "source": source,
            "details": _details(("backend", backend.get("model") if backend is not None else None))}


def _video(elem: ET.Element, warnings: list[str]) -> Fields:
    return {"kind": DeviceKind.VIDEO, "model": child_attr(elem, "model", "type"),
            "details": _details(("primary", child_attr(elem, "model", "primary")),
                                ("heads", child_attr(elem, "model", "heads")))}


def _input(elem: ET.Element, warnings: list[str]) -> Fields:
    return {"kind": DeviceKind.INPUT, "model": elem.get("type", ""), "bus": elem.get("bus", ""),
            "source": child_attr(elem, "source", "evdev")}


def _chardev(kind: DeviceKind) -> Callable[[ET.Element, list[str]], Fields]:
    """console, serial, channel and parallel share one shape: a host-side type and a guest-side target."""

    def parse(elem: ET.Element, warnings: list[str]) -> Fields:
        src = elem.find("source")
        source = ""
        if src is not None:
            source = src.get("path") or src.get("mode", "") + (f" {src.get('host')}:{src.get('service')}"
                                                               if src.get("host") else "")
        target = elem.find("target")
        ttype = target.get("type", "") if target is not None else ""
        tname = target.get("name", "") if target is not None else ""
        return {"kind": kind, "bus": ttype, "model": elem.get("type", ""),
                "target": tname or (f"{ttype}{target.get('port', '')}" if target is not None and ttype else ""),
                "source": source.strip()}

    return parse


def _vsock(elem: ET.Element, warnings: list[str]) -> Fields:
    cid = elem.find("cid")
    text = ""
    if cid is not None:
        text = "auto" if yes_no(cid.get("auto")) and not cid.get("address") else cid.get("address", "")
    return {"kind": DeviceKind.VSOCK, "model": elem.get("model", ""), "target": f"cid {text}" if text else ""}


def _filesystem(elem: ET.Element, warnings: list[str]) -> Fields:
    return {"kind": DeviceKind.FILESYSTEM, "model": child_attr(elem, "driver", "type") or elem.get("type", ""),
            "target": child_attr(elem, "target", "dir"),
            "source": child_attr(elem, "source", "dir") or child_attr(elem, "source", "file")
            or child_attr(elem, "source", "name") or child_attr(elem, "source", "socket"),
            "details": _details(("accessmode", elem.get("accessmode")),
                                ("readonly", "yes" if elem.find("readonly") is not None else None))}


def _watchdog(elem: ET.Element, warnings: list[str]) -> Fields:
    return {"kind": DeviceKind.WATCHDOG, "model": elem.get("model", ""),
            "details": _details(("action", elem.get("action")))}


def _panic(elem: ET.Element, warnings: list[str]) -> Fields:
    return {"kind": DeviceKind.PANIC, "model": elem.get("model", "")}


def _shmem(elem: ET.Element, warnings: list[str]) -> Fields:
    """ivshmem: QEMU refuses live migration of a peer (non-master) ivshmem device."""
    role = elem.get("role", "")
    fields: Fields = {"kind": DeviceKind.SHMEM, "model": child_attr(elem, "model", "type"),
                      "target": elem.get("name", ""), "source": child_attr(elem, "server", "path"),
                      "details": _details(("role", role), ("size", child_text(elem, "size")))}
    if role != "master":
        fields.update(migration_blocker=True,
                      blocker_reason="ivshmem in peer role: QEMU refuses to migrate it (role='master' may)")
    return fields


def _graphics(elem: ET.Element, warnings: list[str]) -> Fields:
    listen = elem.get("listen") or child_attr(elem, "listen", "address")
    port = elem.get("port", "")
    return {"kind": DeviceKind.GRAPHICS, "model": elem.get("type", ""),
            "source": f"{listen}:{port}" if listen and port else (listen or port)}


def _model_only(kind: DeviceKind, attr: str = "model") -> Callable[[ET.Element, list[str]], Fields]:
    def parse(elem: ET.Element, warnings: list[str]) -> Fields:
        return {"kind": kind, "model": elem.get(attr, "") or child_attr(elem, "model", "type")}

    return parse


def _memory(elem: ET.Element, warnings: list[str]) -> Fields:
    size = elem.find("target/size")
    return {"kind": DeviceKind.MEMORY, "model": elem.get("model", ""),
            "target": f"{_memory_kib(size)} KiB" if size is not None else ""}


def _redirdev(elem: ET.Element, warnings: list[str]) -> Fields:
    return {"kind": DeviceKind.REDIRDEV, "bus": elem.get("bus", ""), "model": elem.get("type", "")}


_PARSERS: dict[str, Callable[[ET.Element, list[str]], Fields]] = {
    "disk": _disk,
    "controller": _controller,
    "interface": _interface,
    "hostdev": _hostdev,
    "memballoon": _memballoon,
    "rng": _rng,
    "video": _video,
    "input": _input,
    "console": _chardev(DeviceKind.CONSOLE),
    "serial": _chardev(DeviceKind.SERIAL),
    "channel": _chardev(DeviceKind.CHANNEL),
    "parallel": _chardev(DeviceKind.PARALLEL),
    "vsock": _vsock,
    "filesystem": _filesystem,
    "watchdog": _watchdog,
    "panic": _panic,
    "shmem": _shmem,
    "graphics": _graphics,
    "sound": _model_only(DeviceKind.SOUND),
    "audio": _model_only(DeviceKind.AUDIO, "type"),
    "tpm": _model_only(DeviceKind.TPM),
    "smartcard": _model_only(DeviceKind.SMARTCARD, "mode"),
    "redirdev": _redirdev,
    "hub": _model_only(DeviceKind.HUB, "type"),
    "memory": _memory,
    "iommu": _model_only(DeviceKind.IOMMU),
    "crypto": _model_only(DeviceKind.CRYPTO),
    "nvram": _model_only(DeviceKind.NVRAM),
    "pstore": _model_only(DeviceKind.PSTORE, "backend"),
}

_SIMPLE_KINDS: dict[str, DeviceKind] = {
    "redirfilter": DeviceKind.REDIRFILTER,
    "lease": DeviceKind.LEASE,
}
