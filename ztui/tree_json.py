"""The model as the JSON document of `ztui tree --json`.

The schema is a contract with scripts (documented in the README): keys are only ever added, never renamed
or removed. Every element under `<devices>` except `<emulator>` is exactly one device entry.
"""

from __future__ import annotations

from typing import Any

from ztui.model import AddressType, Guest, GuestDevice, Host


def device_json(device: GuestDevice) -> dict[str, Any]:
    address = device.address
    return {
        "kind": device.kind.value,
        "bus": device.bus,
        "model": device.model,
        "target": device.target,
        "alias": device.alias,
        "address_type": address.type.value if address is not None else AddressType.NONE.value,
        "address": address.text if address is not None else "",
        "source": device.source,
        "passthrough": device.passthrough,
        "migration_blocker": device.migration_blocker,
        "blocker_reason": device.blocker_reason or None,
        "backing": [
            {"kind": s.kind, "id": s.id, "name": s.name, "level": s.level,
             **({"warning": s.warning} if s.warning else {})}
            for s in device.backing
        ],
        "details": dict(device.details),
        "warnings": list(device.warnings),
        "xml": device.xml,
    }


def guest_json(guest: Guest) -> dict[str, Any]:
    return {
        "name": guest.name,
        "uuid": guest.uuid,
        "state": guest.state.value if guest.state is not None else None,
        "arch": guest.arch,
        "machine": guest.machine,
        "vcpus": guest.vcpus,
        "memory_kib": guest.memory_kib,
        "persistent": guest.persistent,
        "warnings": list(guest.warnings),
        "devices": [device_json(d) for d in guest.devices],
    }


def host_json(host: Host) -> dict[str, Any]:
    return {
        "uri": host.uri,
        "hostname": host.hostname,
        "connected": host.connected,
        "error": host.error or None,
        "guests": [guest_json(g) for g in host.guests],
    }


def tree_json(hosts: list[Host]) -> dict[str, Any]:
    return {"hosts": [host_json(h) for h in hosts]}
