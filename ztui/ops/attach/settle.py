"""Deciding an outcome that a lost connection left unknown: re-connect (bounded), read, decide.

When libvirtd dies (or the connection drops) after ztui asked for a change and before it was proven, the
change may have happened: QEMU may hold the new disk while libvirt never answered. Treating that as
"refused" deletes an image that a guest writes into. So the handle re-connects for a bounded time, reads the
guest's XML again and decides from it; what still cannot be decided is UNKNOWN (exit 3) with the command
to check by hand, and every file is kept.

An image file is removed only when no process on this machine holds it open (`file_holders`): after a
daemon restart libvirt may not show a disk that QEMU still has (an orphan block node), and QEMU holding
the file open is the proof that it may be attached.

Blocking functions: call them from a worker thread or a command.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import libvirt

from ztui.host.storage import HostFileKind, HostFilesError, host_files
from ztui.libvirt.connection import ConnectError, libvirt_reason, open_connection
from ztui.libvirt.link import HostLink
from ztui.libvirtxml.domain import parse_device_xml
from ztui.model import GuestDevice
from ztui.ops.attach.prove import DeviceChange, Outcome, find_device, read_config, read_live

RECONNECT_TIMEOUT = 30.0  # seconds; ZTUI_RECONNECT_TIMEOUT overrides (fault tests shorten it)
RECONNECT_INTERVAL = 0.5


def reconnect_timeout() -> float:
    with contextlib.suppress(ValueError):
        value = float(os.environ.get("ZTUI_RECONNECT_TIMEOUT", ""))
        if 0 <= value <= 3600:
            return value
    return RECONNECT_TIMEOUT


@dataclass
class GuestHandle:
    """A guest on a host that survives a lost connection: `reconnect` opens a new one by URI and UUID."""

    uri: str
    uuid: str
    name: str
    conn: libvirt.virConnect
    dom: libvirt.virDomain
    _owned: list[libvirt.virConnect] = field(default_factory=list)

    @classmethod
    def of(cls, link: HostLink, dom: libvirt.virDomain, name: str) -> GuestHandle:
        return cls(link.uri, dom.UUIDString(), name, link.conn, dom)

    def reconnect(self, timeout: float | None = None) -> str:
        """Open a new connection and find the guest again within `timeout`; '' or why it could not."""
        deadline = time.monotonic() + (reconnect_timeout() if timeout is None else timeout)
        reason = "no attempt"
        while True:
            try:
                conn = open_connection(self.uri)
            except ConnectError as exc:
                reason = str(exc)
            else:
                try:
                    self.dom = conn.lookupByUUIDString(self.uuid)
                except libvirt.libvirtError as exc:
                    reason = f"{self.name} is not on {self.uri}: {libvirt_reason(exc)}"
                    with contextlib.suppress(libvirt.libvirtError):
                        conn.close()
                else:
                    self.conn = conn
                    self._owned.append(conn)
                    return ""
            if time.monotonic() + RECONNECT_INTERVAL > deadline:
                return reason
            time.sleep(RECONNECT_INTERVAL)

    def close(self) -> None:
        """Close the connections this handle opened (not the one it was given)."""
        for conn in self._owned:
            with contextlib.suppress(libvirt.libvirtError):
                conn.close()
        self._owned.clear()

    def check_command(self) -> str:
        return f"virsh -c {self.uri} dumpxml {self.name}"


def file_holders(path: str) -> list[int]:
    """Pids of the processes on this machine that have `path` open (by device and inode)."""
    try:
        st = os.stat(path)
    except OSError:
        return []
    wanted = (st.st_dev, st.st_ino)
    holders = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                with contextlib.suppress(OSError):
                    fst = os.stat(fd)
                    if (fst.st_dev, fst.st_ino) == wanted:
                        holders.append(int(proc.name))
                        break
    return holders


def image_in_use(path: str, handle: GuestHandle) -> str:
    """Why the image at `path` on the guest's host may be attached ('' when it provably is not open there).

    The image is the host's (`ztui.host.storage.host_files`): looked at where this process sees it — the
    path itself on this machine's own host, under the daemon's root for a daemon on this kernel in a mount
    namespace of its own (a lab host), whose QEMU processes are this kernel's too. On another machine
    nothing can be proven from here: an image that exists there is kept."""
    files = host_files(handle.conn, handle.uri)
    try:
        here = files.here(path)
    except HostFilesError as exc:
        return str(exc)
    if here is None:
        if files.examine(path).kind is HostFileKind.MISSING:
            return ""
        return f"{files.host} is another machine, whose QEMU may hold {path}"
    if not os.path.exists(here):
        return ""
    pids = [p for p in file_holders(here) if p != os.getpid()]
    return f"process {', '.join(map(str, pids))} holds {path} open" if pids else ""


def settle_attach(handle: GuestHandle, xml: str, change: DeviceChange, *, live: bool, image: str = "") -> DeviceChange:
    """An UNKNOWN attach decided after re-connecting: ATTACHED when the XML shows the device; REFUSED (not
    attached) when it does not and nothing holds its image; else still UNKNOWN, with what to check."""
    reason = handle.reconnect()
    if reason:
        return DeviceChange(Outcome.UNKNOWN, handle.name, xml,
                            f"unknown: {change.message}; no new connection ({reason}); check with "
                            f"{handle.check_command()}", change.seconds)
    wanted = parse_device_xml(xml)
    try:
        found = find_device(read_live(handle.dom) if live else read_config(handle.dom), wanted)
    except libvirt.libvirtError as exc:
        return DeviceChange(Outcome.UNKNOWN, handle.name, xml,
                            f"unknown: {change.message}; the guest cannot be read ({libvirt_reason(exc)}); "
                            f"check with {handle.check_command()}", change.seconds)
    if found is not None:
        return DeviceChange(Outcome.ATTACHED, handle.name, xml,
                            f"attached to {handle.name} (proven after re-connecting: {change.message})",
                            change.seconds, device=found)
    in_use = image_in_use(image, handle) if image else ""
    if in_use:
        return DeviceChange(Outcome.UNKNOWN, handle.name, xml,
                            f"unknown: libvirt does not show the device after re-connecting, but {in_use} "
                            "(QEMU may use it as a block node or device libvirt forgot; that ends when the guest "
                            f"restarts); the image is kept; check with {handle.check_command()}", change.seconds)
    return DeviceChange(Outcome.REFUSED, handle.name, xml,
                        f"not attached: {change.message}; after re-connecting {handle.name} does not show it",
                        change.seconds)


def settle_detach(handle: GuestHandle, device: GuestDevice, change: DeviceChange, *, live: bool,
                  timeout: float) -> DeviceChange:
    """An UNKNOWN detach decided after re-connecting: REMOVED when the device is gone within `timeout`;
    still there: UNKNOWN (the request may or may not have reached QEMU), with the device's XML kept."""
    reason = handle.reconnect()
    if reason:
        return DeviceChange(Outcome.UNKNOWN, handle.name, device.xml,
                            f"unknown: {change.message}; no new connection ({reason}); check with "
                            f"{handle.check_command()}", change.seconds, device=device)
    deadline = time.monotonic() + timeout
    while True:
        try:
            present = find_device(read_live(handle.dom) if live else read_config(handle.dom), device)
        except libvirt.libvirtError as exc:
            return DeviceChange(Outcome.UNKNOWN, handle.name, device.xml,
                                f"unknown: {change.message}; the guest cannot be read ({libvirt_reason(exc)}); "
                                f"check with {handle.check_command()}", change.seconds, device=device)
        if present is None:
            return DeviceChange(Outcome.REMOVED, handle.name, device.xml,
                                f"removed from {handle.name} (proven after re-connecting: {change.message})",
                                change.seconds, device=device)
        if time.monotonic() >= deadline:
            return DeviceChange(Outcome.UNKNOWN, handle.name, device.xml,
                                f"unknown: {change.message}; after re-connecting the device is still there "
                                f"(the request may not have reached QEMU); check with {handle.check_command()}",
                                change.seconds, device=device)
        time.sleep(0.2)
