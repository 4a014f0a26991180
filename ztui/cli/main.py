"""The `ztui` command line: the TUI by default; `tree`, `hostdevs`, `attach`, `detach`, `migrate`, the guest's
lifecycle (`start`, `shutdown`, `reboot`, `destroy`, `suspend`, `resume`) and `lab` for scripts."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import re
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ztui.cli.common import error
from ztui.cli.parsers import COMMANDS, Run, common_options, top_parser
from ztui.config import DEFAULT_URI, Chosen
from ztui.errors import End, Status, Stopped, ZtuiError, exit_status
from ztui.statefiles import open_dir, open_file

if TYPE_CHECKING:
    from ztui.ui.app import ZtuiApp


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
    common = common_options()
    parser = top_parser(common)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    wanted = _command_named(argv)
    for module, adder, names in COMMANDS:
        if wanted is None or wanted in names:
            getattr(importlib.import_module(module), adder)(sub, common)
    return parser


TUI = Run("ztui.cli.main", "run_default")
"""What runs when no command is named (`ztui.cli.parsers.top_parser`)."""


def run_default(args: argparse.Namespace) -> End:
    """No command: the interactive view (the tree as text when stdout is not a terminal). The hosts are
    settled already (`ztui.cli.targets`): given, the lab's, the saved ones, `$LIBVIRT_DEFAULT_URI`, or the
    system's, which is offered the lab instead when it does not answer."""
    uris: list[str] = list(args.connect)
    no_host_reason = ""
    if args.targets.chosen is Chosen.DEFAULT and not _system_reachable():
        uris = []
        no_host_reason = f"{DEFAULT_URI} is not reachable (no libvirtd socket)."
    if not sys.stdout.isatty() or not sys.stdin.isatty():
        if not uris:
            error(f"{no_host_reason} Use -c URI, ztui hosts add, or --lab.")
            return Status.FAILED
        args.connect, args.guests, args.json, args.domain_xml, args.host_facts = uris, [], False, [], ""
        return Run("ztui.cli.tree", "run_tree")(args)
    _log_to_file()
    code = make_app(args, uris, no_host_reason).run() or 0
    return Status.DONE if code == 0 else Status.FAILED


def make_app(args: argparse.Namespace, uris: list[str], no_host_reason: str = "") -> ZtuiApp:
    """The TUI for settled arguments: these hosts, called by their saved names. The hosts are connected and
    read while the TUI is imported and built (`ztui.libvirt.early`): both imports are made here, when the
    TUI starts, so that no command loads Textual or the live sessions (measured in docs/ARCHITECTURE.md §3)."""
    from ztui.libvirt.early import HeldSink, start_sessions  # noqa: PLC0415 - the TUI's alone
    from ztui.libvirt.reader import read_at_once  # noqa: PLC0415 - the TUI's alone

    read_at_once(uris)
    sink = HeldSink()
    sessions = start_sessions(uris, sink, readonly=args.readonly)
    from ztui.ui.app import ZtuiApp  # noqa: PLC0415 - Textual, after the sessions started

    names = {t.uri: t.name for t in args.targets.hosts if t.name}
    return ZtuiApp(uris, readonly=args.readonly, no_host_reason=no_host_reason, expand=args.expand, names=names,
                   started=(sessions, sink) if sessions else None)


def _system_reachable() -> bool:
    """Whether the system libvirtd answers, without letting libvirt print anything."""
    from ztui.libvirt.connection import ConnectError, open_within  # noqa: PLC0415 - the TUI's alone

    try:
        open_within(DEFAULT_URI, readonly=True).close()
    except ConnectError:
        return False
    return True


def _log_to_file() -> None:
    """While the TUI owns the terminal, log lines go to a file in the XDG state directory, never to it
    (0600, never through a symlink: `ops/statefiles.py`). A state directory that cannot take it costs the
    log file, never the TUI."""
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


OUTPUT_UNWRITABLE = 120
"""The exit status when the output could not be written (a full disk): what Python itself ends with then."""


def _run(argv: Sequence[str] | None) -> tuple[int, bool]:
    """The exit status, and whether a one-shot command (`tree`, `hostdevs`) ran to its end."""
    try:
        args = _normalise(build_parser(argv).parse_args(argv))
        level = logging.WARNING - 10 * min(int(args.verbose or 0), 2)
        logging.basicConfig(level=level, format="ztui: %(levelname)s: %(name)s: %(message)s")
        if getattr(args, "opens_hosts", True):  # `set_defaults(opens_hosts=False)`: a command that opens none
            # only here: `--version`, help and completion never load libvirt (30 ms) for the hosts' rules
            from ztui.cli.targets import settle_hosts  # noqa: PLC0415 - libvirt, for a command that opens hosts

            settled = settle_hosts(args, interactive=args.func == TUI)
            if settled is not Status.DONE:
                return exit_status(settled), False
        return exit_status(args.func(args)), bool(getattr(args, "one_shot", False))
    except ZtuiError as exc:  # every command's errors: one line, the status the error's kind means
        error(str(exc))
        return exit_status(exc.end), False
    except KeyboardInterrupt:
        return exit_status(Stopped(signal.SIGINT)), False
    except BrokenPipeError:
        return exit_status(Status.DONE), False
    except Exception as exc:  # the last guard: one line, the traceback only in the log at -vv
        logging.getLogger("ztui").debug("unexpected error", exc_info=True)
        error(f"unexpected error: {type(exc).__name__}: {exc} (run with -vv for details)")
        return exit_status(Status.FAILED), False


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
        code = OUTPUT_UNWRITABLE
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.flush()
    logging.shutdown()
    os._exit(code)

