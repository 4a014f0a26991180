"""The IBM Z attributes in the kernel's words (`ztui.zsysfs`): every reader against the format table's
examples, every writer against the kernel's pattern, and everything the simulated z16 writes against both —
so the simulator and the readers cannot agree on a format the kernel does not use."""

from __future__ import annotations

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
from ztui.lab.zhost import DESCRIPTION, scaled_description, z_devices, z_host_facts
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


@pytest.mark.parametrize("desc", [DESCRIPTION, scaled_description(8, 4)], ids=["z16", "scaled"])
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
