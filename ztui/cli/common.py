"""What every command shares: exit statuses (by their names in the manual page), one-line errors, colour
decisions."""

from __future__ import annotations

import os
import shutil
import sys
from typing import TextIO

from ztui.errors import Status
from ztui.report.tree_text import WIDTH
from ztui.safe_text import escape_control

EXIT_OK = Status.DONE
EXIT_FAILED = Status.FAILED  # libvirt refused or a connection failed
EXIT_BAD_INPUT = Status.BAD_INPUT  # nothing was changed


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

    if not sys.stdout.isatty():
        return WIDTH
    return max(WIDTH, shutil.get_terminal_size((WIDTH, 24)).columns)

