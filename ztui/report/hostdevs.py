"""The host-device inventory grouped the way an IBM Z administrator thinks of it, as JSON and as text.

Pure: takes an inventory, its users and conflicts; `ztui hostdevs` and the TUI share it. Besides devices,
the host *objects* guests use (image files, CHPIDs, WWPNs, LUNs, networks) are listed with their users,
because "which guests use the FCP LUN 0x4001400000000000?" is asked as often as about a device.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ztui.facts import (
    CcwRole,
    ChpState,
    F,
    alias_bases,
    ap_queue_state,
    carried_busid,
    ccw_role,
    chp_state,
    dasd_discipline,
    dasd_uid,
    driver_override,
    is_dasd_alias,
    is_linux_bridge,
    is_online,
    kernel_flag,
    mdev_ap_matrix,
    mdev_control_domains,
    subchannel_paths,
    wwn,
    zfcp_path,
)
from ztui.host.hostuse import HostUseReason
from ztui.host.inventory import Inventory
from ztui.host.usage import available, conflicts, eligibility, users_of
from ztui.host.volumes import VolumeJoin
from ztui.model import (
    DeviceUse,
    Eligibility,
    Host,
    HostDevice,
    HostDeviceKind,
    Sighting,
    VolumeIdentity,
    VolumeUser,
)
from ztui.report.filtering import match_host_device
from ztui.report.tree_json import sighting_json, volume_json
from ztui.report.tree_text import WIDTH
from ztui.zsysfs import CcwGroup, Dasd, Firmware

GROUPS = ("DASD", "SCSI/FCP", "block devices", "network", "PCI/zPCI", "subchannels and mdevs", "AP",
          "channel paths", "other")
OBJECTS = "used host objects"


def group_of(dev: HostDevice) -> str:
    """The group a device is listed in."""
    kind = dev.kind
    if kind is HostDeviceKind.CCW:
        return {CcwRole.DASD: "DASD", CcwRole.FCP: "SCSI/FCP", CcwRole.QETH: "network"}.get(ccw_role(dev), "other")
    if kind in (HostDeviceKind.SCSI, HostDeviceKind.SCSI_HOST, HostDeviceKind.SCSI_TARGET):
        return "SCSI/FCP"
    if kind in (HostDeviceKind.BLOCK, HostDeviceKind.STORAGE):
        return "block devices"
    if kind in (HostDeviceKind.NET, HostDeviceKind.CCWGROUP):
        return "network"
    if kind is HostDeviceKind.PCI:
        return "PCI/zPCI"
    if kind in (HostDeviceKind.CSS, HostDeviceKind.MDEV):
        return "subchannels and mdevs"
    if kind is HostDeviceKind.CHPID:
        return "channel paths"
    if kind in (HostDeviceKind.AP_CARD, HostDeviceKind.AP_QUEUE, HostDeviceKind.AP_MATRIX):
        return "AP"
    return "other"


def summary(dev: HostDevice, inv: Inventory | None = None) -> str:
    """One line of what matters most for each kind of device (`inv` finds a subchannel's channel paths and
    an alias's base)."""
    f = dev.fact
    parts: list[str] = []
    kind = dev.kind
    if kind is HostDeviceKind.CCW:
        parts += [f(F.DEVTYPE), f"CU {f(F.CUTYPE)}" if f(F.CUTYPE) else "", _online_word(dev)]
        if ccw_role(dev) is CcwRole.DASD:
            uid = dasd_uid(dev)
            discipline = dasd_discipline(dev)
            status = Dasd.status.read(f(F.STATUS))
            parts += [discipline if discipline and discipline != "ECKD" else "",
                      f"status {status}" if status not in (None, "online", "unknown") else "",
                      _alias_words(dev, inv) if is_dasd_alias(dev) else f"uid {uid.text}" if uid else "",
                      "read-only" if kernel_flag(dev, F.READONLY) else "",
                      "raw-track" if kernel_flag(dev, F.RAW_TRACK_ACCESS) else "",
                      "ESE" if kernel_flag(dev, F.ESE) else ""]
    elif kind is HostDeviceKind.CCWGROUP:
        layer2 = CcwGroup.layer2.read(f(F.LAYER2))
        parts += [f(F.CARD_KIND) or f(F.CARD_TYPE), f(F.IF_NAME), f"CHPID {f(F.CHPID)}" if f(F.CHPID) else "",
                  f(F.STATE), _online_word(dev) if is_online(dev) is False else "",
                  {1: "layer 2", 0: "layer 3"}.get(layer2, "") if layer2 is not None else "",
                  f"bridge role {f(F.BRIDGE_ROLE)}" if f(F.BRIDGE_ROLE) not in ("", "none") else ""]
    elif kind is HostDeviceKind.CSS:
        carried = carried_busid(dev)
        paths = _paths(dev, inv)
        override = driver_override(dev)
        parts += [f"carries {carried}" if carried else "",
                  f"CHPIDs {' '.join(c.word for c in paths)}" if paths else "",
                  f"override {override}" if override else ""]
    elif kind is HostDeviceKind.CHPID:
        chp = chp_state(dev)
        parts += [f"type {chp.type}" if chp.type else "",
                  {True: "online", False: "offline"}.get(chp.online, "") if chp.online is not None else "",
                  chp.configure, f"CHID {f(F.CHID)}" if f(F.CHID) else ""]
    elif kind is HostDeviceKind.MDEV:
        control = sorted(mdev_control_domains(dev))
        matrix = mdev_ap_matrix(dev) if dev.fact(F.MDEV_TYPE).startswith("vfio_ap") or dev.has_fact(F.MATRIX) \
            or dev.fact(F.ASSIGN_ADAPTER) or dev.fact(F.ASSIGN_DOMAIN) else None
        assigned = ",".join(matrix.queue_ids()) if matrix is not None else ""
        if matrix is not None and not matrix.queues:  # an adapter (`0c.`) or a domain (`.0038`) alone
            adapters = ",".join(f"{a:02x}" for a in sorted(matrix.adapters))
            domains = ",".join(f"{d:04x}" for d in sorted(matrix.domains))
            assigned = (f"adapters {adapters} (no domain)" if adapters else
                        f"domains {domains} (no adapter)" if domains else "nothing assigned")
        parts += [f(F.MDEV_TYPE), f"on {dev.parent}" if dev.parent else "", assigned,
                  f"control domains {','.join(f'{d:04x}' for d in control)}" if control else ""]
    elif kind is HostDeviceKind.AP_QUEUE:
        parts += [ap_queue_state(dev)]
    elif kind is HostDeviceKind.SYSTEM:
        dump = Firmware.dump_type.read(f(F.DUMP_TYPE))
        prot_virt = kernel_flag(dev, F.PROT_VIRT)
        parts += [f"Secure Execution host (prot_virt) {'on' if prot_virt else 'off'}" if prot_virt is not None
                  else "",
                  f"dump device {f(F.DUMP_DEVICE) or f(F.DUMP_FID)} ({dump})" if dump and dump != "none" else "",
                  f"IPLed from {f(F.IPL_DEVICE)} ({f(F.IPL_TYPE)})" if f(F.IPL_DEVICE) else ""]
    elif kind is HostDeviceKind.SCSI_HOST and (f(F.PORT_TYPE) or f(F.PORT_NAME)):
        parts += [f(F.PORT_TYPE), f"port {wwn(f(F.PORT_NAME))}" if f(F.PORT_NAME) else "", f(F.PORT_STATE)]
    elif kind is HostDeviceKind.PCI:
        parts += [f"uid {f(F.UID)}" if f(F.UID) else "", f"fid {f(F.FUNCTION_ID) or f(F.FID)}"
                  if f(F.FUNCTION_ID) or f(F.FID) else "", f(F.VENDOR_ID) or f(F.VENDOR),
                  f(F.PRODUCT_ID) or f(F.DEVICE)]
    elif kind is HostDeviceKind.SCSI:
        parts += [f(F.VENDOR), f(F.MODEL), " ".join(p for p in zfcp_path(dev) if p),
                  f(F.STATE) if f(F.STATE) not in ("", "running") else "",
                  "access denied" if kernel_flag(dev, F.ZFCP_ACCESS_DENIED) else "",
                  "failed" if kernel_flag(dev, F.ZFCP_FAILED) else ""]
    elif kind in (HostDeviceKind.BLOCK, HostDeviceKind.STORAGE):
        parts += [dev.name, f(F.DM_NAME), f(F.DEVTYPE)]
    elif kind is HostDeviceKind.NET:
        parts += [f(F.ADDRESS), "bridge" if is_linux_bridge(dev) else "", f(F.OPERSTATE) or f(F.LINK_STATE)]
    elif kind is HostDeviceKind.AP_CARD:
        parts += [f(F.AP_TYPE), f(F.AP_MODE), ap_queue_state(dev)]
    if dev.driver:
        parts.append(f"driver {dev.driver}")
    return " ".join(p for p in parts if p)


def _online_word(dev: HostDevice) -> str:
    return {True: "online", False: "offline", None: ""}[is_online(dev)]


def _paths(css: HostDevice, inv: Inventory | None) -> list[ChpState]:
    return subchannel_paths(css, (lambda chpid: inv.get(HostDeviceKind.CHPID, chpid)) if inv is not None
                            else (lambda _chpid: None))


def _alias_words(dev: HostDevice, inv: Inventory | None) -> str:
    """`HyperPAV alias of LCU …` / `PAV alias of 0.0.5c3f`, naming the base where the inventory has it."""
    uid = dasd_uid(dev)
    bases = alias_bases(dev, inv.of_kind(HostDeviceKind.CCW)) if inv is not None else []
    if uid.hyperpav:
        return f"HyperPAV alias of {uid.lcu}" if uid else "HyperPAV alias"
    if bases:
        return f"PAV alias of {bases[0].id}"
    return f"PAV alias of {uid.text}" if uid else "PAV alias"


def fact_warnings(dev: HostDevice, inv: Inventory | None) -> list[str]:
    """What is wrong with a device as its facts tell, each problem named once, where it is: a CHPID's state
    (standby, varied offline) on the channel path's own entry, a path's masks (not available, not
    operational) on its subchannel's — never repeated on every device behind them."""
    if dev.kind is HostDeviceKind.CHPID:
        problem = chp_state(dev).chp_problem
        return [problem] if problem else []
    if dev.kind is HostDeviceKind.CSS:
        paths = _paths(dev, inv)
        found = [p.path_problem for p in paths if p.path_problem]
        if paths and all(p.problem for p in paths):
            found.insert(0, "no usable channel path")
        return found
    return []


def use_json(use: DeviceUse) -> dict[str, Any]:
    return {"guest": use.guest, "uuid": use.guest_uuid, "target": use.target, "kind": use.device_kind.value,
            "running": use.running, "exclusive": use.exclusive}


@dataclass(frozen=True)
class DeviceEntry:
    """One host device as `ztui hostdevs` lists it: the device, how the host itself uses it (`host_use`),
    whether a guest can be given it now (`free`: `usage.available`), its VFIO readiness judged against every
    guest's uses (`eligibility`), its guests (`users`) and what clashes among them (`conflict`). The device
    that stands for a volume (a DASD, a LUN's multipath map) has the volume's identity (`volume`) and where
    else it is (`also_on`). The JSON (`to_json`) and the host devices view are both made from it."""

    device: HostDevice
    summary: str
    users: tuple[DeviceUse, ...]
    host_use: tuple[HostUseReason, ...]
    free: bool
    conflict: str | None
    eligibility: Eligibility | None
    warnings: tuple[str, ...]
    volume: VolumeIdentity | None = None
    also_on: tuple[Sighting, ...] = ()

    @property
    def key(self) -> str:
        return self.device.key

    @property
    def kind(self) -> str:
        return self.device.kind.value

    @property
    def id(self) -> str:
        return self.device.id

    @property
    def ready(self) -> bool:
        """Free and ready for pass-through (the view's `u`)."""
        return self.free and self.eligibility is not None and self.eligibility.ready

    def to_json(self) -> dict[str, Any]:
        dev, elig = self.device, self.eligibility
        volume: dict[str, Any] = {}
        if self.volume is not None:
            volume = {"volume": volume_json(self.volume), "also_on": [sighting_json(s) for s in self.also_on]}
        return {
            "key": dev.key,
            "kind": dev.kind.value,
            "id": dev.id,
            "name": dev.name,
            "summary": self.summary,
            "driver": dev.driver,
            "parent": dev.parent,
            "sysfs_path": dev.sysfs_path,
            "devnodes": list(dev.devnodes),
            "iommu_group": dev.iommu_group,
            "source": dev.source,
            "facts": [{"key": f.key, "value": f.value, "source": f.source} for f in dev.facts],
            "mdev_types": [{"id": t.id, "name": t.name, "device_api": t.device_api, "available": t.available}
                           for t in dev.mdev_types],
            "users": [use_json(u) for u in self.users],
            "host_use": [{"kind": r.kind.value, "device": r.device, "detail": r.detail, "text": r.text}
                         for r in self.host_use],
            "free": self.free,
            "conflict": self.conflict,
            "eligibility": None if elig is None else {"ready": elig.ready, "driver": elig.driver,
                                                      "wanted_driver": elig.wanted_driver,
                                                      "missing": list(elig.missing)},
            "warnings": list(self.warnings),
            **volume,
        }


@dataclass(frozen=True)
class ObjectEntry:
    """A host object guests use that is no device of the inventory (an image file, a network, a WWPN): its
    key (`kind:id`) and its users."""

    key: str
    kind: str
    id: str
    users: tuple[DeviceUse, ...]
    conflict: str | None

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "id": self.id, "users": [use_json(u) for u in self.users],
                "conflict": self.conflict}


Entry = DeviceEntry | ObjectEntry
"""One line of the listing."""


@dataclass(frozen=True)
class DeviceGroup:
    """A group of the listing (`GROUPS`, then `OBJECTS`) with its entries in display order."""

    name: str
    entries: tuple[Entry, ...]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "devices": [e.to_json() for e in self.entries]}


def device_entry(dev: HostDevice, inv: Inventory, users: Sequence[DeviceUse], conflict: str | None,
                 all_users: Mapping[str, Sequence[DeviceUse]] | None = None,
                 join: VolumeJoin | None = None) -> DeviceEntry:
    """One device, judged against every guest's uses (`all_users`; None: not known, so nothing is advised that
    takes a device from the host); with other hosts read beside it (`join`), where else its volume is, and a
    running guest here and one on another host that both write it are its `conflict`."""
    identity = inv.identity(dev.key)
    shown = inv.host_volume(identity) if identity is not None else None
    volume: VolumeIdentity | None = None
    also_on: tuple[Sighting, ...] = ()
    if identity is not None and shown is not None and shown.key == dev.key:
        volume = identity
        also_on = tuple(join.elsewhere(inv.uri or "", identity)) if join is not None else ()
        conflict = conflict or _written_elsewhere(inv.uri or "", identity, users, join)
    return DeviceEntry(dev, summary(dev, inv), tuple(users), tuple(inv.host_use(dev).reasons),
                       available(dev, inv, users), conflict, eligibility(dev, inv, all_users),
                       (*dev.warnings, *fact_warnings(dev, inv)), volume, also_on)


def device_json(dev: HostDevice, inv: Inventory, users: Sequence[DeviceUse], conflict: str | None,
                all_users: Mapping[str, Sequence[DeviceUse]] | None = None,
                join: VolumeJoin | None = None) -> dict[str, Any]:
    """`device_entry` as JSON."""
    return device_entry(dev, inv, users, conflict, all_users, join).to_json()


def matching_entries(host: Host, inv: Inventory, query: str, limit: int = 8) -> list[DeviceEntry]:
    """The first `limit` of the host's devices that match a `/` query (`match_host_device`), with the guests
    of `host` that use each: the device of that id first, then those whose id has it, then those that match
    by a name or device node (a DASD's block device)."""
    q = query.strip().lower()
    found = sorted((d for d in inv.devices if match_host_device(d, query)),
                   key=lambda d: (d.id.lower() != q, q not in d.id.lower(), d.kind.value, d.id))
    if not found:
        return []
    users = users_of([host], inv)
    clashes = conflicts(users)
    return [device_entry(d, inv, users.get(d.key, ()), clashes.get(d.key), users) for d in found[:limit]]


def _written_elsewhere(uri: str, identity: VolumeIdentity, users: Sequence[DeviceUse],
                       join: VolumeJoin | None) -> str | None:
    """Running guests of this host and of another that both write the volume (the conflict no host sees)."""
    if join is None:
        return None
    here = sorted({(u.guest, u.target, u.guest_uuid) for u in users if u.running and u.exclusive})
    there = sorted({(s.host, s.device, u.guest, u.target) for g in here
                    for s, u in join.writers_elsewhere(uri, identity, g[2])})
    if not here or not there:
        return None
    return (f"written by {', '.join(f'{g} ({t})' for g, t, _ in here)} here and by "
            + ", ".join(f"{g} ({t}) on {h} (as {d})" for h, d, g, t in there)
            + ": two running guests on two hosts write the same volume")


def inventory_groups(inv: Inventory, users: Mapping[str, Sequence[DeviceUse]],
                     conflicts: Mapping[str, str], join: VolumeJoin | None = None) -> list[DeviceGroup]:
    """The groups in display order, each with its devices; then the host objects guests use. `join`: the
    volumes of the other hosts read beside this one (`ztui.host.volumes`)."""
    grouped: dict[str, list[Entry]] = {g: [] for g in GROUPS}
    keys = set()
    # sorted, so the listing does not depend on the order libvirt or udev enumerate devices in
    for dev in sorted(inv.devices, key=lambda d: (d.kind.value, d.id, d.name)):
        keys.add(dev.key)
        grouped[group_of(dev)].append(device_entry(dev, inv, users.get(dev.key, ()), conflicts.get(dev.key), users,
                                                   join))
    out = [DeviceGroup(g, tuple(entries)) for g, entries in grouped.items() if entries]
    objects: list[Entry] = []
    for key in sorted(k for k in users if k not in keys):
        kind, _, ident = key.partition(":")
        objects.append(ObjectEntry(key, kind, ident, tuple(users[key]), conflicts.get(key)))
    if objects:
        out.append(DeviceGroup(OBJECTS, tuple(objects)))
    return out


def device_uses(host: Host, inv: Inventory) -> dict[str, tuple[DeviceUse, ...]]:
    """Which guests of `host` use which device of its inventory, by device key (`usage.users_of`)."""
    return users_of([host], inv)


@dataclass(frozen=True)
class HostListing:
    """A host's inventory as `ztui hostdevs` lists it (`groups`), and which of its guests use what (`uses`)."""

    groups: list[DeviceGroup]
    uses: dict[str, tuple[DeviceUse, ...]]


def host_listing(host: Host, inv: Inventory, join: VolumeJoin | None = None) -> HostListing:
    """The listing of a host's inventory with the users and conflicts of `host`'s guests (`join`: the volumes
    of the other hosts read beside it)."""
    users = users_of([host], inv)
    return HostListing(inventory_groups(inv, users, conflicts(users), join), users)


def inventory_json(inv: Inventory, users: Mapping[str, Sequence[DeviceUse]],
                   conflicts: Mapping[str, str], join: VolumeJoin | None = None) -> list[dict[str, Any]]:
    """`inventory_groups` as JSON: the `groups` of `ztui hostdevs --json`."""
    return [group.to_json() for group in inventory_groups(inv, users, conflicts, join)]


def render_text(title: str, groups: list[dict[str, Any]], width: int = WIDTH) -> str:
    """The grouped inventory as plain text, one device per line and its users below it; a line longer than
    `width` goes on below itself, indented, broken between words (a word longer than a line stays whole)."""
    lines = [title]

    def add(head: str, text: str, indent: int) -> None:
        lines.extend(textwrap.wrap(text, max(width, indent + 20), initial_indent=head, subsequent_indent=" " * indent,
                                   break_long_words=False, break_on_hyphens=False) or [head.rstrip()])

    for group in groups:
        lines.append(f"  {group['name']}")
        for d in group["devices"]:
            head = f"    {d['kind']:<10} {d['id']:<22} "
            add(head, d.get("summary", ""), min(len(head), 38))
            for r in d.get("host_use", ()):
                add("        ", f"used by the host: {r['text']}", 10)
            for u in d["users"]:
                state = "running" if u["running"] else "not running"
                add("        ", f"used by {u['guest']} ({u['target']}, {state})", 10)
            if d.get("volume"):
                add("        ", f"volume: {d['volume']['kind']} {d['volume']['id']}", 10)
            for s in d.get("also_on", ()):
                add("        ", f"also on {sighting_text(s)}", 10)
            if d.get("conflict"):
                add("        ", f"CONFLICT: {d['conflict']}", 10)
            for w in d.get("warnings", ()):
                add("        ", f"warning: {w}", 10)
            elig = d.get("eligibility")
            if elig is not None and not elig["ready"]:
                for m in elig["missing"]:
                    add("        ", f"not ready for VFIO: {m}", 10)
    return "\n".join(lines) + "\n"


def sighting_text(raw: Mapping[str, Any]) -> str:
    """An `also_on` entry of the JSON as one line: `zlab-y as 0.0.6c05 (used by zlnx07)`."""
    return Sighting(str(raw["host"]), str(raw["uri"]), str(raw["device"]),
                    tuple(VolumeUser(str(u["guest"]), str(u["target"]), bool(u["running"]), bool(u["writes"]))
                          for u in raw.get("users", ()))).text
