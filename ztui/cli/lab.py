"""`ztui lab start|status|stop|testdriver`: the lab from the command line.

Every failure ends in one `ztui: ...` line on stderr (plus the daemon's log excerpt when a daemon failed)
and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ztui.cli.parsers import add_lab_subcommands, usage
from ztui.errors import End, Status, Stopped, ZtuiError, exit_status
from ztui.lab.errors import LabError
from ztui.lab.hosts import lab_status, start_lab, stop_lab

log = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace], End]


def _error(message: str) -> None:
    print(f"ztui: {message}", file=sys.stderr)


def _guarded(func: Handler) -> Handler:
    """Turn a LabError into its one line (and details), any other error into one line too."""

    def run(args: argparse.Namespace) -> End:
        try:
            return func(args)
        except LabError as exc:
            _error(str(exc))
            if exc.details:
                print(exc.details, file=sys.stderr)
            return Status.FAILED
        except BrokenPipeError:
            raise
        except OSError as exc:
            _error(f"lab: {exc}")
            return Status.FAILED
        except Exception as exc:  # the last guard: one line; the traceback only in the debug log
            log.debug("unexpected error", exc_info=True)
            _error(f"lab: unexpected error: {type(exc).__name__}: {exc} (run with -vv for details)")
            return Status.FAILED

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
def cmd_start(args: argparse.Namespace) -> End:
    """Start the lab, or reuse it and restart hosts whose daemon died."""
    started = time.monotonic()
    hosts = start_lab(hosts=args.hosts, linux=args.linux, base_dir=_base(args), z=not args.no_z)
    _print_hosts(hosts)
    log.info("lab ready in %.1f s", time.monotonic() - started)
    return Status.DONE


@_guarded
def cmd_status(args: argparse.Namespace) -> End:
    """Hosts, their daemons and their guests; exit status 1 when there is no lab or a host is down."""
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
    return Status.DONE if status.hosts and all(h.running for h in status.hosts) else Status.FAILED


@_guarded
def cmd_stop(args: argparse.Namespace) -> End:
    """Destroy the lab's guests, stop its daemons and remove its state (idempotent)."""
    base = _base(args)
    if not stop_lab(base):
        log.info("no lab to stop")
    return Status.DONE


@_guarded
def cmd_testdriver(args: argparse.Namespace) -> End:
    """Write a libvirt test-driver host file with many guests (browsing and scale, no actions)."""
    if args.guests < 0:
        _error("--guests must not be negative")
        return Status.BAD_INPUT
    try:
        # optional (a trimmed install has no generator), and looked up when asked for, so a test can stand in for it
        from ztui.lab.testdriver import write_testdriver  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415 - optional
    except ImportError as exc:
        raise LabError(f"the test-driver generator is not available: {exc}") from exc
    out = Path(args.out)
    write_testdriver(out, args.guests)
    print(f"test://{out.resolve()}")
    return Status.DONE


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m ztui.cli.lab start|status|stop|testdriver`: the lab commands without the rest of ztui."""
    parser = argparse.ArgumentParser(prog="ztui-lab", description="ztui's lab commands")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (repeat for debug)")
    add_lab_subcommands(parser.add_subparsers(title="commands", metavar="COMMAND"))
    parser.set_defaults(func=usage(parser, f"{parser.prog}: a command is required"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING - 10 * min(args.verbose, 2),
                        format="ztui: %(levelname)s: %(name)s: %(message)s")
    try:
        end: End = args.func(args)
    except ZtuiError as exc:
        _error(str(exc))
        end = exc.end
    except KeyboardInterrupt:
        end = Stopped(signal.SIGINT)
    except BrokenPipeError:
        end = Status.DONE
    return exit_status(end)


if __name__ == "__main__":
    sys.exit(main())
