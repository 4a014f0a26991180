"""Removing the definition a live migration left on its source.

A live migration without `--undefine-source` leaves the guest defined, shut off, on the source (the report
says so). Started there — by a `virsh start`, an autostart, a tired administrator — it runs a second copy
of a guest that runs on the destination. This is the undo the report offers: the source's definition
goes, and when the destination's copy is transient it is first defined there as it runs there (what
`--persistent --undefine-source` would have done, with its disks under the destination's names), so the
guest stays defined somewhere. Each step is proven by reading
the host again; the guest is locked on both hosts as for a migration, and the outcome is audited.

Blocking: call it from a worker thread or a command.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import libvirt

from ztui.errors import ZtuiError
from ztui.libvirt.connection import libvirt_reason
from ztui.ops.safety.audit import record
from ztui.ops.safety.guestlock import guest_lock


@dataclass(frozen=True)
class LeftoverResult:
    ok: bool
    message: str


def remove_leftover(src: libvirt.virConnect, src_uri: str, dest: libvirt.virConnect, dest_uri: str, uuid: str,
                    guest: str, *, via: str = "tui") -> LeftoverResult:
    """Undefine the guest on the source once the destination runs it (defining it there first when it is
    transient). Nothing is changed unless the destination runs it and the source holds it shut off."""
    with guest_lock(src_uri, uuid, guest=guest, action="undefine leftover"), \
            guest_lock(dest_uri, uuid, guest=guest, action="undefine leftover"):
        result = _remove(src, src_uri, dest, dest_uri, uuid, guest)
    with contextlib.suppress(ZtuiError, OSError):  # the outcome stands; a full state directory only loses its record
        record("migrate-undefine-source", src_uri, guest, "done" if result.ok else "refused", to=dest_uri,
               message=result.message, via=via)
    return result


def _remove(src: libvirt.virConnect, src_uri: str, dest: libvirt.virConnect, dest_uri: str, uuid: str,
            guest: str) -> LeftoverResult:
    try:
        there = dest.lookupByUUIDString(uuid)
        if not there.isActive():
            return LeftoverResult(False, f"{guest} does not run on {dest_uri}: its definition on {src_uri} stays")
        here = src.lookupByUUIDString(uuid)
        if here.isActive() or not here.isPersistent():
            return LeftoverResult(False, f"{guest} on {src_uri} is not a shut-off definition; nothing was changed")
        if not there.isPersistent():  # defined as it runs there: its disks under that host's names
            dest.defineXML(there.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE))
            if not dest.lookupByUUIDString(uuid).isPersistent():
                return LeftoverResult(False, f"{dest_uri} did not keep {guest}'s definition; the source's stays")
        here.undefine()
    except libvirt.libvirtError as exc:
        return LeftoverResult(False, f"{guest}: {libvirt_reason(exc)}")
    try:
        src.lookupByUUIDString(uuid)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return LeftoverResult(True, f"{guest} is no longer defined on {src_uri}; {dest_uri} runs it and keeps "
                                        "its definition")
        return LeftoverResult(False, f"{guest}: whether {src_uri} still defines it is unknown: "
                                     f"{libvirt_reason(exc)}")
    return LeftoverResult(False, f"{src_uri} still defines {guest}")
