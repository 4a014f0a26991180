"""Preparing the host for vfio-ccw: the subchannel bound to vfio_ccw, then an mdev defined and started.

The order is the one IBM documents: the ccw device (a DASD) is set offline, its subchannel's driver is
overridden to `vfio_ccw` and re-probed, then a `vfio_ccw-io` mediated device is created on it. The mdev is
defined and started through libvirt's node-device API (libvirt drives mdevctl), so it is persistent and
visible to every libvirt client — and it works on a remote host too. Binding the subchannel needs the
host's sysfs, so that step is done only for the local host.

Every step that changed something is recorded in the result, so a caller can undo it when a later step
(or the attach that follows) fails.
"""

from __future__ import annotations

import contextlib
import os
import uuid as uuidlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import libvirt

from ztui.libvirt.connection import libvirt_reason
from ztui.libvirtxml.devices import SpecError, parse_busid

VFIO_CCW_TYPE = "vfio_ccw-io"


class PrepError(RuntimeError):
    """A preparation step failed; the message is one line (libvirt's or the kernel's reason)."""


@dataclass(frozen=True)
class PreparedMdev:
    """A started vfio-ccw mdev and what was changed to get it (for undo and for the audit log)."""

    uuid: str
    subchannel: str
    nodedev: str  # libvirt's node-device name of the mdev
    steps: tuple[str, ...] = field(default=())
    rebound: bool = False  # the subchannel was moved to vfio_ccw here


def css_nodedev_name(subchannel: str) -> str:
    """libvirt's node-device name of a subchannel: `0.0.0010` → `css_0_0_0010`."""
    return "css_" + subchannel.replace(".", "_")


def subchannel_of(busid: str, sysfs: str = "/sys") -> str:
    """The subchannel (`0.0.0010`) that carries a ccw device (`0.0.5c3f`), from the local sysfs."""
    try:
        text = parse_busid(busid).text
    except SpecError as exc:
        raise PrepError(str(exc)) from None
    device = Path(sysfs, "bus", "ccw", "devices", text)
    if not device.exists():
        raise PrepError(f"ccw device {text} does not exist on this host")
    return os.path.basename(os.path.dirname(os.path.realpath(device)))


def bind_to_vfio_ccw(subchannel: str, sysfs: str = "/sys") -> bool:
    """Move a subchannel to vfio_ccw (driver_override, unbind, probe); False when it already was."""
    base = Path(sysfs, "bus", "css", "devices", subchannel)
    if not base.exists():
        raise PrepError(f"subchannel {subchannel} does not exist on this host")
    driver = base / "driver"
    current = os.path.basename(os.path.realpath(driver)) if driver.exists() else ""
    if current == "vfio_ccw":
        return False
    try:
        (base / "driver_override").write_text("vfio_ccw\n")
        if current:
            (driver / "unbind").write_text(subchannel + "\n")
        Path(sysfs, "bus", "css", "drivers_probe").write_text(subchannel + "\n")
    except OSError as exc:
        raise PrepError(f"cannot bind subchannel {subchannel} to vfio_ccw: {exc.strerror or exc}") from None
    now = os.path.basename(os.path.realpath(driver)) if driver.exists() else ""
    if now != "vfio_ccw":
        raise PrepError(f"subchannel {subchannel} is bound to {now or 'no driver'}, not vfio_ccw "
                        "(is the vfio_ccw module loaded and the DASD offline?)")
    return True


def mdev_xml(subchannel: str, uuid: str, type_id: str = VFIO_CCW_TYPE) -> str:
    """Node-device XML for `virsh nodedev-define`: an mdev of `type_id` on the subchannel."""
    root = ET.Element("device")
    ET.SubElement(root, "parent").text = css_nodedev_name(subchannel)
    cap = ET.SubElement(root, "capability", type="mdev")
    ET.SubElement(cap, "type", id=type_id)
    ET.SubElement(cap, "uuid").text = uuid
    ET.indent(root)
    return ET.tostring(root, encoding="unicode")


def define_and_start_mdev(conn: libvirt.virConnect, subchannel: str, uuid: str | None = None) -> PreparedMdev:
    """Define and start a vfio-ccw mdev on a subchannel through libvirt; PrepError with libvirt's reason.

    A defined mdev that does not start is undefined again, so a failure leaves nothing behind."""
    uuid = (uuid or str(uuidlib.uuid4())).lower()
    xml = mdev_xml(subchannel, uuid)
    try:
        dev = conn.nodeDeviceDefineXML(xml, 0)
    except libvirt.libvirtError as exc:
        raise PrepError(f"libvirt refused to define the mdev on {subchannel}: {libvirt_reason(exc)}") from None
    try:
        dev.create(0)
    except libvirt.libvirtError as exc:
        with contextlib.suppress(libvirt.libvirtError):
            dev.undefine(0)
        raise PrepError(f"libvirt could not start the mdev on {subchannel}: {libvirt_reason(exc)}") from None
    return PreparedMdev(uuid, subchannel, dev.name(), (f"virsh nodedev-define mdev.xml  # {uuid} on {subchannel}",
                                                      f"virsh nodedev-start {dev.name()}"))


def prepare_vfio_ccw(conn: libvirt.virConnect, busid: str, *, local: bool, uuid: str | None = None,
                     sysfs: str = "/sys") -> PreparedMdev:
    """Everything between "DASD 0.0.5c3f" and "an mdev UUID to attach": subchannel, binding, mdev.

    Only a local host can be rebound here; on a remote host the subchannel must already be bound to
    vfio_ccw (given as the subchannel bus-ID) and only the mdev is defined."""
    rebound = False
    if local:
        sub = subchannel_of(busid, sysfs) if Path(sysfs, "bus", "ccw", "devices", busid).exists() else busid
        rebound = bind_to_vfio_ccw(sub, sysfs)
    else:
        sub = busid
    prepared = define_and_start_mdev(conn, sub, uuid)
    steps = ((f"driverctl -b css set-override {sub} vfio_ccw",) if rebound else ()) + prepared.steps
    return PreparedMdev(prepared.uuid, sub, prepared.nodedev, steps, rebound)


def undo_mdev(conn: libvirt.virConnect, prepared: PreparedMdev) -> None:
    """Stop and undefine an mdev made by `define_and_start_mdev` (best effort; the subchannel stays bound)."""
    try:
        dev = conn.nodeDeviceLookupByName(prepared.nodedev)
    except libvirt.libvirtError:
        return
    for step in (dev.destroy, lambda: dev.undefine(0)):
        with contextlib.suppress(libvirt.libvirtError):
            step()
