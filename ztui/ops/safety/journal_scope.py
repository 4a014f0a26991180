"""Which unfinished operations a session is shown, and the ones that settled themselves.

The journal (`ops/journal.py`) is one directory per user, but an operation belongs to the hosts it acted
on: a detach left unfinished on one lab host is nothing to decide in a session on another host, and
offering to finish or roll it back there would act on the wrong machine. So a session (the TUI's hosts,
`ztui journal`'s `-c` or the lab's hosts) sees the entries of its own hosts; `ztui journal --all` lists
every one.

An entry whose host or guest no longer exists has nothing left to finish or roll back. It is settled by
reading the host — never by assuming: a host counts as gone only when its daemon's socket directory is
gone (a private daemon such as a lab host that was removed); a host that does not answer is unreachable
and its entries stay. A guest counts as gone when its host answers that it has no such guest (for a
migration: neither host has it). The settled entry is removed, the audit log says why, and so does the
session.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from urllib.parse import parse_qs, urlsplit

import libvirt

from ztui.bounded import answers_within
from ztui.errors import ZtuiError
from ztui.libvirt.connection import ConnectError, answer_timeout, open_connection
from ztui.ops.safety.audit import record
from ztui.ops.safety.guestlock import guest_lock, holder
from ztui.ops.safety.journal import PREPARATIONS, Entry, JournalAction, Operation, unfinished
from ztui.ops.safety.known_hosts import HostOrigin, known_hosts


@dataclass(frozen=True)
class Scoped:
    """The unfinished entries of a session, those it settled (each with why), and how many belong to other
    hosts."""

    entries: tuple[Entry, ...]
    settled: tuple[str, ...]
    elsewhere: int


def entry_hosts(entry: Entry) -> tuple[str, ...]:
    """The hosts an entry acted on: its host, and a migration's destination."""
    dest = entry.plan.get("destination") if entry.action is JournalAction.MIGRATE else None
    return (entry.uri, str(dest)) if dest else (entry.uri,)


def session_entries(session: Sequence[str] | None, *, settle: bool = True) -> Scoped:
    """The unfinished entries of the hosts `session` names (None: every entry). Entries whose process is
    gone and whose host or guest no longer exists are settled first (with `settle`): every host is asked
    about all its entries at once, and all hosts together for at most the answer time (`answer_timeout`)."""
    hosts = [h for h in known_hosts(session or ()) if h.origin is HostOrigin.SESSION]
    mine, settled, elsewhere = [], [], 0
    ours = []
    for entry in unfinished():
        if session is not None and not any(h.reaches(u) for h in hosts for u in entry_hosts(entry)):
            elsewhere += 1
        else:
            ours.append(entry)
    answers = _read_hosts([e for e in ours if _may_settle(e)]) if settle else {}
    for entry in ours:
        why = settle_gone(entry, answers) if settle else ""
        if why:
            settled.append(f"{entry.id} ({entry.action.value} {entry.guest}) settled: {why}")
        else:
            mine.append(entry)
    return Scoped(tuple(mine), tuple(settled), elsewhere)


def _may_settle(entry: Entry) -> bool:
    """Whether nobody is on the entry (a preparation is settled by its own recovery)."""
    return entry.action not in PREPARATIONS and not entry.process_alive and holder(entry.uri, entry.uuid) is None


def settle_gone(entry: Entry, answers: Mapping[tuple[str, str], str | None] | None = None) -> str:
    """Close `entry` when its host or guest no longer exists (see the module), under the guest's lock;
    '' when it stays (in progress, the guest there, a host that does not answer). `answers` are the hosts'
    answers read already (`_read_hosts`); without them the entry's hosts are asked now."""
    if not _may_settle(entry):
        return ""
    if answers is None:
        answers = _read_hosts([entry])
    why = _gone(entry, answers)
    if not why:
        return ""
    try:
        with guest_lock(entry.uri, entry.uuid, guest=entry.guest, action="journal settle"):
            op = Operation(entry)
            op.close()
            if op.write_error:
                return ""
            with contextlib.suppress(ZtuiError, OSError):
                record("journal-settled", entry.uri, entry.guest, "settled", journal=entry.id,
                       of=entry.action.value, why=why, xml=entry.device_xml)
    except ZtuiError:  # another process took the guest meanwhile: it decides
        return ""
    return why


def _gone(entry: Entry, answers: Mapping[tuple[str, str], str | None]) -> str:
    """Why the entry's guest is on none of its hosts; '' when it is on one, or a host did not answer."""
    found = [answers.get((uri, entry.uuid)) for uri in entry_hosts(entry)]
    if any(a is None or a == "" for a in found):
        return ""
    return "; ".join(a for a in found if a)


def _read_hosts(entries: Sequence[Entry]) -> dict[tuple[str, str], str | None]:
    """By (host, guest UUID): why the guest is not there ('' when it is; None when the host did not answer),
    for every host of these entries — one connection a host, all hosts at once, until one deadline."""
    wanted: dict[str, set[str]] = {}
    for entry in entries:
        for uri in entry_hosts(entry):
            wanted.setdefault(uri, set()).add(entry.uuid)
    by_host = answers_within({uri: partial(_ask, uri, uuids) for uri, uuids in wanted.items()},
                             answer_timeout())
    return {(uri, uuid): by_host[uri].get(uuid) if uri in by_host else None
            for uri, uuids in wanted.items() for uuid in uuids}


def _ask(uri: str, uuids: set[str]) -> dict[str, str | None]:
    """For each guest UUID: why it is not on this host ('' when it is; None when the host did not answer)."""
    gone = _host_gone(uri)
    if gone:
        return dict.fromkeys(uuids, gone)
    try:
        conn = open_connection(uri, readonly=True)
    except ConnectError:
        return dict.fromkeys(uuids)
    out: dict[str, str | None] = {}
    try:
        for uuid in uuids:
            try:
                conn.lookupByUUIDString(uuid)
                out[uuid] = ""
            except libvirt.libvirtError as exc:
                out[uuid] = (f"{uri} has no guest {uuid} any more (read now)"
                             if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN else None)
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            conn.close()
    return out


def _host_gone(uri: str) -> str:
    """A private daemon's URI (`?socket=PATH`) whose socket directory no longer exists: its host was removed
    (a stopped lab); '' for every other URI (a host that does not answer is not gone)."""
    socket = parse_qs(urlsplit(uri).query).get("socket")
    if not socket:
        return ""
    directory = os.path.dirname(socket[0])
    return "" if os.path.isdir(directory) else f"its host is gone ({directory} no longer exists)"
