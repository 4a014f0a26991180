"""libvirt `<network>` XML → `NetworkInfo`: the bridge a virtual network makes and where it forwards.

The resolver follows a guest's `<interface type='network'>` through the network's bridge or forward
devices down to the host's NICs; this is the one reader of that document (pure, no libvirt).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ztui.model import NetworkInfo

__all__ = ["parse_network"]


def parse_network(xml: str, *, active: bool | None = None) -> NetworkInfo | None:
    """A libvirt `<network>` document; None when it is not well-formed XML. A `<forward>` without a mode
    is NAT (libvirt's default); the forward devices are the `<interface dev=…>` pool, the SR-IOV `<pf>`s,
    else the single `dev` attribute."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return None
    forward = root.find("forward")
    bridge = root.find("bridge")
    devs: list[str] = []
    if forward is not None:
        devs.extend(i.get("dev", "") for i in forward.findall("interface"))
        devs.extend(p.get("dev", "") or (p.findtext("address") or "") for p in forward.findall("pf"))
        if not devs and forward.get("dev"):
            devs.append(forward.get("dev", ""))
    mode = forward.get("mode", "nat") if forward is not None else ""
    return NetworkInfo(name=(root.findtext("name") or "").strip(),
                       bridge=bridge.get("name", "") if bridge is not None else "",
                       forward_mode=mode, forward_devs=tuple(d for d in devs if d), active=active)
