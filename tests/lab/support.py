"""What the lab fixture hands to tests (kept out of conftest.py so that tests can import it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ztui.lab.errors import LabError


@dataclass(frozen=True)
class Lab:
    base: Path
    uris: dict[str, str]  # host name -> URI of the ordinary hosts (zlab-a, zlab-b), in host order
    start_seconds: float
    z_uri: str = ""  # the simulated z16 host zlab-z
    z_twin_uri: str = ""  # zlab-y, a second simulated LPAR sharing zlab-z's storage


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
