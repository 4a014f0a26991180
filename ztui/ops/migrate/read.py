"""What a migration is judged by, read from each of its hosts (read-only libvirt calls): the guests there,
the host's devices with its facts, networks and pool volumes, whether its QEMU runs the guest's machine,
whether it has the guest's local images, its CPU and free memory (`ztui.ops.migrate.fit`) and what its own
guests use (`ztui.ops.migrate.destination`). A daemon that stops answering makes the host unreachable, which
the preflight says; nothing here judges."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum

import libvirt

from ztui.host.inventory import Inventory, build_inventory
from ztui.host.storage import HostFileKind, LocalFiles, host_files
from ztui.libvirt.connection import libvirt_reason
from ztui.libvirt.link import HostLink
from ztui.libvirt.pipeline import read_inventory
from ztui.model import Guest, HostDevice
from ztui.ops.migrate.destination import GuestUses, read_guest_uses
from ztui.ops.migrate.fit import HostFit, read_fit
from ztui.ops.migrate.plan import local_disk


class ImageState(StrEnum):
    """Whether a guest's local disk image is on the destination: a missing one may be copied
    (`--copy-storage`) or created; one that cannot be looked at is said, never guessed."""

    PRESENT = "present"
    MISSING = "missing"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class MigrationHost:
    """What the preflight knows about one host; `None` fields could not be read (checks are skipped)."""

    uri: str
    reachable: bool = True
    error: str = ""
    domains: tuple[tuple[str, str, bool], ...] = ()  # (name, uuid, active)
    devices: tuple[HostDevice, ...] | None = None  # node devices, read only when a pass-through needs them
    networks: tuple[str, ...] | None = None  # active virtual networks
    machine_error: str | None = None  # "" supported, text = why not, None = not checked
    files: tuple[tuple[str, ImageState], ...] = ()  # (path of a local disk, its state) on this host
    inventory: Inventory | None = None  # the host's devices with its facts, networks and pool volumes
    fit: HostFit | None = None  # its CPU comparison and free memory, for this guest
    guest_uses: GuestUses | None = None  # its guests' uses of its devices (`destination`), None: not read

    @functools.cached_property
    def device_inventory(self) -> Inventory | None:
        """The inventory the release rule judges the host's devices by: the one read, else one of the devices
        alone (built once: each moved device asks it); None when its devices were not read."""
        if self.inventory is not None or self.devices is None:
            return self.inventory
        return build_inventory(self.devices, local=bool(self.devices), uri=self.uri)


def unreachable(uri: str, error: str) -> MigrationHost:
    return MigrationHost(uri, reachable=False, error=error)


def _networks(conn: libvirt.virConnect) -> tuple[str, ...] | None:
    try:
        return tuple(n.name() for n in conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE))
    except libvirt.libvirtError:
        return None


def _machine_error(conn: libvirt.virConnect, guest: Guest) -> str | None:
    """Whether the host's QEMU runs this arch and machine type (one emulator probe, not all of them)."""
    if not guest.arch:
        return None
    try:
        conn.getDomainCapabilities(None, guest.arch, guest.machine or None, guest.domain_type or None, 0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() in (libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_RPC, libvirt.VIR_ERR_OPERATION_DENIED):
            return None  # an old daemon without the API, a read-only connection: cannot tell
        return libvirt_reason(exc)
    return ""


def read_migration_host(link: HostLink, guest: Guest, *, devices: bool, domain_xml: str = "",
                        inventory: Inventory | None = None) -> MigrationHost:
    """The facts `assess` needs about a host, for this guest. A daemon that stops answering is unreachable.
    `devices`: the host's inventory is read too (its devices with its facts, networks, pool volumes), or
    `inventory` is the one already read; `domain_xml`: the guest's, for the CPU comparison."""
    conn, uri = link.conn, link.uri
    try:
        domains = tuple((d.name(), d.UUIDString(), bool(d.isActive())) for d in conn.listAllDomains(0))
    except libvirt.libvirtError as exc:
        return unreachable(uri, libvirt_reason(exc))
    inv = inventory if inventory is not None or not devices else read_inventory(link)
    return MigrationHost(uri, domains=domains, devices=inv.devices if inv is not None else None,
                     networks=_networks(conn), machine_error=_machine_error(conn, guest),
                     files=_files(link, guest), inventory=inv,
                     fit=read_fit(conn, domain_xml) if domain_xml else None,
                     guest_uses=read_guest_uses(link, inv, guest.uuid) if inv is not None else None)


def _files(link: HostLink, guest: Guest) -> tuple[tuple[str, ImageState], ...]:
    """Whether the host has each of the guest's local disk images, asked of that host (`ztui.host.storage`:
    its storage pools unless it is this machine). `unknown` when no pool there covers the path's
    directory: the host may still have it, ztui cannot tell."""
    files = host_files(link.conn, link.uri)
    found = []
    for device in guest.devices:
        if not local_disk(device) or device.detail("type") == "block":
            continue
        try:
            kind = files.examine(device.source).kind
            if kind is not HostFileKind.MISSING:
                state = ImageState.PRESENT
            elif isinstance(files, LocalFiles) or files.new_file_site(device.source).pool:
                state = ImageState.MISSING
            else:
                state = ImageState.UNKNOWN
        except libvirt.libvirtError:
            state = ImageState.UNKNOWN
        found.append((device.source, state))
    return tuple(found)
