"""What every command shares: exit statuses, one-line errors, colour decisions."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from ztui.report.safe_text import escape_control

EXIT_OK = 0
EXIT_FAILED = 1  # libvirt refused or a connection failed
EXIT_BAD_INPUT = 2  # nothing was changed

NO_HOSTS = {"opens_hosts": False}
"""The parser default of a command that opens no host -c, -g or the saved hosts name (`hosts`, `lab`,
`completion`, resolving a journal entry, which names its own): the hosts are not settled for it, so a broken
saved-hosts config does not stop it (`ztui.cli.main`)."""


def error(message: str, stream: TextIO | None = None) -> None:
    """One line on stderr, prefixed like other Unix tools; control characters (from a guest name, a
    path) are escaped, so the message stays one line and cannot steer the terminal."""
    print(f"ztui: {escape_control(message)}", file=stream or sys.stderr)


def use_colour(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def text_width() -> int:
    """The width text output fits: the terminal's on a terminal (at least 80), else 80."""
    import shutil

    from ztui.report.tree_text import WIDTH

    if not sys.stdout.isatty():
        return WIDTH
    return max(WIDTH, shutil.get_terminal_size((WIDTH, 24)).columns)

