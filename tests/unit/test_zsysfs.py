"""The IBM Z attributes in the kernel's words (`ztui.zsysfs`): every reader against the format table's
examples, every writer against the kernel's pattern, and everything the simulated z16 writes against both —
so the simulator and the readers cannot agree on a format the kernel does not use."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ztui.host.inventory import build_inventory
from ztui.host.resolve import resolve_host
from ztui.host.usage import users_of
from ztui.lab.guests import BootSpec
from ztui.lab.zguests import Z_GUESTS, z_domain_xml
from ztui.lab.zhost import DESCRIPTION, TWIN_DESCRIPTION, scaled_description, z_devices, z_host_facts
from ztui.libvirtxml.domain import guest_from_element
from ztui.model import Fact, Host, HostDevice, HostDeviceKind
from ztui.report.hostdevs import device_json
from ztui.zsysfs import (
    ApCard,
    ApMatrix,
    Attr,
    CcwDevice,
    CcwGroup,
    ChannelPath,
    Dasd,
    DasdUid,
    FcHost,
    Firmware,
    MdevTypes,
    PathMasks,
    Subchannel,
    VfioAp,
    Zpci,
    all_attributes,
    attribute_of,
    misreads,
)

ATTRIBUTES = list(all_attributes())


def test_the_table_is_there() -> None:
    names = {name for name, _ in ATTRIBUTES}
    assert {"Subchannel.pimpampom", "Subchannel.chpids", "Dasd.discipline", "VfioAp.matrix",
            "ApCard.ap_functions", "Firmware.dump_type"} <= names
    assert len(ATTRIBUTES) > 60


@pytest.mark.parametrize(("name", "attr"), ATTRIBUTES, ids=[n for n, _ in ATTRIBUTES])
def test_every_reader_reads_the_tables_examples_and_every_writer_writes_the_kernels_text(
        name: str, attr: Attr[Any]) -> None:
    assert attr.examples, f"{name} has no example from the table"
    for text, value in attr.examples:
        assert attr.read(text) == value, f"{name}: {text!r}"
        assert attr.read(text + "\n") == value, f"{name}: {text!r} as the file ends it, with a newline"
        written = attr.write(value)
        assert attr.matches(written), f"{name}: the writer's {written!r} is not the kernel's {attr.format}"
        assert attr.read(written) == value


@pytest.mark.parametrize(("attr", "text", "value"), [
    (Subchannel.pimpampom, "c0 c0 ff", PathMasks(0xC0, 0xC0, 0xFF)),
    (Subchannel.pimpampom, "c0c0ff", None),  # the bytes without their spaces: not the kernel's
    (Subchannel.pimpampom, "C0 C0 FF", None),  # lower-case hex
    (Subchannel.chpids, "4a 4b 00 00 00 00 00 00 \n", (0x4A, 0x4B, 0, 0, 0, 0, 0, 0)),  # the trailing space
    (Subchannel.chpids, "4a 4b 00 00 00 00 00 00", (0x4A, 0x4B, 0, 0, 0, 0, 0, 0)),  # as `read` trims it
    (Subchannel.chpids, "4a 4b", None),
    (Subchannel.dev_busid, "none\n", ""),
    (Subchannel.dev_busid, "0.0.5C3F", None),
    (Subchannel.driver_override, "(null)\n", ""),
    (Subchannel.driver_override, "vfio_ccw\n", "vfio_ccw"),
    (CcwDevice.devtype, "n/a\n", ""),
    (CcwDevice.availability, "no path\n", "no path"),
    (Dasd.discipline, "FBA \n", "FBA"),
    (Dasd.discipline, "none\n", ""),
    (Dasd.status, "no stat\n", "no stat"),
    (Dasd.status, "offline", None),  # an offline DASD reads `unknown`
    (Dasd.uid, "\n", DasdUid()),
    (Dasd.uid, "IBM.750000000DXP71.5c00.xx\n", DasdUid("IBM", "750000000DXP71", "5c00", "xx")),
    (ChannelPath.chid, "", ""),
    (ChannelPath.status, "Online", None),
    (CcwGroup.chpid, "f5", None),  # qeth writes `%02X`
    (CcwGroup.layer2, "-1\n", -1),
    (CcwGroup.state, "UP (LAN ONLINE)\n", "UP (LAN ONLINE)"),
    (ApCard.ap_functions, "0x92000000\n", 0x92000000),
    (ApCard.ap_functions, "0x92000000".replace("0x9", "0X9"), None),
    (ApCard.ap_functions, "0xa2000000", None),  # `0x%08X`: upper-case
    (VfioAp.matrix, "0c.\n", ApMatrix(frozenset({0xC}))),
    (VfioAp.matrix, ".0038\n", ApMatrix(domains=frozenset({0x38}))),
    (VfioAp.matrix, "0x0c.0x0038", None),
    (Zpci.uid, "0x1a\n", 0x1A),
    (Zpci.uid, "0x001a", None),  # `0x%x`: libvirt pads it, the kernel does not
    (FcHost.port_name, "0x0500507630300c56", None),  # `0x%llx`: zfcp's padded WWPN is not fc_host's text
    (FcHost.port_name, "0x500507630300c56", 0x0500507630300C56),
    (ChannelPath.type, "1B", None),
    (ChannelPath.type, "01", None),  # `%x`: lschp's `%02lx` is not the file's
    (ChannelPath.chid_external, "", ""),
    (Zpci.pchid, "0x1bc", None),  # `0x%04x`: padded
    (FcHost.port_name, "0xc05076ffe5005611\n", 0xC05076FFE5005611),
    (Firmware.dump_type, "eckd\n", "eckd"),
])
def test_the_traps(attr: Attr[Any], text: str, value: Any) -> None:
    assert attr.read(text) == value


def _kernel_facts(devices: tuple[HostDevice, ...]) -> list[tuple[HostDevice, Fact, Attr[Any]]]:
    found = []
    for dev in devices:
        for f in dev.facts:
            attr = attribute_of(dev.kind, f.key)
            if attr is not None:
                found.append((dev, f, attr))
    return found


@pytest.mark.parametrize("desc", [DESCRIPTION, TWIN_DESCRIPTION, scaled_description(8, 4)],
                         ids=["z16", "second-lpar", "scaled"])
def test_everything_the_simulated_z16_writes_is_the_kernels_text(desc: Any) -> None:
    devices = z_devices(desc)
    written = _kernel_facts(devices)
    assert len(written) > 300
    assert misreads(devices) == {}
    for dev, f, attr in written:
        assert attr.read(f.value) is not None, (dev.id, f.key, f.value)
    kinds = {dev.kind for dev, _, _ in written}
    assert {HostDeviceKind.CSS, HostDeviceKind.CHPID, HostDeviceKind.CCW, HostDeviceKind.CCWGROUP,
            HostDeviceKind.SCSI, HostDeviceKind.SCSI_HOST, HostDeviceKind.PCI, HostDeviceKind.AP_CARD,
            HostDeviceKind.AP_QUEUE, HostDeviceKind.MDEV, HostDeviceKind.SYSTEM} <= kinds


def test_the_simulated_z16_writes_the_traps_as_the_kernel_does() -> None:
    devices = {d.key: d for d in z_devices()}
    css = devices["css:0.0.0000"]
    assert css.fact("pimpampom") == "c0 c0 c0" and css.fact("chpids") == "05 06 00 00 00 00 00 00 "
    assert css.fact("driver_override") == "(null)" and devices["css:0.0.0040"].fact("driver_override") == "vfio_ccw"
    assert devices["ccw:0.0.0300"].fact("discipline") == "FBA " and devices["ccw:0.0.0300"].fact("uid") == ""
    offline = devices["ccw:0.0.5c20"]
    assert (offline.fact("status"), offline.fact("discipline"), offline.fact("uid")) == ("unknown", "none", "")
    assert devices["ccw:0.0.5cfe"].fact("uid").endswith(".xx")
    assert devices["ccwgroup:0.0.f500"].fact("chpid") == "0C"
    assert devices["ap_card:card03"].fact("ap_functions") == "0x92000000"
    assert devices["ap_queue:03.0005"].fact("online") == "1"
    matrix = devices["mdev:4b4c5e2a-7d62-4f5b-8d1e-0a1b2c3d4e5f"]
    assert matrix.fact("matrix") == "03.0005\n03.0006\n04.0005\n04.0006" and matrix.has_fact("control_domains")
    assert devices["pci:0001:00:00.0"].fact("uid") == "0x1" and devices["pci:0001:00:00.0"].fact("pchid") == "0x01c4"
    assert devices["chpid:0.07"].fact("status") == "offline"
    assert devices["system:host"].fact("dump_type") == "ccw"


def _as_the_files_hold_them(devices: tuple[HostDevice, ...]) -> tuple[HostDevice, ...]:
    """The records with every kernel attribute as its file holds it: the text and its newline (a reader
    takes either; udev keeps the text without it)."""
    out = []
    for dev in devices:
        facts = tuple(Fact(f.key, f.value + "\n", f.source)
                      if (attr := attribute_of(dev.kind, f.key)) is not None and not (attr.zero_bytes and not f.value)
                      else f for f in dev.facts)
        out.append(replace(dev, facts=facts))
    return tuple(out)


def test_every_answer_about_a_kernel_fact_is_its_readers() -> None:
    """Nothing reads a kernel attribute past its reader: the simulated z16's answers — the lab guests'
    chains and warnings, every device's warnings, readiness for VFIO, host use and whether it is free — are
    the same whether a value is held with the newline its file ends with or without it."""
    facts = z_host_facts()
    guests = tuple(guest_from_element(ET.fromstring(z_domain_xml(g, BootSpec(Path("/k")), Path("/lab"))))
                   for g in Z_GUESTS)

    def answers(devices: tuple[HostDevice, ...]) -> tuple[Any, ...]:
        inv = build_inventory(devices, (), local=True, system=facts.system)
        host = resolve_host(Host(uri=None, hostname="zlab-z", guests=guests), inv)
        users = users_of([host], inv)
        chains = [(d.source, [(s.kind, s.id, s.warning) for s in d.backing]) for g in host.guests for d in g.devices]
        devs = [(d.key, {k: v for k, v in device_json(d, inv, users.get(d.key, ()), None).items()
                         if k in ("free", "eligibility", "warnings", "host_use")}) for d in inv.devices]
        return chains, devs

    plain = answers(facts.devices)
    assert answers(_as_the_files_hold_them(facts.devices)) == plain
    assert any(e["eligibility"] and e["eligibility"]["ready"] for _, e in plain[1])  # the answers say something


# --- the whole file, exactly as the kernel writes it ---------------------------------------------------------

_HEX_BYTE_MASK = "[0-9a-f]{2}"
_BUSID = r"0\.[0-3]\.[0-9a-f]{4}"
_FLAG = "[01]\n"
_DEC = "(?:0|[1-9][0-9]*)\n"
_NOPAD = "0x(?:0|[1-9a-f][0-9a-f]*)\n"

#: each attribute's whole file as the format table (../shared/ZSYSFS.md) gives it, written here apart from
#: `ztui.zsysfs` (whose patterns also take a value without its newline): the test holds the writers to it
EXACT: dict[str, str] = {
    "Subchannel.type": "[0-3]\n",
    "Subchannel.chpids": f"(?:{_HEX_BYTE_MASK} ){{8}}\n",  # 8 tokens, each with its space: a trailing one
    "Subchannel.pimpampom": f"{_HEX_BYTE_MASK} {_HEX_BYTE_MASK} {_HEX_BYTE_MASK}\n",
    "Subchannel.dev_busid": f"(?:{_BUSID}|none)\n",
    "Subchannel.driver_override": r"(?:\(null\)|vfio_ccw|io_subchannel|vfio-pci|[a-z0-9_]+)\n",
    "ChannelPath.status": "(?:online|offline)\n",
    "ChannelPath.configure": "[0-3]\n",
    "ChannelPath.type": "(?:0|[1-9a-f][0-9a-f]?)\n",
    "ChannelPath.chid": "(?:[0-9a-f]{4}\n)?",
    "ChannelPath.chid_external": "(?:[01]\n)?",
    "CcwDevice.online": _FLAG,
    "CcwDevice.cutype": "[0-9a-f]{4}/[0-9a-f]{2}\n",
    "CcwDevice.devtype": "(?:[0-9a-f]{4}/[0-9a-f]{2}|n/a)\n",
    "CcwDevice.availability": "(?:good|boxed|no path|no device)\n",
    "Dasd.status": "(?:new|detected|basic|unformatted|ready|online|no stat|unknown)\n",
    "Dasd.discipline": "(?:ECKD|FBA |DIAG|none)\n",  # `FBA ` keeps its space
    "Dasd.alias": _FLAG, "Dasd.readonly": _FLAG, "Dasd.use_diag": _FLAG, "Dasd.raw_track_access": _FLAG,
    "Dasd.ese": _FLAG,
    "Dasd.uid": r"(?:[A-Z0-9]{3}\.[A-Z0-9]{14}\.[0-9a-f]{4}\.(?:[0-9a-f]{2}|xx)(?:\.[0-9a-f]{32})?)?\n",
    "Zfcp.peer_wwpn": "0x[0-9a-f]{16}\n", "Zfcp.in_recovery": _FLAG, "Zfcp.failed": _FLAG,
    "ZfcpLun.hba_id": f"{_BUSID}\n", "ZfcpLun.wwpn": "0x[0-9a-f]{16}\n", "ZfcpLun.fcp_lun": "0x[0-9a-f]{16}\n",
    "ZfcpLun.zfcp_access_denied": _FLAG, "ZfcpLun.zfcp_failed": _FLAG, "ZfcpLun.zfcp_in_recovery": _FLAG,
    "FcHost.port_name": _NOPAD, "FcHost.permanent_port_name": _NOPAD,
    "FcHost.port_type": r"(?:NPIV VPORT|NPort \(fabric via point-to-point\)|Point-To-Point \(direct nport "
                        r"connection\)|NLPort \(fabric via loop\)|Unknown)\n",
    "FcHost.port_state": "(?:Online|Linkdown|Error|Unknown)\n",  # what zfcp sets
    "FcHost.rport_state": "(?:Online|Blocked|Not Present|Offline|Linkdown|Marginal)\n",
    "CcwGroup.card_type": r"(?:OSD_100|OSD_1000|OSD_10GIG|OSD_25GIG|HSTR|OSD_FE_LANE|OSD_TR_LANE|OSD_GbE_LANE|"
                          r"OSD_ATM_LANE|OSD_Express|HiperSockets|OSM_1000|OSX_10GIG|Virt\.NIC QDIO|Virt\.NIC Hiper|"
                          r"Virt\.NIC OSM|Virt\.NIC OSX|unknown|n/a)\n",
    "CcwGroup.if_name": "[a-z][a-z0-9]*\n",
    "CcwGroup.chpid": "[0-9A-F]{2}\n",  # upper-case
    "CcwGroup.layer2": "(?:-1|0|1)\n",
    "CcwGroup.state": r"(?:DOWN|SOFTSETUP|UP \(LAN ONLINE\)|UP \(LAN OFFLINE\)|UNKNOWN)\n",
    "CcwGroup.online": _FLAG, "CcwGroup.portno": _DEC,
    "CcwGroup.bridge_role": r"(?:(?:none|primary|secondary)(?: \(OS family mismatch\))?"
                            r"|n/a \(VNIC characteristics\))\n",
    "ApCard.type": "CEX[4-8][ACP]\n", "ApCard.hwtype": _DEC, "ApCard.raw_hwtype": _DEC, "ApCard.depth": _DEC,
    "ApCard.ap_functions": "0x[0-9A-F]{8}\n",  # upper-case
    "ApCard.online": _FLAG, "ApCard.config": _FLAG, "ApCard.chkstop": _FLAG,
    "ApQueue.online": _FLAG, "ApQueue.config": _FLAG, "ApQueue.chkstop": _FLAG,
    # one kind of line throughout: APQNs, or adapters alone, or domains alone; nothing at all is 0 bytes
    "VfioAp.matrix": r"(?:(?:[0-9a-f]{2}\.[0-9a-f]{4}\n)+|(?:[0-9a-f]{2}\.\n)+|(?:\.[0-9a-f]{4}\n)+)?",
    "VfioAp.guest_matrix": r"(?:(?:[0-9a-f]{2}\.[0-9a-f]{4}\n)+|(?:[0-9a-f]{2}\.\n)+|(?:\.[0-9a-f]{4}\n)+)?",
    "VfioAp.control_domains": "(?:[0-9a-f]{4}\n)*",
    "MdevTypes.available_instances": _DEC, "MdevTypes.device_api": "vfio-(?:ccw|ap|pci)\n",
    "MdevTypes.name": r"(?:I/O subchannel \(Non-QDIO\)|VFIO AP Passthrough Device)\n",
    "Zpci.function_id": "0x[0-9a-f]{8}\n", "Zpci.pchid": "0x[0-9a-f]{4}\n", "Zpci.vfn": "0x[0-9a-f]{4}\n",
    "Zpci.pft": "0x[0-9a-f]{2}\n", "Zpci.port": _DEC, "Zpci.uid": _NOPAD, "Zpci.uid_is_unique": _FLAG,
    "UltraVisor.prot_virt_host": _FLAG,
    "Firmware.dump_type": "(?:none|ccw|eckd|fcp|nvme)\n",
    "Firmware.dump_device": f"{_BUSID}\n", "Firmware.dump_wwpn": "0x[0-9a-f]{16}\n",
    "Firmware.dump_lun": "0x[0-9a-f]{16}\n", "Firmware.dump_fid": "0x[0-9a-f]{8}\n",
    "Firmware.ipl_type": "(?:ccw|eckd|eckd_dump|fcp|fcp_dump|nvme|nvme_dump|nss|unknown)\n",
    "Firmware.ipl_device": f"(?:{_BUSID}\n|[0-9]{{8}}x\n)?",
    "ScsiId.wwid": "(?:(?:naa\\.(?:[0-9a-f]{32}|[0-9a-f]{16})|eui\\.(?:[0-9a-f]{32}|[0-9a-f]{24}|[0-9a-f]{16})"
                   "|t10\\.[^\n]+)\n)?",
    "NvmeNamespace.wwid": "(?:uuid\\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
                          "|eui\\.(?:[0-9a-f]{32}|[0-9a-f]{16})|nvme\\.[0-9a-f]{4}-[0-9a-f]*-[0-9a-f]*-[0-9a-f]{8})\n",
}
_NAME_OF = {id(attr): name for name, attr in ATTRIBUTES}


def test_every_attribute_has_its_exact_file() -> None:
    assert sorted(EXACT) == sorted(name for name, _ in ATTRIBUTES)


@pytest.mark.parametrize(("name", "attr"), ATTRIBUTES, ids=[n for n, _ in ATTRIBUTES])
def test_every_writer_writes_the_whole_file_exactly(name: str, attr: Attr[Any]) -> None:
    for _, value in attr.examples:
        assert re.fullmatch(EXACT[name], attr.file_text(value)), (name, attr.file_text(value))


def _file(attr: Attr[Any], text: str) -> str:
    """A fact's file: the text and its newline, or 0 bytes where the kernel writes nothing."""
    return "" if attr.zero_bytes and not text else text + "\n"


@pytest.mark.parametrize("desc", [DESCRIPTION, TWIN_DESCRIPTION, scaled_description(8, 4)],
                         ids=["z16", "twin", "scaled"])
def test_the_simulated_z16_writes_every_file_exactly(desc: Any) -> None:
    for dev, f, attr in _kernel_facts(z_devices(desc)):
        assert re.fullmatch(EXACT[_NAME_OF[id(attr)]], _file(attr, f.value)), (dev.key, f.key, f.value)


def test_every_fixture_host_writes_every_file_exactly() -> None:
    """The umockdev hosts (tests/host/fake_hosts.py): each Z attribute of each record, by its device's kind."""
    from tests.host.fake_hosts import FILES

    checked = 0
    for records in FILES.values():
        for record in records:
            props = dict(line.text.split("=", 1) for line in record.lines if line.tag == "E")
            kind = _fixture_kind(record.path, props)
            for line in (x for x in record.lines if x.tag == "A"):
                name, _, text = line.text.partition("=")
                attr = _fixture_attr(kind, name)
                if attr is not None:
                    assert re.fullmatch(EXACT[_NAME_OF[id(attr)]], text), (record.path, name, text)
                    checked += 1
    assert checked > 300


def _fixture_kind(path: str, props: dict[str, str]) -> HostDeviceKind | None:
    subsystem = props.get("SUBSYSTEM", "")
    if subsystem == "ap":
        return HostDeviceKind.AP_CARD if path.rsplit("/", 1)[-1].startswith("card") else HostDeviceKind.AP_QUEUE
    if subsystem == "scsi":
        return HostDeviceKind.SCSI_HOST if props.get("DEVTYPE") == "scsi_host" else HostDeviceKind.SCSI
    return {"css": HostDeviceKind.CSS, "chp": HostDeviceKind.CHPID, "ccw": HostDeviceKind.CCW,
            "ccwgroup": HostDeviceKind.CCWGROUP, "mdev": HostDeviceKind.MDEV, "pci": HostDeviceKind.PCI,
            "matrix": HostDeviceKind.AP_MATRIX, "fc_remote_ports": HostDeviceKind.SCSI_TARGET}.get(subsystem)


def _fixture_attr(kind: HostDeviceKind | None, name: str) -> Attr[Any] | None:
    last = name.rsplit("/", 1)[-1]
    if name.startswith("mdev_supported_types/"):
        return {"name": MdevTypes.name, "device_api": MdevTypes.device_api,
                "available_instances": MdevTypes.available_instances}.get(last)
    if kind is HostDeviceKind.SCSI_TARGET:  # the remote port (`fc_remote_ports/rport-…/port_state`)
        return FcHost.rport_state if last == "port_state" else None
    return attribute_of(kind, last) if kind is not None else None
