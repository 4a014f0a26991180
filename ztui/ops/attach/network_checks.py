"""The host's checks before a network interface is attached: the libvirt network is there and active, the
bridge exists and is a Linux bridge or Open vSwitch, the interface a macvtap sits on exists.

A host known by its facts answers from them first; this machine from its /sys (and `ovs-vsctl`); any
other host through libvirt (its interface driver and the bridges of its networks), so a remote host's
bridges are never looked for in this machine's /sys.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from enum import StrEnum

import libvirt

from ztui.facts import is_linux_bridge
from ztui.libvirtxml.iface import HostInterface, parse_interface
from ztui.libvirtxml.nodedev import XmlError
from ztui.model import HostDevice, HostDeviceKind
from ztui.ops.attach.probed_host import ProbedHost


class BridgeKind(StrEnum):
    """What a bridge an interface is attached to is: the interface XML differs (`<virtualport
    type='openvswitch'/>`), and a bridge that is not there is refused before libvirt is asked."""

    LINUX = "linux"
    OPENVSWITCH = "openvswitch"
    MISSING = "missing"


class NetworkChecks:
    """Networks, bridges and interfaces of one host, as an interface attach needs them."""

    def __init__(self, host: ProbedHost) -> None:
        self.host = host

    def network_problem(self, name: str) -> str | None:
        """None when the libvirt network exists and is active, else why not; None when unknowable."""
        if self.host.conn is None:
            return None
        try:
            net = self.host.conn.networkLookupByName(name)
        except libvirt.libvirtError:
            return f"libvirt network '{name}' does not exist on this host (virsh net-list --all)"
        if not net.isActive():
            return f"libvirt network '{name}' is not active (virsh net-start {name})"
        return None

    def bridge_kind(self, name: str) -> BridgeKind | None:
        """The kind of the bridge of that name (`BridgeKind.MISSING` when there is none), None when
        this cannot be known. /sys when the host shares this machine's kernel, else libvirt's interface
        driver and the bridges of its networks (a host known by its facts: first those)."""
        fact = self._fact_net(name)
        if fact is not None and is_linux_bridge(fact):
            return BridgeKind.LINUX
        if not self.host.local:
            return self._remote_bridge(name)
        net = self.host.sysfs / "class" / "net" / name
        if (net / "bridge").is_dir():
            return BridgeKind.LINUX
        vsctl = shutil.which("ovs-vsctl")
        if vsctl is not None:
            result = subprocess.run([vsctl, "br-exists", name], capture_output=True, check=False, timeout=10)
            if result.returncode == 0:
                return BridgeKind.OPENVSWITCH
        return BridgeKind.MISSING

    def interface_exists(self, name: str) -> bool | None:
        """Whether a network interface of that name exists (None: unknown)."""
        if self._fact_net(name) is not None:
            return True
        if not self.host.local:
            found = self._remote_interface(name)
            return None if found is None else bool(found)
        return (self.host.sysfs / "class" / "net" / name).exists()

    def _fact_net(self, name: str) -> HostDevice | None:
        if self.host.facts is None:
            return None
        return next((d for d in self.host.facts.devices if d.kind is HostDeviceKind.NET and d.id == name), None)

    def _remote_interface(self, name: str) -> HostInterface | str | None:
        """The host's interface as libvirt describes it, '' when it has none, None when it cannot say."""
        if self.host.conn is None:
            return None
        try:
            return parse_interface(self.host.conn.interfaceLookupByName(name).XMLDesc(0))
        except libvirt.libvirtError as exc:
            return "" if exc.get_error_code() == libvirt.VIR_ERR_NO_INTERFACE else None
        except XmlError:
            return None

    def _remote_bridge(self, name: str) -> BridgeKind | None:
        found = self._remote_interface(name)
        if isinstance(found, HostInterface) and found.type == "bridge":
            return BridgeKind.LINUX
        if self.host.conn is not None:
            with contextlib.suppress(libvirt.libvirtError):
                for net in self.host.conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE):
                    if net.bridgeName() == name:
                        return BridgeKind.LINUX
        if found is None:
            return None
        return BridgeKind.MISSING
