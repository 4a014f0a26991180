"""libvirt host interface XML (`virsh iface-dumpxml`): what kind of interface a name is on a remote host.

On this machine /sys answers "is br0 a bridge?"; on any other host libvirt's interface driver does, and this
reads its answer. Pure: no libvirt.
"""

from __future__ import annotations

from dataclasses import dataclass

from ztui.libvirtxml.common import parse_xml

__all__ = ["HostInterface", "parse_interface"]


@dataclass(frozen=True, slots=True)
class HostInterface:
    name: str
    type: str  # ethernet, bridge, bond, vlan
    members: tuple[str, ...] = ()  # a bridge's ports, a bond's slaves


def parse_interface(xml: str, what: str = "interface XML") -> HostInterface:
    root = parse_xml(xml, what)
    members = tuple(i.get("name", "") for i in root.findall("./bridge/interface") + root.findall("./bond/interface")
                    if i.get("name"))
    return HostInterface(name=root.get("name", ""), type=root.get("type", ""), members=members)
