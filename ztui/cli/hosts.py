"""`ztui hosts add|remove|list`: the saved hosts (`ztui.config`), which a plain `ztui` opens.

Adding a host does not connect to it (it may be down, or reachable only later); `ztui tree -c NAME` shows
whether it answers. Bad names, URIs and groups are refused in one line (exit 2) with the file untouched; a
file that cannot be written leaves the old one in place (exit 1).
"""

from __future__ import annotations

import argparse
import json
import sys

from ztui.config import SavedHost, edit_config, load_config, with_host, without_host
from ztui.errors import BadInput, End, Status
from ztui.safe_text import escape_control


def run_add(args: argparse.Namespace) -> End:
    host = SavedHost(args.name, args.uri, args.group or "", args.readonly)
    config = edit_config(lambda c: with_host(c, host))
    print(f"saved {host.name}: {host.uri}" + (f" (group {host.group})" if host.group else "")
          + (" read-only" if host.readonly else "") + f" in {config.path}")
    return Status.DONE


def run_remove(args: argparse.Namespace) -> End:
    config = edit_config(lambda c: without_host(c, args.name))
    print(f"removed {args.name} from {config.path}")
    return Status.DONE


def run_list(args: argparse.Namespace) -> End:
    config = load_config()
    hosts = list(config.hosts)
    if args.group:
        unknown = [g for g in args.group if not config.in_group(g)]
        if unknown:
            raise BadInput(f"no saved host is in group '{escape_control(unknown[0])}'")
        hosts = [h for h in hosts if h.group in args.group]
    if args.json:
        json.dump({"file": str(config.path), "hosts": [h.to_json() for h in hosts]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return Status.DONE
    if not hosts:
        print(f"no saved hosts in {config.path} (ztui hosts add NAME URI)", file=sys.stderr)
        return Status.DONE
    width = max(len(h.name) for h in hosts)
    for h in hosts:
        flags = "  ".join(f for f in (f"group {h.group}" if h.group else "", "read-only" if h.readonly else "") if f)
        print(escape_control(f"{h.name:<{width}}  {h.uri}" + (f"  {flags}" if flags else "")))
    return Status.DONE
