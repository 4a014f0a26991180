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

from ztui.cli.common import NO_HOSTS, error

if TYPE_CHECKING:
    from ztui.ops.journal import Entry
    from ztui.ops.journal_scope import Scoped


def add_journal_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                        common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "journal", parents=[common], help="unfinished operations: list, finish or roll back",
        description="Every attach, detach and migration writes its intent to a journal before it changes "
                    "anything; an entry left behind is an operation whose outcome was not proven. List "
                    "them, or finish or roll back one by its id.")
    p.add_argument("--json", action="store_true", help="print them as JSON")
    p.add_argument("--all", action="store_true",
                   help="every unfinished operation, whichever host it acted on (default: the hosts -c, -g or "
                        "--lab name, else the saved hosts, $LIBVIRT_DEFAULT_URI or qemu:///system)")
    p.set_defaults(func=run_journal_list, all=False)
    sub = p.add_subparsers(title="resolving", metavar="finish|rollback")
    for name, text in (("finish", "complete the operation (proven)"), ("rollback", "undo the operation (proven)")):
        r = sub.add_parser(name, parents=[common], help=text, description=text)
        r.add_argument("id", metavar="ID")
        r.add_argument("--json", action="store_true", help="print the result as one JSON object")
        r.set_defaults(func=run_journal_resolve, how=name, **NO_HOSTS)


def entries_json(session: list[str] | None) -> tuple[list[dict[str, Any]], Scoped]:
    """The unfinished entries of the hosts `session` names (None: all), each with whether its process still
    holds the guest (in progress); those whose host or guest is gone are settled first (`Scoped.settled`)."""
    from ztui.ops.guestlock import holder
    from ztui.ops.journal_scope import session_entries

    scope = session_entries(session)
    docs = []
    for entry in scope.entries:
        held = holder(entry.uri, entry.uuid)
        docs.append({**entry.to_json(), "in_progress": held is not None and held.pid == entry.pid})
    return docs, scope


def run_journal_list(args: argparse.Namespace) -> int:
    from ztui.ops.journal import Entry

    docs, scope = entries_json(None if args.all else list(args.connect))
    for line in scope.settled:  # said on stderr: --json keeps stdout a list of the entries left
        error(line)
    others = (f"{scope.elsewhere} more on other hosts: ztui journal --all" if scope.elsewhere else "")
    if args.json:
        json.dump(docs, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not docs:
        print("no unfinished operations" + (f" on these hosts ({others})" if others else ""))
        return 0
    for doc in docs:
        line = Entry.from_json(doc).summary()
        print(line + ("  [in progress]" if doc["in_progress"] else ""))
    print("resolve each with `ztui journal finish ID` or `ztui journal rollback ID`" + (f"; {others}" if others
                                                                                        else ""))
    return 0


def run_journal_resolve(args: argparse.Namespace) -> int:
    from ztui.errors import BadInput
    from ztui.libvirt.eventloop import ensure_event_loop
    from ztui.ops.action import exit_status
    from ztui.ops.recover import Resolution, resolve

    if args.readonly:
        raise BadInput(f"--readonly: ztui does not {args.how} operations; nothing was changed")
    ensure_event_loop()
    from ztui.ops.journal import PREPARATIONS, load

    found = load(args.id)
    if found.action in PREPARATIONS:
        return _resolve_preparation(args, found)
    from ztui.ops.journal_scope import settle_gone

    settled = settle_gone(found)
    if settled:  # nothing left to finish or roll back: the host says so
        print(f"{args.how} {found.id} ({found.action.value} on {found.guest}): settled: {settled}")
        return 0
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
    return exit_status(change)


def _resolve_preparation(args: argparse.Namespace, entry: Entry) -> int:
    """A preparation's entry: finished or rolled back step by step (ztui.ops.prepare.recover)."""
    from ztui.ops.prepare.recover import resolve_prepare

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
    return 0 if result.ok else 1
