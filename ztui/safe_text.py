"""Text from guests and files made safe for a terminal: control characters shown as escapes.

A guest name, a disk path or a saved XML file can hold ESC sequences or newlines; printed as they are
they would recolour or clear the user's terminal, or forge extra lines of output (a fake "attached:" line).
Every such character is written as a visible escape instead (`\\x1b`, `\\n`), so one value stays one
cell and one line.
"""

from __future__ import annotations

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_control(value: str) -> str:
    """The value with every non-printable character escaped; the common, clean case costs one check."""
    if value.isprintable():
        return value
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in value)


def _escape(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
