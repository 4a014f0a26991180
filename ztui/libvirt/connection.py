"""Opening libvirt connections the way virsh does, with errors as one clear line.

libvirt prints its errors to stderr by default; on a TUI screen that corrupts the display, and in a script
it duplicates the message ztui already gives. `install_error_handler` routes them to logging once per
process, before any connection is opened.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

import libvirt

from ztui.errors import Refused

log = logging.getLogger("ztui.libvirt")

DEFAULT_URI = "qemu:///system"

_handler_lock = threading.Lock()
_handler_installed = False


def install_error_handler() -> None:
    """Send libvirt's own error reports to logging instead of stderr (idempotent)."""
    global _handler_installed
    with _handler_lock:
        if _handler_installed:
            return

        def _to_log(_ctx: object, err: tuple[object, ...]) -> None:
            # err is (code, domain, message, level, str1, str2, str3, int1, int2)
            message = err[2] if len(err) > 2 else err
            log.debug("libvirt: %s", message)

        libvirt.registerErrorHandler(_to_log, None)
        _handler_installed = True


@dataclass(frozen=True)
class ConnectError(Refused):
    """A connection that could not be opened; `str()` is the one line shown to the user."""

    uri: str
    reason: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"cannot connect to {self.uri}: {self.reason}"
        return f"{text} ({self.hint})" if self.hint else text


def resolve_uris(given: list[str] | None) -> list[str]:
    """The URIs to open, in virsh's order of precedence: `-c` options, `LIBVIRT_DEFAULT_URI`, the system."""
    if given:
        return list(dict.fromkeys(given))  # keep order, drop repeats
    env = os.environ.get("LIBVIRT_DEFAULT_URI", "").strip()
    return [env or DEFAULT_URI]


def _hint(uri: str, code: int, message: str) -> str:
    text = message.lower()
    if "no such file" in text or "failed to connect socket" in text or "connection refused" in text:
        if uri.startswith("qemu"):
            return "is libvirtd running? try 'ztui --lab' for a private lab"
        return "is the daemon running?"
    if "permission denied" in text or "authentication" in text:
        return "run as root or check the socket's permissions and polkit rules"
    if "no connection driver" in text or code == libvirt.VIR_ERR_NO_CONNECT:
        return "check the URI scheme, e.g. qemu:///system or test:///path/to/host.xml"
    if uri.startswith("test://") and ("parse" in text or "xml" in text or "open" in text):
        return "a test URI needs an absolute path to a readable test-driver XML file"
    return ""


def open_connection(uri: str, readonly: bool = False) -> libvirt.virConnect:
    """Open one URI (read-only if asked) or raise ConnectError with libvirt's reason and a hint."""
    install_error_handler()
    _check_test_uri(uri)
    try:
        conn = libvirt.openReadOnly(uri) if readonly else libvirt.open(uri)
    except libvirt.libvirtError as exc:
        message = libvirt_reason(exc)
        raise ConnectError(uri, message, _hint(uri, exc.get_error_code() or 0, message)) from None
    if conn is None:  # pragma: no cover - old bindings returned None instead of raising
        raise ConnectError(uri, "libvirt returned no connection")
    return conn


def _check_test_uri(uri: str) -> None:
    """A test-driver URI names a host file; check it first, because libxml2 would print its own
    warning for a missing file straight to stderr, past libvirt's error handler."""
    parts = urlsplit(uri)
    if parts.scheme != "test" or parts.path in ("", "/default"):
        return
    if not os.path.isabs(parts.path):
        raise ConnectError(uri, "the test driver needs an absolute path", "e.g. test:///abs/path/host.xml")
    if not os.access(parts.path, os.R_OK):
        reason = "no such file" if not os.path.exists(parts.path) else "file is not readable"
        raise ConnectError(uri, f"{reason}: {parts.path}")


def libvirt_reason(exc: libvirt.libvirtError) -> str:
    """libvirt's own message for an error as one line (XML parse errors append the offending lines)."""
    text = (exc.get_error_message() or str(exc)).strip()
    return text.splitlines()[0] if text else "unknown libvirt error"
