"""libvirt's node-device API for mediated devices: define, start, autostart, stop, undefine, and their state.

libvirt (with mdevctl underneath) keeps a defined mdev persistent and visible to every client, locally and
over a remote connection, so a preparation's mdev is made here rather than by writing sysfs `create`.
The state is always read back from libvirt (`listAllDevices` of mdev capability, active and inactive),
never assumed from a call's return.
"""

from __future__ import annotations

import libvirt

from ztui.libvirt.connection import libvirt_reason
from ztui.libvirtxml.common import XmlError
from ztui.libvirtxml.nodedev import parse_nodedev
from ztui.ops.prepare.run import MdevState, PrepFailed

_MDEV = getattr(libvirt, "VIR_CONNECT_LIST_NODE_DEVICES_CAP_MDEV", 1 << 17)
_INACTIVE = getattr(libvirt, "VIR_CONNECT_LIST_NODE_DEVICES_INACTIVE", 1 << 31)
_ACTIVE = getattr(libvirt, "VIR_CONNECT_LIST_NODE_DEVICES_ACTIVE", 1 << 30)


class LibvirtNodeDevices:
    """`ztui.ops.prepare.run.NodeDevices` over one libvirt connection (local or remote)."""

    def __init__(self, conn: libvirt.virConnect) -> None:
        self.conn = conn

    def _lookup(self, name: str) -> libvirt.virNodeDevice:
        try:
            return self.conn.nodeDeviceLookupByName(name)
        except libvirt.libvirtError as exc:
            raise PrepFailed(f"libvirt has no node device {name}: {libvirt_reason(exc)}") from None

    def define(self, xml: str) -> str:
        try:
            return str(self.conn.nodeDeviceDefineXML(xml, 0).name())
        except libvirt.libvirtError as exc:
            raise PrepFailed(f"libvirt refused to define the mdev: {libvirt_reason(exc)}") from None
        except AttributeError:  # a libvirt-python older than 7.3
            raise PrepFailed("this libvirt-python cannot define node devices (virsh nodedev-define)") from None

    def start(self, name: str) -> None:
        self._call(name, "start", lambda d: d.create(0))

    def set_autostart(self, name: str, on: bool) -> None:
        self._call(name, "mark for autostart", lambda d: d.setAutostart(1 if on else 0))

    def destroy(self, name: str) -> None:
        self._call(name, "stop", lambda d: d.destroy())

    def undefine(self, name: str) -> None:
        self._call(name, "undefine", lambda d: d.undefine(0))

    def _call(self, name: str, what: str, call: object) -> None:
        dev = self._lookup(name)
        try:
            call(dev)  # type: ignore[operator]
        except libvirt.libvirtError as exc:
            raise PrepFailed(f"libvirt could not {what} {name}: {libvirt_reason(exc)}") from None

    def state(self, uuid: str) -> tuple[MdevState, bool]:
        for flags, state in ((_MDEV | _ACTIVE, MdevState.ACTIVE), (_MDEV | _INACTIVE, MdevState.DEFINED)):
            try:
                devices = self.conn.listAllDevices(flags)
            except libvirt.libvirtError:
                continue
            for dev in devices:
                try:
                    parsed = parse_nodedev(dev.XMLDesc(0))
                except XmlError:  # a damaged description names no UUID we could match
                    continue
                if parsed.id.lower() == uuid.lower():
                    try:
                        autostart = bool(dev.autostart())
                    except (libvirt.libvirtError, AttributeError):
                        autostart = False
                    return state, autostart
        return MdevState.GONE, False
