"""`ztui --version`: ztui's version and those of what it runs on, for a bug report or a support case.

An administrator asked "which ztui, which libvirt?" needs four answers: ztui's, Textual's, the Python
bindings' (libvirt-python, from PyPI or the distribution's python3-libvirt) and the libvirt library's that
the bindings load (`virGetVersion`, no connection needed; a daemon's may differ, `virsh version` tells).
Versions of Python packages come from their installed metadata, so Textual is not imported: the command
stays as quick as Python's start plus libvirt's import.
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any, NoReturn

from ztui import __version__

NOT_INSTALLED = "not installed"

#: the libvirt bindings' distribution names: PyPI's, and older distributions' packaging of them
_BINDINGS = ("libvirt-python", "libvirt_python")


def package_version(*names: str) -> str:
    """The installed version of the first of these distributions that is installed."""
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return NOT_INSTALLED


def library_version() -> str:
    """The libvirt library's version as the bindings report it (`major.minor.release`). Imported only here:
    `--version` is asked when something is wrong, and must answer when the bindings are missing too; and
    every start of ztui passes through this module (30 ms, libvirt's import)."""
    try:
        import libvirt  # noqa: PLC0415 - libvirt, optional here and 30 ms
    except ImportError:
        return NOT_INSTALLED
    number = int(libvirt.getVersion())
    return f"{number // 1_000_000}.{number // 1000 % 1000}.{number % 1000}"


def version_lines() -> list[str]:
    library = library_version()
    bindings = package_version(*_BINDINGS)
    if bindings == NOT_INSTALLED and library != NOT_INSTALLED:
        bindings = "installed, version unknown"  # a build without metadata
    return [
        f"ztui {__version__}",
        f"Textual {package_version('textual')}",
        f"libvirt-python {bindings}",
        f"libvirt {library}",
        f"Python {platform.python_version()}",
    ]


class VersionAction(argparse.Action):
    """`--version`: print the lines and exit 0, like argparse's own version action."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: Any = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> NoReturn:
        sys.stdout.write("\n".join(version_lines()) + "\n")
        parser.exit()
