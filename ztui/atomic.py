"""Replacing a small file so that a crash or a full disk leaves the old text or the new one, never half.

The new text goes to a temporary file beside it (0600), is fsync'd, renamed over the old name, and the
directory is fsync'd: rename is atomic within a directory, and the two fsyncs make the outcome last.
Journal entries (`ztui.statefiles`) and the saved hosts (`ztui.config`) are written this way.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable


class NotDurable(OSError):
    """The new text is in place (the rename is done), but the directory's fsync failed: it may not outlast a
    crash. Unlike any other OSError of `replace_file`, the old text is gone."""


def replace_file(dir_fd: int, name: str, data: bytes, tmp: str, *, opened: Callable[[str], int] | None = None,
                 before_rename: Callable[[], None] | None = None) -> None:
    """Replace `name` in the directory `dir_fd` with `data`, through the temporary file `tmp` (opened by
    `opened`, default: created 0600 without following a symlink); OSError as it comes, with the temporary
    file removed again, and the old text in place; `NotDurable` when only the last fsync failed.
    `before_rename` runs once the new text is whole on disk (a fault test's hook)."""
    fd = (opened(tmp) if opened is not None else
          os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dir_fd))
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        if before_rename is not None:
            before_rename()
        os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise
    try:
        os.fsync(dir_fd)
    except OSError as exc:
        raise NotDurable(exc.errno, exc.strerror) from None
