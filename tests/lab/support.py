"""What the lab fixture hands to tests (kept out of conftest.py so that tests can import it)."""

from __future__ import annotations

import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ztui.lab.errors import LabError


@dataclass(frozen=True)
class Lab:
    base: Path
    uris: dict[str, str]  # host name -> URI of the ordinary hosts (zlab-a, zlab-b), in host order
    start_seconds: float
    z_uri: str = ""  # the simulated z16 host zlab-z
    z_twin_uri: str = ""  # zlab-y, a second simulated LPAR sharing zlab-z's storage
    tcp_uris: dict[str, str] = field(default_factory=dict)  # every host, Z hosts too -> qemu+tcp://…/system
    ssh_uris: dict[str, str] = field(default_factory=dict)  # every host -> qemu+ssh://root@127.0.0.1:PORT/system?…


def lab_unavailable() -> str | None:
    """Why this machine cannot run a lab (the skip reason), or None."""
    try:
        from ztui.lab.hosts import check_requirements
    except ImportError as exc:  # libvirt-python missing
        return f"the lab needs libvirt-python: {exc}"
    try:
        check_requirements()
    except LabError as exc:
        return str(exc)
    return None


def shared_path(lab: Lab, name: str) -> Path:
    """A fresh path on the lab's shared storage (pool `lab` on every host), unique to the calling test.

    A lab host's files are its own (its own mount namespace): an image a test attaches lives where the
    host has it, in a storage pool, like a SAN LUN that every LPAR sees — not in the test's tmp_path."""
    stem, dot, suffix = name.partition(".")
    return lab.base / "images" / f"{stem}-{uuid.uuid4().hex[:8]}{dot}{suffix}"


def shared_image(lab: Lab, name: str, size: str = "8M") -> Path:
    """A new image on the lab's shared storage, made beside libvirt (as a copy onto a share would be)."""
    path = shared_path(lab, name)
    fmt = "qcow2" if name.endswith(".qcow2") else "raw"
    subprocess.run(["qemu-img", "create", "-q", "-f", fmt, str(path), size], check=True)
    return path
