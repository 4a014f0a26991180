"""What a migration will do, before it does it: the options, libvirt's flags and parameters, the virsh
command that does the same, and the plan as steps an administrator can read (and redo by hand).

Pure functions over the model and the options: no libvirt call happens here, so the plan can be shown
(and tested) before anything changes.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import libvirt

from ztui.facts import is_loopback_host
from ztui.libvirtxml.rewrite import rewrite_sources
from ztui.model import DeviceKind, GuestDevice, VolumeIdentity

PASSTHROUGH_MODES = ("detach-reattach", "refuse")


@dataclass(frozen=True)
class MigrationOptions:
    """Everything the user chooses for one migration (CLI flags, TUI checkboxes)."""

    passthrough: str = "detach-reattach"  # or "refuse": pass-through devices are blockers
    extra_detach: tuple[str, ...] = ()  # further devices to move around the migration (--detach)
    unsafe: bool = False  # disks are on storage the destination shares (or the user accepts the risk)
    copy_storage: bool = False  # copy local disks (VIR_MIGRATE_NON_SHARED_DISK)
    bandwidth_mib: int = 0  # MiB/s, 0 = libvirt's default
    max_downtime_ms: int = 0  # 0 = QEMU's default (300 ms)
    persistent: bool = False
    undefine_source: bool = False
    auto_converge: bool = False
    postcopy: bool = False  # allow switching to post-copy (the switch itself is a request during the run)
    detach_timeout: float = 15.0
    migration_uri: str = ""  # tcp://<dest-address>; derived from the destination URI when empty
    listen_address: str = ""  # where the destination's QEMU listens; derived for local daemons
    offline: bool = False  # move a shut-off guest's definition only (always persistent on the destination)


def name_of(device: GuestDevice) -> str:
    """The name a user gives `--detach` and sees in reports (`GuestDevice.display_name`)."""
    return device.display_name


def migration_uri(dest_uri: str, options: MigrationOptions | None = None) -> str:
    """`tcp://<host>` for the data stream. Always passed: otherwise the destination advertises its
    hostname, which may not resolve from the source (docs/ARCHITECTURE.md §5); a local daemon gets loopback."""
    if options is not None and options.migration_uri:
        return options.migration_uri
    host = urlsplit(dest_uri).hostname
    return f"tcp://{'127.0.0.1' if is_loopback_host(host) else host}"


def listen_address(dest_uri: str, options: MigrationOptions | None = None) -> str:
    """Where the incoming QEMU listens: loopback for a daemon on this machine, else libvirt's default."""
    if options is not None and options.listen_address:
        return options.listen_address
    return "127.0.0.1" if is_loopback_host(urlsplit(dest_uri).hostname) else ""


def migrate_flags(options: MigrationOptions) -> int:
    """Always peer-to-peer: the source daemon drives the job, so it survives this client. Live, except
    offline, which moves the definition alone and so must make it persistent on the destination."""
    if options.offline:
        flags = libvirt.VIR_MIGRATE_OFFLINE | libvirt.VIR_MIGRATE_PEER2PEER | libvirt.VIR_MIGRATE_PERSIST_DEST
        if options.undefine_source:
            flags |= libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
        return int(flags)
    flags = libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER
    for wanted, flag in ((options.persistent, libvirt.VIR_MIGRATE_PERSIST_DEST),
                         (options.undefine_source, libvirt.VIR_MIGRATE_UNDEFINE_SOURCE),
                         (options.unsafe, libvirt.VIR_MIGRATE_UNSAFE),
                         (options.copy_storage, libvirt.VIR_MIGRATE_NON_SHARED_DISK),
                         (options.auto_converge, libvirt.VIR_MIGRATE_AUTO_CONVERGE),
                         (options.postcopy, libvirt.VIR_MIGRATE_POSTCOPY)):
        if wanted:
            flags |= flag
    return int(flags)


def migrate_params(dest_uri: str, options: MigrationOptions, persist_xml: str = "",
                   dest_xml: str = "") -> dict[str, Any]:
    """migrateToURI3's typed parameters. `persist_xml` is the source's persistent definition: with it the
    destination keeps the devices that were only detached from the live guest. `dest_xml`: the guest's XML
    as the destination is to run it (its disks under the destination's names). Offline there is no data
    stream, so no address either."""
    if options.offline:
        return {libvirt.VIR_MIGRATE_PARAM_PERSIST_XML: persist_xml} if persist_xml else {}
    params: dict[str, Any] = {libvirt.VIR_MIGRATE_PARAM_URI: migration_uri(dest_uri, options)}
    if dest_xml:
        params[libvirt.VIR_MIGRATE_PARAM_DEST_XML] = dest_xml
    listen = listen_address(dest_uri, options)
    if listen:
        params[libvirt.VIR_MIGRATE_PARAM_LISTEN_ADDRESS] = listen
    if options.bandwidth_mib:
        params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = options.bandwidth_mib
    if persist_xml and options.persistent:
        params[libvirt.VIR_MIGRATE_PARAM_PERSIST_XML] = persist_xml
    return params


def destination_xml_file(guest: str, persistent: bool = False) -> str:
    """The file a person keeps the guest's XML for the destination in (its disks under the destination's
    names), for `virsh migrate --xml` (`--persistent-xml` for the definition)."""
    return f"{guest}-{'definition' if persistent else 'destination'}.xml"


def virsh_migrate(src_uri: str, guest: str, dest_uri: str, options: MigrationOptions,
                  renamed: bool = False) -> str:
    """The virsh command that does the migration step alone (without moving the devices); `renamed`: the
    destination gets the guest's XML with its disks under that host's names."""
    if options.offline:
        words = ["virsh", "-c", src_uri, "migrate", "--offline", "--persistent", "--p2p", guest, dest_uri]
        if options.undefine_source:
            words.append("--undefinesource")
        if renamed:
            words += ["--persistent-xml", destination_xml_file(guest, True)]
        return shlex.join(words)
    words = ["virsh", "-c", src_uri, "migrate", "--live", "--p2p", guest, dest_uri,
             "--migrateuri", migration_uri(dest_uri, options)]
    listen = listen_address(dest_uri, options)
    if listen:
        words += ["--listen-address", listen]
    for wanted, word in ((options.persistent, "--persistent"), (options.undefine_source, "--undefinesource"),
                         (options.unsafe, "--unsafe"), (options.copy_storage, "--copy-storage-all"),
                         (options.auto_converge, "--auto-converge"), (options.postcopy, "--postcopy")):
        if wanted:
            words.append(word)
    if options.bandwidth_mib:
        words += ["--bandwidth", str(options.bandwidth_mib)]
    if renamed:
        words += ["--xml", destination_xml_file(guest)]
        if options.persistent:
            words += ["--persistent-xml", destination_xml_file(guest, True)]
    return shlex.join(words)


def virsh_device(uri: str, guest: str, verb: str, xml_file: str = "device.xml") -> str:
    """`virsh attach-device|detach-device` for one live device (the XML goes into `xml_file`)."""
    return shlex.join(["virsh", "-c", uri, verb, guest, xml_file, "--live"])


@dataclass(frozen=True)
class PlanStep:
    """One step of the plan: what happens, on which host, and the virsh command that does the same."""

    action: str  # detach | migrate | downtime | attach
    host: str  # the URI the step runs against
    text: str
    virsh: str
    device: str = ""

    def to_json(self) -> dict[str, str]:
        return {"action": self.action, "host": self.host, "text": self.text, "virsh": self.virsh,
                "device": self.device}


@dataclass(frozen=True)
class Rewrite:
    """What backs one guest device under the destination's name, carried in the migration XML: a disk's path
    (the same volume, found by its identity: `ztui.ops.migrate.fit`), a vfio-ccw mdev's UUID."""

    device: str
    old: str
    new: str
    volume: VolumeIdentity | None = None
    mdev: bool = False

    @property
    def text(self) -> str:
        what = f" ({self.volume.text})" if self.volume is not None else ""
        return f"{self.device}: {'mdev ' if self.mdev else ''}{self.old} is {self.new} on the destination{what}"

    def to_json(self) -> dict[str, Any]:
        return {"device": self.device, "from": self.old, "to": self.new, "mdev": self.mdev,
                "volume": {"kind": self.volume.kind.value, "id": self.volume.value} if self.volume else None}


def renamed_xml(xml: str, rewrites: Sequence[Rewrite]) -> str:
    """A domain's (or device's) XML with its backing under the destination's names."""
    if not rewrites:
        return xml
    return rewrite_sources(xml, {r.old: r.new for r in rewrites if not r.mdev},
                           {r.old: r.new for r in rewrites if r.mdev})


def plan_steps(guest: str, src_uri: str, dest_uri: str, options: MigrationOptions,
               to_move: tuple[GuestDevice, ...], renamed: Sequence[Rewrite] = ()) -> tuple[PlanStep, ...]:
    """The whole procedure in order; on a failure the detached devices go back onto the source. `renamed`:
    devices whose backing has another name on the destination, carried in the migration XML."""
    xml_steps = [PlanStep("rename", dest_uri, f"in the XML the destination gets: {r.text}",
                          shlex.join(["virsh", "-c", src_uri, "dumpxml", "--inactive" if options.offline else
                                      "--migratable", guest]) + f" > {destination_xml_file(guest, options.offline)}",
                          r.device) for r in renamed]
    if options.offline:
        where = "moved (undefined on the source)" if options.undefine_source else "copied (the source keeps it)"
        return (*xml_steps, PlanStep("migrate", src_uri, f"define {guest} on {dest_uri}, offline: its definition is "
                                                         f"{where}, nothing is started and no disk is copied",
                                     virsh_migrate(src_uri, guest, dest_uri, options, bool(renamed))))
    steps = [PlanStep("detach", src_uri, f"detach {name_of(d)} ({d.kind.value}) from {guest}, proven gone",
                      virsh_device(src_uri, guest, "detach-device", f"{name_of(d)}.xml"), name_of(d))
             for d in to_move]
    steps.extend(xml_steps)
    steps.append(PlanStep("migrate", src_uri, f"migrate {guest} live, peer-to-peer, to {dest_uri}",
                          virsh_migrate(src_uri, guest, dest_uri, options, bool(renamed))))
    if options.max_downtime_ms:
        steps.append(PlanStep("downtime", src_uri, f"allow at most {options.max_downtime_ms} ms of downtime",
                              shlex.join(["virsh", "-c", src_uri, "migrate-setmaxdowntime", guest,
                                          str(options.max_downtime_ms)])))
    steps.extend(PlanStep("attach", dest_uri, f"attach {name_of(d)} to {guest} on the destination, proven present",
                          virsh_device(dest_uri, guest, "attach-device", f"{name_of(d)}.xml"), name_of(d))
                 for d in to_move)
    return tuple(steps)


def local_disk(device: GuestDevice) -> bool:
    """A disk on storage of the host's own (a file or a block device), not a network disk: what a migration
    must find there, copy, or be told is shared."""
    return device.kind in (DeviceKind.DISK, DeviceKind.CDROM, DeviceKind.LUN, DeviceKind.FLOPPY) and \
        device.detail("type") in ("file", "block", "") and bool(device.source) and \
        not device.source.startswith(("rbd:", "iscsi:", "nbd:", "gluster:"))
