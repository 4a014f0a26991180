"""A domain (or device) XML with what backs its devices renamed for another host: the destination's name for
the same volume, the destination's mdev on the same DASD.

On IBM Z two LPARs see one DASD under two device numbers, so a disk on `/dev/disk/by-path/ccw-0.0.5c05` on one
is `/dev/disk/by-path/ccw-0.0.6c05` on the other. A migration hands the destination the guest's XML with
those names changed (libvirt's `VIR_MIGRATE_PARAM_DEST_XML`, and `VIR_MIGRATE_PARAM_PERSIST_XML` for the
definition kept there): the source is a host-side detail, not part of the guest's ABI, so libvirt accepts
it. Only `<source>` attributes change; everything else is kept as it was. Pure: ElementTree only.
"""

from __future__ import annotations

from collections.abc import Mapping

from ztui.libvirtxml.common import parse_xml, to_xml

__all__ = ["rewrite_sources"]

#: the `<source>` attributes that name a host object, by what they are
_DISK_ATTRS = ("dev", "file")


def rewrite_sources(xml: str, paths: Mapping[str, str], mdevs: Mapping[str, str] | None = None,
                    what: str = "domain XML") -> str:
    """`xml` (a `<domain>` or one device) with each disk source path in `paths` replaced by its value, and
    each mdev hostdev's UUID in `mdevs` by its value; the text is returned as it was when nothing matches.
    XmlError when it is not XML."""
    mdevs = {k.lower(): v for k, v in (mdevs or {}).items()}
    root = parse_xml(xml, what)
    changed = False
    disks = [root] if root.tag == "disk" else root.iter("disk")
    for disk in disks:
        source = disk.find("source")
        if source is None:
            continue
        for attr in _DISK_ATTRS:
            old = source.get(attr)
            if old is not None and old in paths:
                source.set(attr, paths[old])
                changed = True
    hostdevs = [root] if root.tag == "hostdev" else root.iter("hostdev")
    for hostdev in hostdevs:
        if hostdev.get("type") != "mdev":
            continue
        address = hostdev.find("source/address")
        uuid = address.get("uuid", "").lower() if address is not None else ""
        if address is not None and uuid in mdevs:
            address.set("uuid", mdevs[uuid])
            changed = True
    return to_xml(root) if changed else xml
