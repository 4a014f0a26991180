"""The `ztui` command line: the TUI by default; `tree`, `hostdevs`, `attach`, `detach`, `migrate`, the guest's
lifecycle (`start`, `shutdown`, `reboot`, `destroy`, `suspend`, `resume`) and `lab` for scripts."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ztui.cli.common import EXIT_FAILED, error
from ztui.cli.validate import OneLineParser
from ztui.cli.version import VersionAction
from ztui.errors import ZtuiError, exit_status

if TYPE_CHECKING:
    from ztui.ui.app import ZtuiApp


def _common_options() -> argparse.ArgumentParser:
    """Options accepted both before and after the command name (`ztui -c URI tree` = `ztui tree -c URI`)."""
    common = OneLineParser(add_help=False)
    common.add_argument("-c", "--connect", action="append", metavar="NAME|URI", default=argparse.SUPPRESS,
                        help="a saved host's name (ztui hosts list) or a libvirt URI, repeatable (default: every "
                             "saved host, else $LIBVIRT_DEFAULT_URI, else qemu:///system)")
    common.add_argument("-g", "--group", action="append", metavar="GROUP", default=argparse.SUPPRESS,
                        help="every saved host of this group, repeatable")
    common.add_argument("--readonly", action="store_true", default=argparse.SUPPRESS,
                        help="open read-only connections; refuse every change")
    common.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                        help="log more (repeat for debug)")
    common.add_argument("--lab", action="store_true", default=argparse.SUPPRESS,
                        help="start the private lab if needed and use its hosts (-c and --to may name them: "
                             "zlab-a)")
    return common


COMMANDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ztui.cli.tree", "add_tree_command", ("tree",)),
    ("ztui.cli.hostdevs", "add_hostdevs_command", ("hostdevs",)),
    ("ztui.cli.attach", "add_attach_command", ("attach",)),
    ("ztui.cli.detach", "add_detach_command", ("detach",)),
    ("ztui.cli.migrate", "add_migrate_command", ("migrate",)),
    ("ztui.cli.where", "add_where_command", ("where",)),
    ("ztui.cli.evacuate", "add_evacuate_command", ("evacuate",)),
    ("ztui.cli.journal", "add_journal_command", ("journal",)),
    ("ztui.cli.lifecycle", "add_lifecycle_commands", ("start", "resume", "shutdown", "reboot", "destroy", "suspend")),
    ("ztui.cli.hostfacts", "add_hostfacts_command", ("hostfacts",)),
    ("ztui.cli.prepare", "add_prepare_commands", ("prepare", "unprepare")),
    ("ztui.cli.hosts", "add_hosts_command", ("hosts",)),
    ("ztui.lab.cli", "add_lab_commands", ("lab",)),
    ("ztui.cli.completion", "add_completion_commands", ("completion", "__complete")),
)
"""Each command's module, the function that adds its parser, and the command names it adds (a test holds
the names to what the functions add)."""


def _command_named(argv: Sequence[str] | None) -> str | None:
    """The command the arguments name, when that is certain: then only its parser is built (and only its
    module imported), which is most of a one-shot command's start. None (every parser) for help, for no
    command, and for anything unclear; "" (no command's parser) for `--version`."""
    args = list(sys.argv[1:] if argv is None else argv)
    known = {name for _, _, names in COMMANDS for name in names}
    values = iter(args)
    for arg in values:
        if arg in ("-c", "--connect", "-g", "--group", "--expand"):  # their value is the next argument
            next(values, None)
        elif arg == "--version":
            return ""  # no command's parser: it prints and exits
        elif not arg.startswith("-"):
            return arg if arg in known else None
        elif not _WHOLE_OPTION.fullmatch(arg):
            return None  # help, `--`, an abbreviation or a cluster that may take the next word as its value
    return None


_WHOLE_OPTION = re.compile(r"--readonly|--lab|--verbose|-v+|-c.+|--connect=.*|-g.+|--group=.*|--expand=.*")
"""Shared options spelled out whole, with their value (if any) in the same word."""


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for these arguments (None: the process's own); see `_command_named`."""
    common = _common_options()
    parser: argparse.ArgumentParser = OneLineParser(
        prog="ztui", parents=[common],
        description="Guests of KVM hosts (first of all KVM on IBM Z), their virtio and VFIO devices and "
                    "what backs each of them on the host.")
    parser.add_argument("--version", action=VersionAction,
                        help="print the versions of ztui, Textual, libvirt-python and the libvirt library")
    parser.add_argument("--expand", metavar="GUEST", default="",
                        help="open this guest with its devices' backing chains at start (e.g. zlnx01 of --lab)")
    # no defaults for the shared options here: parents share action objects, so a default set on this
    # parser would also reset a value given before the command name (see `_normalise`)
    parser.set_defaults(func=run_default)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    wanted = _command_named(argv)
    for module, adder, names in COMMANDS:
        if wanted is not None and wanted not in names:
            continue
        try:
            add = getattr(importlib.import_module(module), adder)
        except ImportError:  # pragma: no cover - the lab package is optional in a trimmed install
            if module.startswith("ztui.lab"):
                continue
            raise
        add(sub, common)
    return parser


def run_default(args: argparse.Namespace) -> int:
    """No command: the interactive view (the tree as text when stdout is not a terminal). The hosts are
    settled already (`ztui.cli.targets`): given, the lab's, the saved ones, `$LIBVIRT_DEFAULT_URI`, or the
    system's, which is offered the lab instead when it does not answer."""
    from ztui.config import Chosen
    from ztui.libvirt.connection import DEFAULT_URI

    uris: list[str] = list(args.connect)
    no_host_reason = ""
    if args.targets.chosen is Chosen.DEFAULT and not _system_reachable():
        uris = []
        no_host_reason = f"{DEFAULT_URI} is not reachable (no libvirtd socket)."
    if not sys.stdout.isatty() or not sys.stdin.isatty():
        if not uris:
            error(f"{no_host_reason} Use -c URI, ztui hosts add, or --lab.")
            return EXIT_FAILED
        from ztui.cli.tree import run_tree

        args.connect, args.guests, args.json, args.domain_xml, args.host_facts = uris, [], False, [], ""
        return run_tree(args)
    _log_to_file()
    return make_app(args, uris, no_host_reason).run() or 0


def make_app(args: argparse.Namespace, uris: list[str], no_host_reason: str = "") -> ZtuiApp:
    """The TUI for settled arguments: these hosts, called by their saved names. The hosts are connected and
    read while the TUI is imported and built (`ztui.libvirt.early`)."""
    from ztui.libvirt.early import HeldSink, start_sessions
    from ztui.libvirt.reader import read_at_once

    read_at_once(uris)
    sink = HeldSink()
    sessions = start_sessions(uris, sink, readonly=args.readonly)
    from ztui.ui.app import ZtuiApp

    names = {t.uri: t.name for t in args.targets.hosts if t.name}
    return ZtuiApp(uris, readonly=args.readonly, no_host_reason=no_host_reason, expand=args.expand, names=names,
                   started=(sessions, sink) if sessions else None)


def _system_reachable() -> bool:
    """Whether the system libvirtd answers, without letting libvirt print anything."""
    from ztui.libvirt.connection import DEFAULT_URI, ConnectError, open_within

    try:
        open_within(DEFAULT_URI, readonly=True).close()
    except ConnectError:
        return False
    return True


def _log_to_file() -> None:
    """While the TUI owns the terminal, log lines go to a file in the XDG state directory, never to it
    (0600, never through a symlink: `ops/statefiles.py`). A state directory that cannot take it costs the
    log file, never the TUI."""
    from ztui.statefiles import open_dir, open_file

    try:
        with open_dir() as dfd:
            fd = open_file(dfd, "ztui.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    except (ZtuiError, OSError):
        stream = None
    else:
        stream = os.fdopen(fd, "a", encoding="utf-8")
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    handler: logging.Handler = logging.StreamHandler(stream) if stream is not None else logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)


def _normalise(args: argparse.Namespace) -> argparse.Namespace:
    """Give the shared options their defaults when they were given nowhere."""
    for name, default in (("connect", None), ("group", None), ("readonly", False), ("verbose", 0), ("lab", False)):
        if not hasattr(args, name):
            setattr(args, name, default)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return _run(argv)[0]


def _run(argv: Sequence[str] | None) -> tuple[int, bool]:
    """The exit status, and whether a one-shot command (`tree`, `hostdevs`) ran to its end."""
    parser = build_parser(argv)
    args = _normalise(parser.parse_args(argv))
    level = logging.WARNING - 10 * min(int(args.verbose or 0), 2)
    logging.basicConfig(level=level, format="ztui: %(levelname)s: %(name)s: %(message)s")
    try:
        if getattr(args, "opens_hosts", True):  # `set_defaults(opens_hosts=False)`: a command that opens none
            from ztui.cli.targets import settle_hosts

            status = settle_hosts(args, interactive=args.func is run_default)
            if status:
                return status, False
        return int(args.func(args)), bool(getattr(args, "one_shot", False))
    except ZtuiError as exc:  # every command's errors: one line, the status the error's kind means
        error(str(exc))
        return exit_status(exc), False
    except KeyboardInterrupt:
        return 130, False
    except BrokenPipeError:
        return 0, False
    except Exception as exc:  # the last guard: one line, the traceback only in the log at -vv
        logging.getLogger("ztui").debug("unexpected error", exc_info=True)
        error(f"unexpected error: {type(exc).__name__}: {exc} (run with -vv for details)")
        return EXIT_FAILED, False


def entry() -> None:
    """The program (`ztui`, `python -m ztui`). After a one-shot command has printed a whole host, the
    process ends without tearing its heap down: freeing tens of thousands of records one by one (50 ms at
    1000 guests) is only time the caller waits for. Output is flushed and logging shut down first."""
    code, one_shot = _run(None)
    if not one_shot:
        sys.exit(code)
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (`| head`): what it wanted it has
        pass
    except (OSError, ValueError) as exc:  # a full disk, a closed stream: the output is not complete
        error(f"cannot write the output: {exc}")
        code = 120  # what Python itself ends with when this flush fails at exit
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.flush()
    logging.shutdown()
    os._exit(code)

