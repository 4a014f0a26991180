"""`ztui journal`: the operations that did not finish (a crash, a lost host, a signal), and resolving them.

    ztui journal [--all] [--json]  list those of the command's hosts (-c, --lab), or every one with --all
                                   (exit 0; nothing listed: nothing is unfinished there)
    ztui journal finish ID         complete what it was doing, proven like any attach/detach
    ztui journal rollback ID       undo it, proven likewise

Exit statuses as for `ztui attach`: 0 proven, 1 refused (host unreachable, guest busy), 2 bad input (no such
entry), 3 still unknown (the entry stays).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from ztui.cli.common import error
from ztui.errors import BadInput, End, Status
from ztui.libvirt.eventloop import ensure_event_loop
from ztui.ops.attach.guarded import ended
from ztui.ops.attach.recover import Resolution, resolve
from ztui.ops.prepare.recover import resolve_prepare
from ztui.ops.safety.guestlock import holder
from ztui.ops.safety.journal import PREPARATIONS, Entry, load
from ztui.ops.safety.journal_scope import session_entries, settle_gone

if TYPE_CHECKING:
    from ztui.ops.safety.journal import Entry
    from ztui.ops.safety.journal_scope import Scoped


def entries_json(session: list[str] | None) -> tuple[list[dict[str, Any]], Scoped]:
    """The unfinished entries of the hosts `session` names (None: all), each with whether its process still
    holds the guest (in progress); those whose host or guest is gone are settled first (`Scoped.settled`)."""
    scope = session_entries(session)
    docs = []
    for entry in scope.entries:
        held = holder(entry.uri, entry.uuid)
        docs.append({**entry.to_json(), "in_progress": held is not None and held.pid == entry.pid})
    return docs, scope


def run_journal_list(args: argparse.Namespace) -> End:
    docs, scope = entries_json(None if args.all else list(args.connect))
    for line in scope.settled:  # said on stderr: --json keeps stdout a list of the entries left
        error(line)
    others = (f"{scope.elsewhere} more on other hosts: ztui journal --all" if scope.elsewhere else "")
    if args.json:
        json.dump(docs, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return Status.DONE
    if not docs:
        print("no unfinished operations" + (f" on these hosts ({others})" if others else ""))
        return Status.DONE
    for doc in docs:
        line = Entry.from_json(doc).summary()
        print(line + ("  [in progress]" if doc["in_progress"] else ""))
    print("resolve each with `ztui journal finish ID` or `ztui journal rollback ID`" + (f"; {others}" if others
                                                                                        else ""))
    return Status.DONE


def run_journal_resolve(args: argparse.Namespace) -> End:
    if args.readonly:
        raise BadInput(f"--readonly: ztui does not {args.how} operations; nothing was changed")
    ensure_event_loop()

    found = load(args.id)
    if found.action in PREPARATIONS:
        return _resolve_preparation(args, found)

    settled = settle_gone(found)
    if settled:  # nothing left to finish or roll back: the host says so
        print(f"{args.how} {found.id} ({found.action.value} on {found.guest}): settled: {settled}")
        return Status.DONE
    entry, change, op = resolve(args.id, Resolution(args.how))
    result = {"id": entry.id, "action": entry.action.value, "guest": entry.guest, "uri": entry.uri,
              "resolution": args.how, "outcome": change.outcome.value, "ok": change.ok, "message": change.message,
              "closed": op.closed, "xml": entry.device_xml}
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(f"{args.how} {entry.id} ({entry.action.value} on {entry.guest}): {change.outcome.value}: "
              f"{change.message}")
    if not change.ok:
        error(change.message)
    if not op.closed:
        error(f"{entry.id} stays in the journal")
    return ended(change)


def _resolve_preparation(args: argparse.Namespace, entry: Entry) -> End:
    """A preparation's entry: finished or rolled back step by step (ztui.ops.prepare.recover)."""
    result, op = resolve_prepare(entry, finish=args.how == "finish")
    doc = {"id": entry.id, "action": entry.action.value, "target": entry.guest, "uri": entry.uri,
           "resolution": args.how, "ok": result.ok, "error": result.error or None, "closed": op.closed,
           "done": [s.title for s in result.done]}
    if args.json:
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(f"{args.how} {entry.id} ({entry.action.value} {entry.guest}):\n{result.text()}")
    if not op.closed:
        error(f"{entry.id} stays in the journal")
    return Status.DONE if result.ok else Status.FAILED
