"""`ztui lab start|status|stop|testdriver`: the lab from the command line.

Every failure ends in one `ztui: ...` line on stderr (plus the daemon's log excerpt when a daemon failed)
and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ztui.cli.common import NO_HOSTS
from ztui.lab.errors import LabError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

log = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace], int]


def _error(message: str) -> None:
    print(f"ztui: {message}", file=sys.stderr)


def _guarded(func: Handler) -> Handler:
    """Turn a LabError into its one line (and details), any other error into one line too."""

    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except LabError as exc:
            _error(str(exc))
            if exc.details:
                print(exc.details, file=sys.stderr)
            return EXIT_FAILED
        except BrokenPipeError:
            raise
        except OSError as exc:
            _error(f"lab: {exc}")
            return EXIT_FAILED
        except Exception as exc:  # the last guard: one line; the traceback only in the debug log
            log.debug("unexpected error", exc_info=True)
            _error(f"lab: unexpected error: {type(exc).__name__}: {exc} (run with -vv for details)")
            return EXIT_FAILED

    run.__name__ = func.__name__
    run.__doc__ = func.__doc__
    return run


def _base(args: argparse.Namespace) -> Path | None:
    directory: str | None = getattr(args, "lab_dir", None)
    return Path(directory) if directory else None


def _print_hosts(hosts: Sequence[object]) -> None:
    for host in hosts:
        extra = [u for u in (getattr(host, "tcp_uri", ""), getattr(host, "ssh_uri", "")) if u]
        print("\t".join([getattr(host, "name", "?"), getattr(host, "uri", "?"), *extra]))


@_guarded
def cmd_start(args: argparse.Namespace) -> int:
    """Start the lab, or reuse it and restart hosts whose daemon died."""
    from ztui.lab.hosts import start_lab

    started = time.monotonic()
    hosts = start_lab(hosts=args.hosts, linux=args.linux, base_dir=_base(args), z=not args.no_z)
    _print_hosts(hosts)
    log.info("lab ready in %.1f s", time.monotonic() - started)
    return EXIT_OK


@_guarded
def cmd_status(args: argparse.Namespace) -> int:
    """Hosts, their daemons and their guests; exit status 1 when there is no lab or a host is down."""
    from ztui.lab.hosts import lab_status

    status = lab_status(_base(args))
    if args.json:
        json.dump(status.to_json(), sys.stdout, indent=2)
        print()
    elif not status.hosts:
        print(f"no lab in {status.base}")
    else:
        for host in status.hosts:
            daemon = f"libvirtd {host.pid}" if host.pid is not None else "daemon not running"
            print(f"{host.name}\t{host.uri}\t{daemon}" + (f"\t[{host.simulated}]" if host.simulated else ""))
            for guest in host.guests:
                print(f"  {guest.name}\t{guest.state}")
    return EXIT_OK if status.hosts and all(h.running for h in status.hosts) else EXIT_FAILED


@_guarded
def cmd_stop(args: argparse.Namespace) -> int:
    """Destroy the lab's guests, stop its daemons and remove its state (idempotent)."""
    from ztui.lab.hosts import stop_lab

    base = _base(args)
    if not stop_lab(base):
        log.info("no lab to stop")
    return EXIT_OK


@_guarded
def cmd_testdriver(args: argparse.Namespace) -> int:
    """Write a libvirt test-driver host file with many guests (browsing and scale, no actions)."""
    if args.guests < 0:
        _error("--guests must not be negative")
        return EXIT_BAD_INPUT
    try:
        from ztui.lab.testdriver import write_testdriver  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise LabError(f"the test-driver generator is not available: {exc}") from exc
    out = Path(args.out)
    write_testdriver(out, args.guests)
    print(f"test://{out.resolve()}")
    return EXIT_OK


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _usage(parser: argparse.ArgumentParser) -> Handler:
    """No subcommand given: show what there is, as a usage error."""

    def show(_args: argparse.Namespace) -> int:
        parser.print_usage(sys.stderr)
        _error(f"{parser.prog}: a command is required")
        return EXIT_BAD_INPUT

    return show


def add_lab_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                     common: argparse.ArgumentParser | None = None) -> None:
    """Add `lab` with its subcommands; each parsed namespace carries `func(args) -> int`. `common` is
    not used: the lab's commands take none of the options shared by the others."""
    lab = subparsers.add_parser(
        "lab", help="private libvirt hosts with s390x guests (needs root)",
        description="A lab of private libvirt daemons (zlab-a, zlab-b, ...) with QEMU s390x guests, "
                    "isolated from the system's libvirt. Needs root, libvirtd and qemu-system-s390x.")
    lab.set_defaults(func=_usage(lab), **NO_HOSTS)
    _add_subcommands(lab.add_subparsers(title="lab commands", metavar="COMMAND"))


def _add_subcommands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dir_opt = argparse.ArgumentParser(add_help=False)
    dir_opt.add_argument("--dir", dest="lab_dir", metavar="DIR", default=argparse.SUPPRESS,
                         help="lab directory (default: $ZTUI_LAB_DIR, else /var/tmp/ztui-lab)")

    start = sub.add_parser("start", parents=[dir_opt], help="start the lab (or reuse a running one)",
                           description="Start N hosts with guests, or reuse the running lab and restart "
                                       "any host whose daemon died. Prints each host and its URI.")
    start.add_argument("--hosts", type=_positive, default=2, metavar="N", help="number of hosts (default 2)")
    start.add_argument("--linux", action="store_true",
                       help="also run a guest with a Debian s390x kernel and a busybox shell "
                            "(downloads the packages once)")
    start.add_argument("--no-z", action="store_true",
                       help="without the simulated IBM z16 host zlab-z (its facts are generated, its DASD and "
                            "FCP disks are loop devices inside its namespace)")
    start.set_defaults(func=cmd_start)

    status = sub.add_parser("status", parents=[dir_opt], help="hosts, daemons and guests of the lab")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=cmd_status)

    stop = sub.add_parser("stop", parents=[dir_opt], help="stop the lab and remove its state")
    stop.set_defaults(func=cmd_stop)

    testdriver = sub.add_parser("testdriver", help="write a libvirt test-driver file with many guests")
    testdriver.add_argument("--guests", type=int, default=100, metavar="N", help="number of guests")
    testdriver.add_argument("--out", required=True, metavar="FILE", help="file to write")
    testdriver.set_defaults(func=cmd_testdriver)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m ztui.lab.cli start|status|stop|testdriver`: the lab commands without the rest of ztui."""
    parser = argparse.ArgumentParser(prog="ztui-lab", description="ztui's lab commands")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (repeat for debug)")
    _add_subcommands(parser.add_subparsers(title="commands", metavar="COMMAND"))
    parser.set_defaults(func=_usage(parser))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING - 10 * min(args.verbose, 2),
                        format="ztui: %(levelname)s: %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
