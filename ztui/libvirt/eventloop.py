"""libvirt's default event implementation, run in one daemon thread for the whole process.

Measured on these machines (docs/ARCHITECTURE.md §3): events arrive within ~5 ms this way, also while another thread
blocks in a long call, whereas libvirtaio binds to the first asyncio loop and holds events back while a
worker blocks on the same connection. `virEventRegisterDefaultImpl` must run before the first `open`
whose events or keepalive we want, so `ensure_event_loop` is called by every opener of live sessions.
"""

from __future__ import annotations

import logging
import threading

import libvirt

from ztui.libvirt.connection import install_error_handler

log = logging.getLogger("ztui.libvirt.events")

_lock = threading.Lock()
_thread: threading.Thread | None = None


def _run() -> None:
    while True:
        try:
            libvirt.virEventRunDefaultImpl()
        except libvirt.libvirtError as exc:  # pragma: no cover - a broken loop is logged, not fatal
            log.warning("libvirt event loop: %s", exc)


def ensure_event_loop() -> None:
    """Register the default event implementation once and start its thread (idempotent, thread-safe)."""
    global _thread
    with _lock:
        if _thread is not None:
            return
        install_error_handler()
        libvirt.virEventRegisterDefaultImpl()
        _thread = threading.Thread(target=_run, name="libvirt-events", daemon=True)
        _thread.start()
