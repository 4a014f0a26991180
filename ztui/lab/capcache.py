"""A shared seed for libvirt's QEMU capabilities cache.

A cold libvirtd probes QEMU before it can define the first s390x guest (~2 s), and `getVersion()` or
`getCapabilities()` make it probe every installed qemu-system binary (~30 s). The results are cached per
daemon in `/var/cache/libvirt/qemu/capabilities`; they are equally valid for every lab daemon on this
machine (libvirt re-validates them against the binaries' timestamps and re-probes if they are stale). So
the lab keeps one seed outside any lab directory, copies it into each new daemon's cache before start, and
collects what daemons probed back into it: only the first daemon ever pays for a probe.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

log = logging.getLogger(__name__)


def _copy_newer(src_dir: Path, dst_dir: Path) -> int:
    copied = 0
    try:
        sources = [p for p in src_dir.iterdir() if p.suffix == ".xml" and p.is_file()]
    except OSError:
        return 0
    for src in sources:
        dst = dst_dir / src.name
        try:
            if dst.exists() and dst.stat().st_mtime >= src.stat().st_mtime:
                continue
            dst_dir.mkdir(parents=True, exist_ok=True)
            tmp = dst.with_name(f".{dst.name}.{os.getpid()}")
            shutil.copy2(src, tmp)
            tmp.replace(dst)
            copied += 1
        except OSError as exc:
            log.debug("capabilities cache: cannot copy %s: %s", src, exc)
    return copied


def seed_daemon(seed: Path, daemon_cache: Path) -> int:
    """Before a daemon starts: give it every capability file the seed has."""
    return _copy_newer(seed, daemon_cache)


def collect(daemon_cache: Path, seed: Path) -> int:
    """After a daemon probed: keep its results for the next daemons."""
    return _copy_newer(daemon_cache, seed)
