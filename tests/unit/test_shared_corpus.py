"""An extra corpus: the upstream libvirt and virt-manager test files kept beside a development checkout
(`../shared/fixtures`, not part of this repository and never copied into it).

The suite does not need them: every behaviour is tested on tests/fixtures. Where the directory is there,
these tests run the same invariants over about a hundred files written by others, which finds readings the
project's own fixtures did not think of. Where it is not (a plain clone), tests/conftest.py does not
collect this module at all, and the pytest header says so: nothing is skipped for want of a file.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

import tests.unit.test_devxml as devxml_tests
import tests.unit.test_domxml as domxml_tests
import tests.unit.test_fast_paths as fast_path_tests
import tests.unit.test_nodedev as nodedev_tests
from tests.conftest import SHARED_FIXTURES
from ztui.host.inventory import build_inventory
from ztui.host.resolve import resolve_guest
from ztui.libvirtxml.domain import parse_domain
from ztui.libvirtxml.nodedev import _INTERNAL_ERROR, parse_nodedev, parse_nodedev_text
from ztui.model import HostDeviceKind

DOMAINS = sorted((SHARED_FIXTURES / "libvirt" / "domain").glob("*.xml"))
NODEDEVS = sorted((SHARED_FIXTURES / "libvirt" / "nodedev").glob("*.xml"))
MDEVCTL_MULTIPLE = SHARED_FIXTURES / "libvirt" / "mdevctl" / "mdevctl-list-multiple.out.xml"
TESTDRIVER = SHARED_FIXTURES / "virt-manager" / "testdriver-v4.1.0.xml"

# upstream files with a quirk ztui reports: a PCI bus number of 4294967295
NODEDEV_WARNS = {"pci_0000_00_02_0_header_type"}


def test_the_corpus_is_there() -> None:
    assert len(DOMAINS) >= 30 and len(NODEDEVS) >= 30 and MDEVCTL_MULTIPLE.is_file() and TESTDRIVER.is_file()


@pytest.mark.parametrize("path", DOMAINS, ids=lambda p: p.name)
def test_domain_invariants(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each device element is one known device, the line cut equals expat's offsets, a second reading
    gives the same guest, specs round-trip, and the resolver takes every device without an error."""
    domxml_tests.test_every_device_element_is_one_device(path)
    fast_path_tests.test_line_cut_equals_expat_offsets(path)
    fast_path_tests.test_a_document_read_again_gives_the_guest_a_first_reading_gives(path, monkeypatch)
    devxml_tests.test_round_trip_over_fixtures(path)
    guest = parse_domain(path.read_bytes())
    resolve_guest(guest, build_inventory())


@pytest.mark.parametrize("path", NODEDEVS, ids=lambda p: p.stem)
def test_nodedev_invariants(path: Path) -> None:
    text = path.read_text()
    dev = parse_nodedev(text)
    assert dev.name == ET.fromstring(text).findtext("name")
    assert dev.id and dev.xml == text.strip()
    assert dev.kind is not HostDeviceKind.OTHER, dev.warnings
    assert not any(_INTERNAL_ERROR in w for w in dev.warnings)
    if "-invalid" in path.stem:
        assert dev.warnings, "an invalid file must leave a warning"
    else:
        if path.stem not in NODEDEV_WARNS:
            assert dev.warnings == ()
        nodedev_tests.z_nodedev_invariants(text)


def test_mdevctl_concatenated_output() -> None:
    devs = parse_nodedev_text(MDEVCTL_MULTIPLE.read_text())
    assert len(devs) == 5 and {d.kind for d in devs} == {HostDeviceKind.MDEV}
    assert all(len(d.id) == 36 and not d.warnings for d in devs)


def test_virt_manager_test_driver_host() -> None:
    """virt-manager's host file: every node device parses, and `ztui tree --json` lists every guest with
    as many devices as libvirt's live XML has."""
    libvirt: Any = pytest.importorskip("libvirt", reason="libvirt-python is not installed")
    uri = f"test://{TESTDRIVER}"
    conn = libvirt.openReadOnly(uri)
    try:
        devs = [parse_nodedev(d.XMLDesc(0)) for d in conn.listAllDevices(0)]
        expected = {}
        for dom in conn.listAllDomains(0):
            devices = ET.fromstring(dom.XMLDesc(0)).find("devices")
            expected[dom.name()] = 0 if devices is None else sum(1 for c in devices if c.tag != "emulator")
    finally:
        conn.close()
    assert len(devs) == 92 and not any(_INTERNAL_ERROR in w for d in devs for w in d.warnings)
    assert collections.Counter(d.kind for d in devs)[HostDeviceKind.MDEV] == 5
    result = subprocess.run([sys.executable, "-m", "ztui", "tree", "-c", uri, "--json"], capture_output=True,
                            text=True, timeout=60, env=dict(os.environ), stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    (host,) = json.loads(result.stdout)["hosts"]
    assert {g["name"]: len(g["devices"]) for g in host["guests"]} == expected

