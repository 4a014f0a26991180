"""The simulated z16 host at scale for the benchmarks: a libvirt test-driver file with N guests of ~12
devices each, all backed by a scaled simulated LPAR (~4000 host device records) given as host facts."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

from ztui.host.facts_source import write_snapshot
from ztui.lab.guests import BootSpec
from ztui.lab.zguests import ZDisk, ZGuest, dasd_by_id, z_domain_xml
from ztui.lab.zhost import dasd_path, mpath_path, scaled_description, z_host_facts

DASDS = 850
LUNS = 100


def write_z_scale(directory: Path, guests: int) -> tuple[str, Path, int]:
    """The test-driver URI, the host-facts file and the number of host device records."""
    desc = scaled_description(DASDS, LUNS)
    extra = [d.busid for d in desc.dasds if d.busid.startswith("0.1.")]
    facts = z_host_facts(desc)
    facts_path = directory / "z-facts.json"
    write_snapshot(facts, str(facts_path))
    node = ET.Element("node")
    boot = BootSpec(Path("/lab/kernel/idle.img"))
    for i in range(guests):
        spec = ZGuest(
            f"zb{i:04d}", running=True,
            disks=(ZDisk("vda", dasd_path(extra[i % len(extra)]), 0x0000),
                   ZDisk("vdb", dasd_path(extra[(i + 1) % len(extra)]), 0x0001),
                   ZDisk("vdc", dasd_path(extra[(i + 2) % len(extra)]), 0x0002),
                   ZDisk("vdd", mpath_path(desc.luns[i % len(desc.luns)]), 0x0003),
                   ZDisk("vde", dasd_by_id(extra[(i + 3) % len(extra)]), 0x0004),
                   ZDisk("sda", mpath_path(desc.luns[(i + 7) % len(desc.luns)]), 0x0000, device="lun")),
            interfaces=(("direct", "encf500"), ("bridge", "br-hsi"), ("direct", "enc7000")))
        dom = ET.fromstring(z_domain_xml(spec, boot, Path("/lab")))
        dom.set("type", "test")
        ET.SubElement(dom, "uuid").text = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ztui-bench:{spec.name}"))
        for n, mac in enumerate(dom.iter("mac")):
            mac.set("address", f"52:54:02:{(i >> 8) & 0xff:02x}:{i & 0xff:02x}:{n:02x}")
        node.append(dom)
    host = directory / "z-host.xml"
    host.write_text(ET.tostring(node, encoding="unicode"))
    return f"test://{host}", facts_path, len(facts.devices)
