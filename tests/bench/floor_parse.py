"""The parse floor: the bare process that fetches every XMLDesc *and* parses each with ElementTree.

ztui cannot show a device without reading its guest's XML, so this is the least any tree costs; the
fetch-only floor (floor.py) is reported beside it."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET

import libvirt

conn = libvirt.openReadOnly(sys.argv[1])
total = sum(len(ET.fromstring(dom.XMLDesc(0))) for dom in conn.listAllDomains(0))
print(total)
