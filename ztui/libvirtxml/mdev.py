"""Mediated-device node-device XML for `virsh nodedev-define`, built with ElementTree.

libvirt's node-device API defines an mdev persistently (libvirt drives mdevctl underneath), so it
survives a reboot and every libvirt client sees it, on a remote host too. The XML names the parent
device by libvirt's node-device name (`css_0_0_0010` for a subchannel, `ap_matrix` for the vfio_ap
matrix), the mdev type and the UUID; a vfio-ap mdev also carries its matrix as ordered `<attr>`s that
libvirt writes to the mdev's sysfs attributes in that order (formatnode: "mdev" capability).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

VFIO_CCW_TYPE = "vfio_ccw-io"
VFIO_AP_TYPE = "vfio_ap-passthrough"
AP_MATRIX_NODEDEV = "ap_matrix"


def css_nodedev_name(subchannel: str) -> str:
    """libvirt's node-device name of a subchannel: `0.0.0010` → `css_0_0_0010`."""
    return "css_" + subchannel.replace(".", "_")


def mdev_nodedev_xml(parent: str, type_id: str, uuid: str,
                     attrs: Sequence[tuple[str, str]] = ()) -> str:
    """`<device>` XML of an mdev of `type_id` with this UUID under `parent`, attributes in order."""
    root = ET.Element("device")
    ET.SubElement(root, "parent").text = parent
    cap = ET.SubElement(root, "capability", type="mdev")
    ET.SubElement(cap, "type", id=type_id)
    ET.SubElement(cap, "uuid").text = uuid
    for name, value in attrs:
        ET.SubElement(cap, "attr", name=name, value=value)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode")


def ap_matrix_attrs(adapters: Sequence[int], domains: Sequence[int],
                    control_domains: Sequence[int]) -> list[tuple[str, str]]:
    """The `<attr>`s of a vfio-ap mdev: adapters, then usage domains, then control domains, each in
    hex as the kernel reads them (`kstrtoul(…, 0)`: `0x` is hex)."""
    return ([("assign_adapter", f"0x{a:02x}") for a in adapters]
            + [("assign_domain", f"0x{d:04x}") for d in domains]
            + [("assign_control_domain", f"0x{d:04x}") for d in control_domains])
