"""Which hosts a command opens: `-c`, `-g`, `--lab` and the saved hosts, settled once before any command runs.

`settle_hosts` rewrites `args.connect` to the URIs to open (`ztui.config.choose_hosts` decides which), so
every command and the TUI see plain URIs and nothing else: a saved name (`-c lpar1`), a group (`-g prod`), a
lab host's name with `--lab` (`-c zlab-a`, `--to zlab-b`), and without `-c` every saved host (else
`$LIBVIRT_DEFAULT_URI`, else the system's). A command on one guest given several hosts (a group, the saved
hosts, the lab) acts on the one that has the guest. Hosts saved read-only are opened read-only from here on,
and a change on one is refused like `--readonly`.
"""

from __future__ import annotations

import argparse
import contextlib
import enum
from functools import partial

import libvirt

from ztui.bounded import answers_within
from ztui.cli.common import error
from ztui.config import choose_hosts
from ztui.errors import BadInput, End, Refused, Status
from ztui.libvirt.connection import ConnectError, answer_timeout, hold_read_only, open_connection


def settle_hosts(args: argparse.Namespace, interactive: bool = False) -> End:
    """Rewrite `args.connect` (and `args.to`) to URIs; done, or how the command ended with a failure that was
    said.
    BadInput (a group nobody is in, a guest on no host) and BadConfig propagate to the one handler.
    `interactive`: for the TUI, which refuses changes host by host (`ZtuiApp.host_readonly`)."""
    lab: dict[str, str] = {}
    if args.lab:
        # only with --lab: the lab's code (70 ms to import, libvirt's daemons to start) is no other command's
        from ztui.lab import LabError, ensure_lab  # noqa: PLC0415 - the lab, with --lab alone
        from ztui.lab.hosts import lab_uris  # noqa: PLC0415 - the lab, with --lab alone

        try:
            lab = lab_uris(ensure_lab())
        except LabError as exc:
            error(f"the lab did not start: {exc}")
            return Status.FAILED
    targets = choose_hosts(args.connect, args.group, lab=lab)
    args.targets = targets
    args.lab_hosts = lab  # the lab's hosts by name, for a command that names more hosts (`evacuate --to`)
    args.connect = targets.uris
    saved_readonly = {t.uri: t.name or t.uri for t in targets.hosts if t.readonly}
    to = getattr(args, "to", None)
    if to:
        (dest,) = choose_hosts([to], None, lab=lab).hosts
        args.to = dest.uri
        if dest.readonly:
            saved_readonly[dest.uri] = dest.name or dest.uri
    hold_read_only(saved_readonly)
    guest = getattr(args, "guest", None)
    if isinstance(guest, str) and len(args.connect) > 1:
        args.connect = [host_of(guest, [u for u in args.connect if u != args.to] if to else args.connect)]
    # a change on a host saved read-only is refused like one with --readonly: every host of the command is
    # one (a command on one guest has one), or a migration's destination is
    if not args.readonly and args.connect and not interactive:
        if all(u in saved_readonly for u in args.connect):
            args.readonly = True
            args.readonly_why = f"{saved_readonly[args.connect[0]]} is saved read-only"
        elif to and args.to in saved_readonly:
            args.readonly = True
            args.readonly_why = f"the destination {saved_readonly[args.to]} is saved read-only"
    return Status.DONE


def readonly_why(args: argparse.Namespace) -> str:
    """Why a change is refused as read-only: `--readonly`, or the host saved read-only."""
    return str(getattr(args, "readonly_why", "") or "--readonly")


class Found(enum.Enum):
    """What a host answered about a guest named on the command line."""

    RUNNING = enum.auto()  # running or paused there
    DEFINED = enum.auto()  # defined there, not running
    ABSENT = enum.auto()  # the host answered: no such guest
    UNREACHABLE = enum.auto()  # the host did not answer in time


def host_of(guest: str, uris: list[str]) -> str:
    """The host among `uris` where `guest` runs, else the one that defines it. All are asked at once within
    one answer time (`ztui.bounded`: a host that hangs holds up no one). BadInput when no host has the
    guest, or when it is defined on several and runs on none of them (which one is meant is not ztui's
    guess); Refused when it runs on none that answered and some did not (it may run there)."""

    def where(uri: str) -> Found:
        try:
            conn = open_connection(uri, readonly=True)
        except ConnectError:
            return Found.UNREACHABLE
        try:
            with contextlib.suppress(libvirt.libvirtError):
                return Found.RUNNING if conn.lookupByName(guest).isActive() else Found.DEFINED
            return Found.ABSENT
        finally:
            conn.close()

    found = answers_within({u: partial(where, u) for u in uris}, answer_timeout())
    running = [u for u in uris if found.get(u) is Found.RUNNING]
    defined = [u for u in uris if found.get(u) is Found.DEFINED]
    silent = [u for u in uris if found.get(u, Found.UNREACHABLE) is Found.UNREACHABLE]
    if len(running) == 1:
        return running[0]
    if not running and silent:
        raise Refused(f"'{guest}' runs on none of the hosts that answered, and {len(silent)} did not "
                      f"({', '.join(silent)}): it may run there; say which host with -c; nothing was changed")
    if not running and len(defined) == 1:
        return defined[0]
    if not running and not defined:
        raise BadInput(f"none of the hosts ({len(uris)}) has a guest named '{guest}'; nothing was changed")
    which = running or defined
    raise BadInput(f"'{guest}' is {'running' if running else 'defined'} on {len(which)} hosts "
                   f"({', '.join(which)}); say which with -c; nothing was changed")
