"""Checks on command-line values that run while the arguments are parsed, so bad input stops the command
before it connects anywhere, let alone changes anything (`BadInput`: one line, exit 2).

argparse calls a `type=` function with the text given; an `ArgumentTypeError` becomes the one-line error
of `OneLineParser`. Every numeric option has a range here: a negative bandwidth that libvirt would only
refuse after ztui has detached devices is refused first.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NoReturn

from ztui.errors import BadInput
from ztui.safe_text import escape_control


class OneLineParser(argparse.ArgumentParser):
    """argparse with usage errors as one line (`ztui: migrate: --bandwidth: ...`, `ztui: unrecognized
    arguments: ...`): `BadInput`, which `ztui.cli.main` says like any other. Subcommand parsers inherit the
    class, so every command behaves the same."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("ztui").strip()  # the top parser's prog is `ztui` itself
        where = f"{command}: " if command else ""
        raise BadInput(f"{where}{message} (see --help)")


def text() -> Callable[[str], str]:
    """A value that must be non-empty and printable (no control characters, no newline)."""

    def check(value: str) -> str:
        if not value.strip():
            raise argparse.ArgumentTypeError("the value is empty")
        if not value.isprintable():
            raise argparse.ArgumentTypeError(f"'{escape_control(value)}' contains control characters")
        return value

    return check


def integer(low: int, high: int) -> Callable[[str], int]:
    """An integer in [low, high]; decimal only (a bandwidth of `0x10` is more likely a slip than a wish)."""

    def check(value: str) -> int:
        stripped = value.strip()
        if not stripped.lstrip("+-").isdigit() or not stripped.isascii():
            raise argparse.ArgumentTypeError(f"'{escape_control(value)}' is not a whole number")
        number = int(stripped)
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{number} is out of range ({low}-{high})")
        return number

    return check


def seconds(value: str) -> float:
    """A timeout in seconds: more than 0, at most an hour."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a number of seconds") from None
    if not 0 < number <= 3600:  # also NaN
        raise argparse.ArgumentTypeError("the timeout is between 0 and 3600 seconds")
    return number


def positive(value: str) -> int:
    """A count of at least 1."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number
