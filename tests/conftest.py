"""Shared test helpers: where the fixtures live."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURES = SHARED / "fixtures"
DOMAIN_FIXTURES = sorted((FIXTURES / "libvirt" / "domain").glob("*.xml"))
NODEDEV_FIXTURES = sorted((FIXTURES / "libvirt" / "nodedev").glob("*.xml"))
TESTDRIVER = FIXTURES / "virt-manager" / "testdriver-v4.1.0.xml"


@pytest.fixture(scope="session")
def testdriver_uri() -> str:
    if not TESTDRIVER.exists():
        pytest.skip(f"fixture {TESTDRIVER} is missing")
    return f"test://{TESTDRIVER}"
