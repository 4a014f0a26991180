"""A real two-host lab for the whole test session, on the same code as `ztui lab start`.

The lab lives in its own directory (`/var/tmp/ztui-lab-pytest-<pid>`, or `$ZTUI_LAB_TEST_DIR`), never in
the default one, so a test run neither uses nor stops a user's demo lab, and two test runs at the same time
don't share one. Labs of test sessions that died without cleaning up are stopped first. The session's lab
is stopped when the session ends.

Tests that need it skip with the reason when the machine cannot run it (not root, no libvirtd, no
qemu-system-s390x); CI installs those, so there they run.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.lab.support import Lab, lab_unavailable
from ztui.lab.errors import LabError

TEST_DIR_PREFIX = "ztui-lab-pytest-"
TEST_DIR_PARENT = Path("/var/tmp")


def _stop_stale_test_labs() -> None:
    """Labs of earlier sessions whose pytest process is gone (killed before its teardown ran)."""
    from ztui.lab.hosts import stop_lab

    for candidate in TEST_DIR_PARENT.glob(TEST_DIR_PREFIX + "*"):
        suffix = candidate.name.removeprefix(TEST_DIR_PREFIX)
        if suffix.isdigit() and not Path("/proc", suffix).exists():
            with contextlib.suppress(LabError):
                stop_lab(candidate)


@pytest.fixture(scope="session")
def lab_base() -> Path:
    env = os.environ.get("ZTUI_LAB_TEST_DIR", "").strip()
    return Path(env) if env else TEST_DIR_PARENT / f"{TEST_DIR_PREFIX}{os.getpid()}"


@pytest.fixture(scope="session")
def lab(lab_base: Path) -> Iterator[Lab]:
    reason = lab_unavailable()
    if reason:
        pytest.skip(reason)
    from ztui.lab.hosts import start_lab, stop_lab

    _stop_stale_test_labs()
    started = time.monotonic()
    try:
        hosts = start_lab(hosts=2, base_dir=lab_base)
    except LabError as exc:
        pytest.fail(f"lab start failed: {exc}\n{exc.details}")
    elapsed = time.monotonic() - started
    try:
        simulated = {h.name: h.uri for h in hosts if h.simulated}
        yield Lab(lab_base, {h.name: h.uri for h in hosts if not h.simulated}, elapsed,
                  z_uri=simulated.get("zlab-z", ""), z_twin_uri=simulated.get("zlab-y", ""),
                  tcp_uris={h.name: h.tcp_uri for h in hosts}, ssh_uris={h.name: h.ssh_uri for h in hosts})
    finally:
        stop_lab(lab_base)


@pytest.fixture
def conn_a(lab: Lab) -> Iterator[libvirt.virConnect]:
    """A connection to zlab-a, as another administrator's virsh would have."""
    conn = libvirt.open(lab.uris["zlab-a"])
    yield conn
    conn.close()


@pytest.fixture
def conn_b(lab: Lab) -> Iterator[libvirt.virConnect]:
    """A connection to zlab-b."""
    conn = libvirt.open(lab.uris["zlab-b"])
    yield conn
    conn.close()
