"""`ztui hosts add|remove|list`: the saved hosts (`ztui.config`), which a plain `ztui` opens.

Adding a host does not connect to it (it may be down, or reachable only later); `ztui tree -c NAME` shows
whether it answers. Bad names, URIs and groups are refused in one line (exit 2) with the file untouched; a
file that cannot be written leaves the old one in place (exit 1).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from ztui.cli.common import EXIT_OK, NO_HOSTS
from ztui.cli.validate import text


def add_hosts_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                      common: argparse.ArgumentParser | None = None) -> None:
    """`hosts` and its subcommands; `common` is not used (they open no host)."""
    hosts = subparsers.add_parser(
        "hosts", help="saved hosts: a plain `ztui` opens them all",
        description="Saved hosts, kept in $XDG_CONFIG_HOME/ztui/config.toml (else ~/.config/ztui/config.toml). "
                    "Every command takes a saved name for -c and a group for -g.")
    hosts.set_defaults(func=_usage(hosts), **NO_HOSTS)
    sub = hosts.add_subparsers(title="hosts commands", metavar="COMMAND")

    add = sub.add_parser("add", help="save a host under a name",
                         description="Save a host. It is not connected to now.")
    add.add_argument("name", metavar="NAME", type=text(), help="what -c takes: letters, digits, '.', '_', '-'")
    add.add_argument("uri", metavar="URI", type=text(), help="its libvirt URI, e.g. qemu+ssh://root@lpar1/system")
    add.add_argument("-g", "--group", type=text(), default=None, help="a group, for -g GROUP")
    add.add_argument("--readonly", action="store_true", help="open it read-only: nothing on it can be changed")
    add.set_defaults(func=run_add)

    remove = sub.add_parser("remove", help="forget a saved host")
    remove.add_argument("name", metavar="NAME", type=text())
    remove.set_defaults(func=run_remove)

    listing = sub.add_parser("list", help="the saved hosts")
    listing.add_argument("-g", "--group", action="append", type=text(), default=[], help="only this group")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=run_list)


def _usage(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def show(_args: argparse.Namespace) -> int:
        from ztui.errors import BadInput

        parser.print_usage(sys.stderr)
        raise BadInput("hosts: a command is required (add, remove, list)")

    return show


def run_add(args: argparse.Namespace) -> int:
    from ztui.config import SavedHost, edit_config, with_host

    host = SavedHost(args.name, args.uri, args.group or "", args.readonly)
    config = edit_config(lambda c: with_host(c, host))
    print(f"saved {host.name}: {host.uri}" + (f" (group {host.group})" if host.group else "")
          + (" read-only" if host.readonly else "") + f" in {config.path}")
    return EXIT_OK


def run_remove(args: argparse.Namespace) -> int:
    from ztui.config import edit_config, without_host

    config = edit_config(lambda c: without_host(c, args.name))
    print(f"removed {args.name} from {config.path}")
    return EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    from ztui.config import load_config
    from ztui.errors import BadInput
    from ztui.report.safe_text import escape_control

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
        return EXIT_OK
    if not hosts:
        print(f"no saved hosts in {config.path} (ztui hosts add NAME URI)", file=sys.stderr)
        return EXIT_OK
    width = max(len(h.name) for h in hosts)
    for h in hosts:
        flags = "  ".join(f for f in (f"group {h.group}" if h.group else "", "read-only" if h.readonly else "") if f)
        print(escape_control(f"{h.name:<{width}}  {h.uri}" + (f"  {flags}" if flags else "")))
    return EXIT_OK
