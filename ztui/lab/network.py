"""The lab's bridge network: one libvirt `<network>` per host, same name everywhere, own Linux bridge.

The network has the same name (`zlab-br`) on every host, so a migrated guest finds it on the destination;
its bridge has a host-specific name, because all lab daemons share the machine's network namespace.

The bridge is created here with `ip link` and handed to libvirt as `<forward mode='bridge'/>`. A network
whose bridge libvirt creates itself (no `<forward>`, no `<ip>`) would look the same to a guest, but libvirt
then installs iptables chains and REJECT rules in the *machine's* firewall, and does not remove the chains
again: the lab must not change the system's state.
"""

from __future__ import annotations

import logging
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from ztui.lab.errors import LabError

log = logging.getLogger(__name__)

NETWORK_NAME = "zlab-br"


def network_xml(bridge: str, name: str = NETWORK_NAME) -> str:
    net = ET.Element("network")
    ET.SubElement(net, "name").text = name
    ET.SubElement(net, "forward", mode="bridge")
    ET.SubElement(net, "bridge", name=bridge)
    return ET.tostring(net, encoding="unicode")


def bridge_exists(bridge: str) -> bool:
    return Path("/sys/class/net", bridge).exists()


def _ip(ip: str, *args: str) -> None:
    try:
        subprocess.run([ip, *args], check=True, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise LabError("the lab needs the `ip` command (package iproute2)") from exc
    except subprocess.CalledProcessError as exc:
        raise LabError(f"ip {' '.join(args)}: {exc.stderr.strip()}") from exc


def ensure_bridge(bridge: str, ip: str = "ip") -> None:
    """Create the bridge (no address, no ports but the guests' taps) and bring it up."""
    if not bridge_exists(bridge):
        _ip(ip, "link", "add", "name", bridge, "type", "bridge")
    _ip(ip, "link", "set", "dev", bridge, "up")


def remove_bridge(bridge: str, ip: str = "ip") -> None:
    if bridge_exists(bridge):
        try:
            _ip(ip, "link", "del", "dev", bridge)
        except LabError as exc:
            log.warning("%s", exc)
