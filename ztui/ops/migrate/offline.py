"""Offline migration: a shut-off persistent guest's definition goes to another host; nothing is started.

Like `virsh migrate --offline --persistent` (plus `--undefinesource` when asked). No device is detached
(the definition carries them all) and no disk is copied. The call's return is not the proof: afterwards the
destination is asked whether it now defines the guest (same UUID, persistent, not running) and the source
whether it still does, and the report says exactly that.

Blocking: call it from a worker thread or a command.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import libvirt

from ztui.libvirt.connection import libvirt_reason
from ztui.model import GuestState
from ztui.ops.migrate.plan import MigrationOptions, Rewrite, migrate_flags, migrate_params, renamed_xml
from ztui.ops.migrate.report import MigrationReport, StepResult


def definition_on(conn: libvirt.virConnect | None, uuid: str) -> tuple[bool, GuestState | None]:
    """(whether the host defines the guest persistently, its state there; None when not there at all)."""
    if conn is None:
        return False, None
    try:
        dom = conn.lookupByUUIDString(uuid)
        return bool(dom.isPersistent()), GuestState.from_libvirt(dom.state()[0])
    except libvirt.libvirtError:
        return False, None


def run_offline(src: libvirt.virConnect, src_uri: str, dom: libvirt.virDomain, dest: libvirt.virConnect | None,
                dest_uri: str, options: MigrationOptions, rewrites: Sequence[Rewrite] = ()) -> MigrationReport:
    """Move (or copy) the definition — its disks under the destination's names (`rewrites`) —, then report
    what each host defines."""
    started = time.monotonic()
    guest, uuid = dom.name(), dom.UUIDString()
    error = ""
    try:
        persist = renamed_xml(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE), rewrites)
        dom.migrateToURI3(dest_uri, migrate_params(dest_uri, options, persist), migrate_flags(options))
    except libvirt.libvirtError as exc:
        error = libvirt_reason(exc)
    seconds = time.monotonic() - started
    on_dest, dest_state = definition_on(dest, uuid)
    on_src, src_state = definition_on(src, uuid)
    moved = not error and on_dest and dest_state is GuestState.SHUTOFF
    kept = "the source keeps its definition" if on_src else "the source no longer defines it"
    if moved and options.undefine_source and on_src:
        message = f"{guest} is defined on {dest_uri} (shut off), but the source still defines it too"
    elif moved:
        message = f"{guest} is defined on {dest_uri}, shut off; {kept}"
    elif on_dest:
        message = f"offline migration reported: {error or 'done'}; {guest} is {dest_state} on {dest_uri}"
    else:
        message = f"offline migration failed: {error or 'the destination does not define it'}; {kept}"
    step = StepResult("migrate", src_uri, moved, error or message, seconds=seconds)
    where = dest_uri if on_dest else (src_uri if on_src else "")
    state = (dest_state if on_dest else src_state if on_src else None)
    return MigrationReport(guest, where, moved, message, seconds, (), src_uri, dest_uri,
                           state.value if state is not None else "", False, seconds, None, (step,), offline=True)
