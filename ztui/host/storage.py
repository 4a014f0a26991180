"""A host's files, asked of the host they belong to: this machine's file system, or libvirt's storage pools.

A disk path in a guest's XML names a file on the guest's host. On this machine's own host (`HostPlace.
THIS_MACHINE`) ztui may stat and create it itself; on any other — another machine, or a daemon in a mount
namespace of its own — the same path names a different file (or none), so everything goes through
libvirt's storage API there: the image is a storage volume (`storageVolLookupByPath`, its XML gives
capacity, allocation, format and backing store), and a new image is a volume created in the pool whose
target directory holds the path. A path no pool holds cannot be created there, and says so.

`host_files(conn, uri)` picks the implementation by the host's place as `ztui.host.facts_source.
facts_source_for` gives it, the one function that decides which host is which. Both implementations answer
the same questions (`HostFiles`), so hotplug validation has one code path and the wrong machine is never
asked. The one thing looked at on this machine for a lab host is which processes hold an image (`here`):
its QEMU runs on this kernel.
"""

from __future__ import annotations

import contextlib
import enum
import os
import posixpath
import shlex
import stat
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import libvirt

from ztui.host.facts_source import facts_source_for
from ztui.host.place import HostPlace, daemon_root
from ztui.libvirtxml.common import XmlError
from ztui.libvirtxml.pool import PoolDesc, new_volume_xml, parse_pool, parse_volume, pool_holding

if TYPE_CHECKING:
    import libvirt

__all__ = [
    "HostFile",
    "HostFileKind",
    "HostFiles",
    "HostFilesError",
    "LocalFiles",
    "NewFileSite",
    "StorageFiles",
    "host_files",
    "local_image_format",
    "qemu_img_create",
]

QCOW2_MAGIC = b"QFI\xfb"


class HostFilesError(ValueError):
    """An image could not be created on the host; the message is one line for the user."""


class HostFileKind(enum.Enum):
    """What a path is on its host, as `HostFiles.examine` found it (beside `inventory.FileKind`, which is
    what `stat` says of a path this machine examined: this one also says missing or unreadable)."""

    FILE = "file"
    BLOCK = "block"
    DIRECTORY = "directory"
    OTHER = "other"
    MISSING = "missing"
    UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class HostFile:
    """One path as its host sees it. `error` explains MISSING and UNREADABLE in a few words."""

    path: str
    kind: HostFileKind
    format: str = ""  # qcow2, raw, …: from the magic (local) or the volume's XML
    capacity: int | None = None
    allocation: int | None = None
    backing: str = ""
    usable: bool = True  # readable and writable for the hypervisor, as far as ztui can tell
    pool: str = ""
    volume: str = ""
    error: str = ""


@dataclass(frozen=True, slots=True)
class NewFileSite:
    """Where a new image would be made: its directory, the pool holding it (remote), or why not there."""

    directory: str
    problem: str = ""
    pool: str = ""


class HostFiles(Protocol):
    """The questions hotplug asks about a host's files, answered by the host itself."""

    @property
    def host(self) -> str:
        """The host's name, for messages."""
        ...

    def examine(self, path: str) -> HostFile: ...

    def new_file_site(self, path: str) -> NewFileSite: ...

    def identity(self, path: str) -> str:
        """A name equal for two paths of the same file (symlinks resolved, or the volume's key)."""
        ...

    def create(self, path: str, size: int, fmt: str) -> None:
        """Make a new empty image; HostFilesError with the host's reason when it cannot."""
        ...

    def remove(self, path: str) -> None:
        """Remove an image made by `create` (after a refused attach); never raises."""
        ...

    def create_command(self, path: str, size: int, fmt: str) -> str:
        """The shell line an administrator would type for `create`."""
        ...

    def here(self, path: str) -> str | None:
        """Where this process can look at the host's file to see which processes hold it open: the path
        itself on this machine's own host, the path under the daemon's root for a daemon on this kernel in
        a mount namespace of its own; None for another machine (its processes are not ours to see).
        HostFilesError when the host is on this kernel but cannot be looked at now (its daemon is down)."""
        ...


# --- this machine -------------------------------------------------------------------------------------------

def local_image_format(path: str) -> str:
    """qcow2 when the file starts with qcow2's magic, else raw."""
    try:
        with open(path, "rb") as handle:
            return "qcow2" if handle.read(4) == QCOW2_MAGIC else "raw"
    except OSError:
        return "raw"


def qemu_img_create(path: str, size: int, fmt: str) -> list[str]:
    return ["qemu-img", "create", "-q", "-f", fmt, path, str(size)]


class LocalFiles:
    """This machine's own file system (the host is `HostPlace.THIS_MACHINE`)."""

    host = "this host"

    def examine(self, path: str) -> HostFile:
        try:
            info = os.stat(path)
        except FileNotFoundError:
            return HostFile(path, HostFileKind.MISSING, error="does not exist")
        except OSError as exc:
            return HostFile(path, HostFileKind.UNREADABLE, error=exc.strerror or str(exc))
        if stat.S_ISBLK(info.st_mode):
            return HostFile(path, HostFileKind.BLOCK)
        if stat.S_ISDIR(info.st_mode):
            return HostFile(path, HostFileKind.DIRECTORY)
        if not stat.S_ISREG(info.st_mode):
            return HostFile(path, HostFileKind.OTHER)
        return HostFile(path, HostFileKind.FILE, format=local_image_format(path), capacity=info.st_size,
                        allocation=info.st_blocks * 512, usable=os.access(path, os.R_OK | os.W_OK))

    def new_file_site(self, path: str) -> NewFileSite:
        parent = os.path.dirname(path)
        if not os.path.isdir(parent):
            return NewFileSite(parent, f"directory {parent} does not exist")
        if not os.access(parent, os.W_OK):
            return NewFileSite(parent, f"directory {parent} is not writable")
        return NewFileSite(parent)

    def identity(self, path: str) -> str:
        return os.path.realpath(path)

    def create(self, path: str, size: int, fmt: str) -> None:
        try:
            # a session of its own: ctrl+c at the terminal reaches ztui, which lets this step finish (a
            # qemu-img killed half-way would leave half an image), not qemu-img
            result = subprocess.run(qemu_img_create(path, size, fmt), capture_output=True, text=True, check=False,
                                    timeout=60, start_new_session=True)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise HostFilesError(f"qemu-img could not create {path}: {exc}") from None
        if result.returncode != 0:
            reason = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit {result.returncode}"
            raise HostFilesError(f"qemu-img could not create {path}: {reason}")

    def remove(self, path: str) -> None:
        with contextlib.suppress(OSError):
            os.unlink(path)

    def create_command(self, path: str, size: int, fmt: str) -> str:
        return shlex.join(qemu_img_create(path, size, fmt))

    def here(self, path: str) -> str | None:
        return path


# --- any other host: libvirt's storage pools --------------------------------------------------------------

_VOLUME_KINDS = {"file": HostFileKind.FILE, "block": HostFileKind.BLOCK, "dir": HostFileKind.DIRECTORY,
                 "network": HostFileKind.FILE, "netdir": HostFileKind.DIRECTORY, "ploop": HostFileKind.FILE}


class StorageFiles:
    """A host whose files ztui cannot open: every file is a volume of one of its storage pools.

    Pools are listed once per instance (an attach makes one); a path a pool's directory holds but libvirt
    has not seen yet (copied there by hand) is found after refreshing that one pool."""

    def __init__(self, conn: libvirt.virConnect, uri: str, place: HostPlace = HostPlace.REMOTE) -> None:
        self.conn = conn
        self.uri = uri
        self.place = place
        self._host = ""
        self._pools: list[tuple[libvirt.virStoragePool, PoolDesc]] | None = None
        self._identity: dict[str, str] = {}

    @property
    def host(self) -> str:
        if not self._host:
            try:
                self._host = str(self.conn.getHostname())
            except libvirt.libvirtError:
                self._host = self.uri
        return self._host

    def pools(self) -> list[tuple[libvirt.virStoragePool, PoolDesc]]:
        """The host's active pools with their XML read (a few calls, once)."""
        if self._pools is None:
            found = []
            try:
                listed = self.conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
            except libvirt.libvirtError:
                listed = []
            for pool in listed:
                try:
                    found.append((pool, parse_pool(pool.XMLDesc(0))))
                except (libvirt.libvirtError, XmlError):
                    continue
            self._pools = found
        return self._pools

    def _holder(self, directory: str) -> tuple[libvirt.virStoragePool, PoolDesc] | None:
        pools = self.pools()
        desc = pool_holding(directory, [d for _, d in pools])
        return next(((p, d) for p, d in pools if d is desc), None) if desc is not None else None

    def _lookup(self, path: str) -> libvirt.virStorageVol | None:
        try:
            return self.conn.storageVolLookupByPath(path)
        except libvirt.libvirtError:
            pass
        holder = self._holder(posixpath.dirname(path))
        if holder is None:
            return None
        try:  # a file put there behind libvirt's back: one refresh of that pool, then ask again
            holder[0].refresh(0)
            return self.conn.storageVolLookupByPath(path)
        except libvirt.libvirtError:
            return None

    def examine(self, path: str) -> HostFile:
        vol = self._lookup(path)
        if vol is None:
            return HostFile(path, HostFileKind.MISSING, error="no storage pool there has it")
        try:
            desc = parse_volume(vol.XMLDesc(0))
            pool = str(vol.storagePoolLookupByVolume().name())
        except (libvirt.libvirtError, XmlError) as exc:
            return HostFile(path, HostFileKind.UNREADABLE, error=str(exc))
        kind = _VOLUME_KINDS.get(desc.type, HostFileKind.OTHER)
        return HostFile(path, kind, format=desc.format, capacity=desc.capacity, allocation=desc.allocation,
                        backing=desc.backing, pool=pool, volume=desc.name)

    def new_file_site(self, path: str) -> NewFileSite:
        directory = posixpath.dirname(path)
        holder = self._holder(directory)
        if holder is None:
            return NewFileSite(directory, f"no storage pool on {self.host} holds {directory}; define one or give "
                                          "an existing image")
        return NewFileSite(directory, pool=holder[1].name)

    def identity(self, path: str) -> str:
        """The volume's key when libvirt knows the path (one lookup per path, remembered), else the path."""
        if path not in self._identity:
            try:
                self._identity[path] = str(self.conn.storageVolLookupByPath(path).key())
            except libvirt.libvirtError:
                self._identity[path] = posixpath.normpath(path)
        return self._identity[path]

    def create(self, path: str, size: int, fmt: str) -> None:
        holder = self._holder(posixpath.dirname(path))
        if holder is None:
            raise HostFilesError(self.new_file_site(path).problem)
        try:
            holder[0].createXML(new_volume_xml(posixpath.basename(path), size, fmt), 0)
        except libvirt.libvirtError as exc:
            raise HostFilesError(f"{self.host} could not create {path} in pool {holder[1].name}: "
                                 f"{exc.get_error_message()}") from None

    def remove(self, path: str) -> None:
        with contextlib.suppress(libvirt.libvirtError):
            self.conn.storageVolLookupByPath(path).delete(0)

    def create_command(self, path: str, size: int, fmt: str) -> str:
        holder = self._holder(posixpath.dirname(path))
        pool = holder[1].name if holder is not None else "POOL"
        return shlex.join(["virsh", "-c", self.uri, "vol-create-as", pool, posixpath.basename(path), str(size),
                           "--format", fmt])

    def here(self, path: str) -> str | None:
        if self.place is not HostPlace.OTHER_NAMESPACE:
            return None
        root = daemon_root(self.uri)
        if root is None or not path.startswith("/"):
            raise HostFilesError(f"{path} cannot be looked at on {self.uri} now (its daemon's files are out of "
                                 "reach)")
        return f"{root}{posixpath.normpath(path)}"


def host_files(conn: libvirt.virConnect | None, uri: str | None = None) -> HostFiles:
    """The files of the host behind `conn`: this machine's file system only when the host's facts source
    says the host is in this process's mount namespace; libvirt's storage pools for every other host (a lab
    host, the simulated Z hosts, a remote host)."""
    if conn is None:
        return LocalFiles()
    uri = uri or str(conn.getURI())
    place = facts_source_for(uri).place
    if place.files_here:
        return LocalFiles()
    return StorageFiles(conn, uri, place)

