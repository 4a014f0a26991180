"""What a pseudo-terminal showed: everything written to it until its last writer closed it."""

from __future__ import annotations

import os


def read_to_end(fd: int) -> bytes:
    """Read the pty's main side until it reports its other side closed (EIO, or an empty read)."""
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: every writer is gone and everything was read
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)
