"""Shared test helpers: where the fixtures live.

Every file a test reads is in the repository under tests/fixtures/ (README.md there says what each shows).
An upstream corpus beside a development checkout (`../shared/fixtures`) is an extra that only
tests/unit/test_shared_corpus.py reads; where that directory is absent the module is not collected, so a
plain clone runs the whole suite with nothing skipped for want of a file.
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
DOMAIN_FIXTURES = sorted((FIXTURES / "domain").glob("*.xml"))
NODEDEV_FIXTURES = sorted((FIXTURES / "nodedev").glob("*.xml"))
MDEVCTL_FIXTURES = FIXTURES / "mdevctl"
TESTDRIVER = FIXTURES / "testdriver" / "zhost.xml"
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"

collect_ignore = [] if SHARED_FIXTURES.is_dir() else ["unit/test_shared_corpus.py"]


def pytest_configure(config: pytest.Config) -> None:
    """Saved hosts and the lab are the user's: every test (and every ztui it starts) sees an empty config
    directory of its own and no lab unless it names one (`ZTUI_LAB_DIR`, or a lab test's own), so a
    developer's `ztui hosts` or a lab left on the machine never changes what a test opens or asks."""
    if not os.environ.get("ZTUI_TEST_CONFIG_HOME"):
        os.environ["ZTUI_TEST_CONFIG_HOME"] = tempfile.mkdtemp(prefix="ztui-test-config-")
    os.environ["XDG_CONFIG_HOME"] = os.environ["ZTUI_TEST_CONFIG_HOME"]
    if not os.environ.get("ZTUI_LAB_DIR", "").strip():
        os.environ["ZTUI_LAB_DIR"] = os.path.join(os.environ["ZTUI_TEST_CONFIG_HOME"], "no-lab")


def pytest_report_header() -> str:
    if SHARED_FIXTURES.is_dir():
        return f"extra corpus: {SHARED_FIXTURES} (tests/unit/test_shared_corpus.py)"
    return "extra corpus: ../shared/fixtures is absent, tests/unit/test_shared_corpus.py is not collected"


def domain_fixture(name: str) -> Path:
    return FIXTURES / "domain" / name


def nodedev_fixture(stem: str) -> Path:
    return FIXTURES / "nodedev" / f"{stem}.xml"


@pytest.fixture
def silent_host() -> Iterator[str]:
    """A libvirt URI whose daemon takes the connection and never says a word, as a hung or stopped libvirtd
    does: a listening socket nobody accepts on (the kernel completes the connections it queues)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    yield f"qemu+tcp://127.0.0.1:{server.getsockname()[1]}/system"
    server.close()


@pytest.fixture
def testdriver_uri(tmp_path: Path) -> str:
    """A private copy of the test-driver host file, as a URI: libvirt's test driver keeps each URI's
    host in memory for the process, so a copy per test means every test starts from the file."""
    path = tmp_path / "zhost.xml"
    path.write_bytes(TESTDRIVER.read_bytes())
    return f"test://{path}"
