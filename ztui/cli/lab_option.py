"""`--lab` for the commands that talk to hosts (`ztui tree --lab`, `ztui --lab migrate lnxb02 --to zlab-a`).

The lab is started if it is not running, then the command sees ordinary URIs: with no `-c` the lab's hosts
(for a command on one guest: the lab host that has it, the one where it runs first); host names in `-c`
and `--to` (`zlab-a`) become that host's URI. Everything after that is the command's usual path.
"""

from __future__ import annotations

import argparse
import contextlib

from ztui.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, error


def use_lab(args: argparse.Namespace) -> int:
    """Rewrite `args.connect` (and `args.to`) for the lab; 0, or the exit status of a failure (said)."""
    from ztui.lab import LabError, ensure_lab

    try:
        hosts = ensure_lab()
    except LabError as exc:
        error(f"the lab did not start: {exc}")
        return EXIT_FAILED
    names = {h.name: h.uri for h in hosts}
    if getattr(args, "to", None):
        args.to = names.get(args.to, args.to)
    if args.connect:
        args.connect = [names.get(c, c) for c in args.connect]
        return 0
    guest = getattr(args, "guest", None)
    if not isinstance(guest, str):  # tree, hostdevs: every lab host
        args.connect = list(names.values())
        return 0
    uri = host_of(guest, [u for u in names.values() if u != getattr(args, "to", None)])
    if not uri:
        error(f"no lab host has a guest named '{guest}'; nothing was changed")
        return EXIT_BAD_INPUT
    args.connect = [uri]
    return 0


def host_of(guest: str, uris: list[str]) -> str:
    """The host among `uris` where `guest` runs, else the first that defines it, else ''."""
    import libvirt

    from ztui.libvirt.connection import ConnectError, open_connection

    defined = ""
    for uri in uris:
        try:
            conn = open_connection(uri, readonly=True)
        except ConnectError:
            continue
        try:
            with contextlib.suppress(libvirt.libvirtError):
                if conn.lookupByName(guest).isActive():
                    return uri
                defined = defined or uri
        finally:
            conn.close()
    return defined
