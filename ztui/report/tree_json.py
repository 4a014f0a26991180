"""The model as the JSON document of `ztui tree --json`.

The schema is a contract with scripts (documented in the README): keys are only ever added, never renamed
or removed. Every element under `<devices>` except `<emulator>` is exactly one device entry.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ztui.model import AddressType, BackingStep, Guest, GuestDevice, Host, Sighting, VolumeIdentity


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
             **({"warning": s.warning} if s.warning else {}), **({"host_use": s.host_use} if s.host_use else {}),
             **({"volume": volume_json(s.volume)} if s.volume is not None else {}),
             **({"also_on": [sighting_json(x) for x in s.also_on]} if s.also_on else {})}
            for s in device.backing
        ],
        "details": dict(device.details),
        "warnings": list(device.warnings),
        "xml": device.xml,
    }


def volume_json(identity: VolumeIdentity) -> dict[str, str]:
    """A volume's identity: `{"kind": "dasd-uid", "id": "IBM.750000000DXP71.5c00.05"}`."""
    return {"kind": identity.kind.value, "id": identity.value}


def sighting_json(sighting: Sighting) -> dict[str, Any]:
    """The volume on another host: the host, what it calls the volume, and the guests using it there."""
    return {"host": sighting.host, "uri": sighting.uri, "device": sighting.device,
            "users": [{"guest": u.guest, "target": u.target, "running": u.running, "writes": u.writes}
                      for u in sighting.users]}


def guest_json(guest: Guest) -> dict[str, Any]:
    return {**_guest_head(guest), "devices": [device_json(d) for d in guest.devices]}


def _guest_head(guest: Guest) -> dict[str, Any]:
    """Every key of a guest but its devices (the last key)."""
    return {
        "name": guest.name,
        "uuid": guest.uuid,
        "state": guest.state.value if guest.state is not None else None,
        "arch": guest.arch,
        "machine": guest.machine,
        "vcpus": guest.vcpus,
        "memory_kib": guest.memory_kib,
        "persistent": guest.persistent,
        "secure_execution": guest.secure_execution_form.value if guest.secure_execution_form is not None else None,
        "warnings": list(guest.warnings),
    }


def host_json(host: Host) -> dict[str, Any]:
    return {**_host_head(host), "guests": [guest_json(g) for g in host.guests]}


def _host_head(host: Host) -> dict[str, Any]:
    """Every key of a host but its guests (the last key)."""
    return {
        "uri": host.uri,
        "hostname": host.hostname,
        "connected": host.connected,
        "error": host.error or None,
        "host_facts": host.facts or None,
    }


def tree_json(hosts: list[Host]) -> dict[str, Any]:
    return {"hosts": [host_json(h) for h in hosts]}


def hosts_json_compact(hosts: list[str]) -> str:
    """The document around hosts already encoded (`host_json_compact`): what
    `json.dumps(tree_json(hosts), separators=(",", ":"))` gives, made faster for a big host, as guests built
    from one template share many device records (see `ztui.libvirtxml.domain.parse_devices`), and each record is
    encoded once however many guests hold it."""
    return '{"hosts":[' + ",".join(hosts) + "]}"


def host_json_compact(host: Host, guests: str | None = None) -> str:
    """One host, compact; `guests` when its guests are encoded already (`guests_json_compact`, joined
    with commas)."""
    if guests is None:
        guests = guests_json_compact(host.guests)
    return _compact(_host_head(host))[:-1] + ',"guests":[' + guests + "]}"


def guests_json_compact(guests: Iterable[Guest]) -> str:
    """Guests, compact, joined with commas."""
    encoded: dict[int, tuple[GuestDevice, str]] = {}  # the record is kept too, so its id stays its own

    def device_text(device: GuestDevice) -> str:
        known = encoded.get(id(device))
        if known is None:
            known = encoded[id(device)] = (device, _device_compact(device))
        return known[1]

    def guest_text(guest: Guest) -> str:
        devices = ",".join(device_text(d) for d in guest.devices)
        return _compact(_guest_head(guest))[:-1] + ',"devices":[' + devices + "]}"

    return ",".join(guest_text(g) for g in guests)


_compact = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def _device_compact(device: GuestDevice) -> str:
    """`_compact(device_json(device))` written out field by field (a third faster than building the dict
    and encoding it, which counts at tens of thousands of devices); a test holds the two equal."""
    address = device.address
    details = dict(device.details)  # a repeated key keeps its last value, as in `device_json`
    return "".join((
        '{"kind":', _text(device.kind.value), ',"bus":', _text(device.bus), ',"model":', _text(device.model),
        ',"target":', _text(device.target), ',"alias":', _text(device.alias),
        ',"address_type":', _text(address.type.value if address is not None else AddressType.NONE.value),
        ',"address":', _text(address.text if address is not None else ""), ',"source":', _text(device.source),
        ',"passthrough":', "true" if device.passthrough else "false",
        ',"migration_blocker":', "true" if device.migration_blocker else "false",
        ',"blocker_reason":', _text(device.blocker_reason) if device.blocker_reason else "null",
        ',"backing":[', ",".join(_step_compact(s) for s in device.backing),
        '],"details":{', ",".join(_text(k) + ":" + _text(v) for k, v in details.items()),
        '},"warnings":[', ",".join(_text(w) for w in device.warnings),
        '],"xml":', _text(device.xml), "}"))


def _step_compact(step: BackingStep) -> str:
    warning = ',"warning":' + _text(step.warning) if step.warning else ""
    host_use = ',"host_use":' + _text(step.host_use) if step.host_use else ""
    volume = ',"volume":' + _compact(volume_json(step.volume)) if step.volume is not None else ""
    also_on = ',"also_on":' + _compact([sighting_json(x) for x in step.also_on]) if step.also_on else ""
    return ('{"kind":' + _text(step.kind) + ',"id":' + _text(step.id) + ',"name":' + _text(step.name)
            + ',"level":' + str(int(step.level)) + warning + host_use + volume + also_on + "}")


_text = json.encoder.encode_basestring_ascii  # what the encoder above does with a str
