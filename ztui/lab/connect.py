"""Opening a connection to a lab host, with libvirt's own error printing routed to logging.

libvirt prints every error to stderr unless a handler is registered; the lab's CLI prints one line per
failure itself, and the TUI must never get stray text on its screen.
"""

from __future__ import annotations

import logging
import threading

import libvirt

from ztui.lab.errors import LabError

log = logging.getLogger(__name__)

_lock = threading.Lock()
_installed = False


def _to_log(_ctx: object, err: tuple[object, ...]) -> None:
    log.debug("libvirt: %s", err[2] if len(err) > 2 else err)


def quiet_libvirt() -> None:
    """Register the logging error handler once per process."""
    global _installed
    with _lock:
        if not _installed:
            libvirt.registerErrorHandler(_to_log, None)
            _installed = True


def open_host(uri: str) -> libvirt.virConnect:
    quiet_libvirt()
    try:
        return libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise LabError(f"cannot connect to {uri}: {exc.get_error_message()}") from exc
