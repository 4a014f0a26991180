"""Opening a connection to a lab host, with libvirt's own error printing routed to logging.

libvirt prints every error to stderr unless a handler is registered; the lab's CLI prints one line per
failure itself, and the TUI must never get stray text on its screen.
"""

from __future__ import annotations

import libvirt

from ztui.lab.errors import LabError
from ztui.libvirt.connection import install_error_handler


def open_host(uri: str) -> libvirt.virConnect:
    install_error_handler()  # the process's one handler, shared with ztui proper
    try:
        return libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise LabError(f"cannot connect to {uri}: {exc.get_error_message()}") from exc
