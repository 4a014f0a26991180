"""The host-device inventory grouped the way an IBM Z administrator thinks of it, as JSON and as text.

Pure: takes an inventory, its users and conflicts; `ztui hostdevs` and the TUI share it. Besides devices,
the host *objects* guests use (image files, CHPIDs, WWPNs, LUNs, networks) are listed with their users,
because "which guests use the FCP LUN 0x4001400000000000?" is asked as often as about a device.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from ztui.facts import (
    CcwRole,
    ChpState,
    F,
    ap_queue_state,
    carried_busid,
    ccw_role,
    is_dasd_alias,
    mdev_control_domains,
    subchannel_paths,
)
from ztui.host.inventory import Inventory
from ztui.host.usage import conflicts, eligibility, users_of
from ztui.model import DeviceUse, Host, HostDevice, HostDeviceKind
from ztui.report.filtering import match_host_device
from ztui.report.tree_text import WIDTH

GROUPS = ("DASD", "SCSI/FCP", "block devices", "network", "PCI/zPCI", "subchannels and mdevs", "AP", "other")
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
    if kind in (HostDeviceKind.AP_CARD, HostDeviceKind.AP_QUEUE, HostDeviceKind.AP_MATRIX):
        return "AP"
    return "other"


def summary(dev: HostDevice) -> str:
    """One line of what matters most for each kind of device."""
    f = dev.fact
    parts: list[str] = []
    kind = dev.kind
    if kind is HostDeviceKind.CCW:
        parts += [f(F.DEVTYPE), f"CU {f(F.CUTYPE)}" if f(F.CUTYPE) else "",
                  {"1": "online", "0": "offline"}.get(f(F.ONLINE), "")]
        if ccw_role(dev) is CcwRole.DASD:
            uid = f(F.UID)
            parts += [f"status {f(F.STATUS)}" if f(F.STATUS) and f(F.STATUS) != "online" else "",
                      ("HyperPAV alias" if uid.endswith(".xx") else f"PAV alias of {uid}") if is_dasd_alias(dev)
                      else f"uid {uid}" if uid else "",
                      "read-only" if f(F.READONLY) == "1" else "", "raw-track" if f(F.RAW_TRACK_ACCESS) == "1" else "",
                      "ESE" if f(F.ESE) == "1" else ""]
    elif kind is HostDeviceKind.CCWGROUP:
        parts += [f(F.CARD_KIND) or f(F.CARD_TYPE), f(F.IF_NAME), f"CHPID {f(F.CHPID)}" if f(F.CHPID) else "",
                  f(F.STATE), {"1": "layer 2", "0": "layer 3"}.get(f(F.LAYER2), ""),
                  f"bridge role {f(F.BRIDGE_ROLE)}" if f(F.BRIDGE_ROLE) not in ("", "none") else ""]
    elif kind is HostDeviceKind.CSS:
        carried = carried_busid(dev)
        paths = subchannel_paths(dev)
        parts += [f"carries {carried}" if carried else "",
                  f"CHPIDs {' '.join(_chp_word(c) for c in paths)}" if paths else "",
                  f"override {f(F.DRIVER_OVERRIDE)}" if f(F.DRIVER_OVERRIDE) else ""]
    elif kind is HostDeviceKind.MDEV:
        control = sorted(mdev_control_domains(dev))
        parts += [f(F.MDEV_TYPE), f"on {dev.parent}" if dev.parent else "", f(F.AP_QUEUES),
                  f"control domains {','.join(f'0x{d:04x}' for d in control)}" if control else ""]
    elif kind is HostDeviceKind.AP_QUEUE:
        parts += [ap_queue_state(dev)]
    elif kind is HostDeviceKind.SYSTEM and f(F.PROT_VIRT):
        parts += [f"Secure Execution host (prot_virt) {'on' if f(F.PROT_VIRT) == '1' else 'off'}"]
    elif kind is HostDeviceKind.SCSI_HOST and (f(F.PORT_TYPE) or f(F.PORT_NAME)):
        parts += [f(F.PORT_TYPE), f"port {f(F.PORT_NAME)}" if f(F.PORT_NAME) else "", f(F.PORT_STATE)]
    elif kind is HostDeviceKind.PCI:
        parts += [f"uid {f(F.UID)}" if f(F.UID) else "", f"fid {f(F.FUNCTION_ID) or f(F.FID)}"
                  if f(F.FUNCTION_ID) or f(F.FID) else "", f(F.VENDOR_ID) or f(F.VENDOR),
                  f(F.PRODUCT_ID) or f(F.DEVICE)]
    elif kind is HostDeviceKind.SCSI:
        parts += [f(F.VENDOR), f(F.MODEL), f"{f(F.HBA_ID)} {f(F.WWPN)} {f(F.FCP_LUN)}".strip(),
                  f(F.STATE) if f(F.STATE) not in ("", "running") else "",
                  "access denied" if f(F.ZFCP_ACCESS_DENIED) == "1" else "",
                  "failed" if f(F.ZFCP_FAILED) == "1" else ""]
    elif kind in (HostDeviceKind.BLOCK, HostDeviceKind.STORAGE):
        parts += [dev.name, f(F.DM_NAME), f(F.DEVTYPE)]
    elif kind is HostDeviceKind.NET:
        parts += [f(F.ADDRESS), "bridge" if f(F.BRIDGE) == "yes" else "", f(F.OPERSTATE) or f(F.LINK_STATE)]
    elif kind is HostDeviceKind.AP_CARD:
        parts += [f(F.AP_TYPE), f(F.AP_MODE), ap_queue_state(dev)]
    if dev.driver:
        parts.append(f"driver {dev.driver}")
    return " ".join(p for p in parts if p)


def _chp_word(chp: ChpState) -> str:
    """`05`, or `05(offline)` for a path that carries no I/O, as compact as lscss's CHPID column."""
    why = ("not operational" if not chp.operational else "offline" if chp.online is False
           else chp.configure if chp.configure and chp.configure != "configured" else "")
    return f"{chp.chpid}({why})" if why else chp.chpid


def use_json(use: DeviceUse) -> dict[str, Any]:
    return {"guest": use.guest, "uuid": use.guest_uuid, "target": use.target, "kind": use.device_kind.value,
            "running": use.running, "exclusive": use.exclusive}


def device_json(dev: HostDevice, inv: Inventory, users: Sequence[DeviceUse], conflict: str | None) -> dict[str, Any]:
    elig = eligibility(dev, inv)
    return {
        "key": dev.key,
        "kind": dev.kind.value,
        "id": dev.id,
        "name": dev.name,
        "summary": summary(dev),
        "driver": dev.driver,
        "parent": dev.parent,
        "sysfs_path": dev.sysfs_path,
        "devnodes": list(dev.devnodes),
        "iommu_group": dev.iommu_group,
        "source": dev.source,
        "facts": [{"key": f.key, "value": f.value, "source": f.source} for f in dev.facts],
        "mdev_types": [{"id": t.id, "name": t.name, "device_api": t.device_api, "available": t.available}
                       for t in dev.mdev_types],
        "users": [use_json(u) for u in users],
        "conflict": conflict,
        "eligibility": None if elig is None else {"ready": elig.ready, "driver": elig.driver,
                                                  "wanted_driver": elig.wanted_driver, "missing": list(elig.missing)},
        "warnings": list(dev.warnings),
    }


def matching_json(host: Host, inv: Inventory, query: str, limit: int = 8) -> list[dict[str, Any]]:
    """The first `limit` of the host's devices that match a `/` query (`match_host_device`), as
    `inventory_json` describes them, with the guests of `host` that use each: the device of that id first,
    then those whose id has it, then those that match by a name or device node (a DASD's block device)."""
    q = query.strip().lower()
    found = sorted((d for d in inv.devices if match_host_device(d, query)),
                   key=lambda d: (d.id.lower() != q, q not in d.id.lower(), d.kind.value, d.id))
    if not found:
        return []
    users = users_of([host], inv)
    clashes = conflicts(users)
    return [device_json(d, inv, users.get(d.key, ()), clashes.get(d.key)) for d in found[:limit]]


def inventory_json(inv: Inventory, users: Mapping[str, Sequence[DeviceUse]],
                   conflicts: Mapping[str, str]) -> list[dict[str, Any]]:
    """The groups in display order, each with its devices; then the host objects guests use."""
    grouped: dict[str, list[dict[str, Any]]] = {g: [] for g in GROUPS}
    keys = set()
    # sorted, so the listing does not depend on the order libvirt or udev enumerate devices in
    for dev in sorted(inv.devices, key=lambda d: (d.kind.value, d.id, d.name)):
        keys.add(dev.key)
        grouped[group_of(dev)].append(device_json(dev, inv, users.get(dev.key, ()), conflicts.get(dev.key)))
    out = [{"name": g, "devices": devs} for g, devs in grouped.items() if devs]
    objects = []
    for key in sorted(k for k in users if k not in keys):
        kind, _, ident = key.partition(":")
        objects.append({"key": key, "kind": kind, "id": ident, "users": [use_json(u) for u in users[key]],
                        "conflict": conflicts.get(key)})
    if objects:
        out.append({"name": OBJECTS, "devices": objects})
    return out


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
            for u in d["users"]:
                state = "running" if u["running"] else "not running"
                add("        ", f"used by {u['guest']} ({u['target']}, {state})", 10)
            if d.get("conflict"):
                add("        ", f"CONFLICT: {d['conflict']}", 10)
            elig = d.get("eligibility")
            if elig is not None and not elig["ready"]:
                for m in elig["missing"]:
                    add("        ", f"not ready for VFIO: {m}", 10)
    return "\n".join(lines) + "\n"
