"""The umockdev fake hosts are generated from tests/host/fake_hosts.py, through the writers of the kernel's
formats; a file edited by hand, or a writer changed without the files, fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.host.fake_hosts import FILES, REPO, render
from ztui.model import HostDeviceKind
from ztui.zsysfs import attribute_of

_KIND = {"css": HostDeviceKind.CSS, "chp": HostDeviceKind.CHPID, "ccw": HostDeviceKind.CCW,
         "ccwgroup": HostDeviceKind.CCWGROUP, "mdev": HostDeviceKind.MDEV, "pci": HostDeviceKind.PCI}


@pytest.mark.parametrize("rel", sorted(FILES))
def test_each_fake_host_is_what_its_description_writes(rel: str) -> None:
    assert (REPO / rel).read_text() == render(FILES[rel]), f"run: python -m tests.host.fake_hosts ({rel})"


def _records(path: Path) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(path, properties, attributes) of each record of a umockdev file, values unescaped."""
    out = []
    for block in path.read_text().split("\n\n"):
        lines = [line for line in block.splitlines() if line]
        if not lines:
            continue
        props, attrs = {}, {}
        for line in lines[1:]:
            tag, _, rest = line.partition(": ")
            name, _, value = rest.partition("=")
            if tag == "E":
                props[name] = value
            elif tag == "A":
                attrs[name] = value.replace("\\n", "\n")
        out.append((lines[0].removeprefix("P: "), props, attrs))
    return out


@pytest.mark.parametrize("rel", sorted(FILES))
def test_every_z_attribute_of_a_fake_host_is_in_the_kernels_format(rel: str) -> None:
    checked = 0
    for path, props, attrs in _records(REPO / rel):
        subsystem = props.get("SUBSYSTEM", "")
        kind = _KIND.get(subsystem)
        if subsystem == "ap":
            kind = HostDeviceKind.AP_CARD if path.rsplit("/", 1)[1].startswith("card") else HostDeviceKind.AP_QUEUE
        if kind is None:
            continue
        for name, value in attrs.items():
            attr = attribute_of(kind, name)
            if attr is not None:
                checked += 1
                assert attr.matches(value), f"{rel}: {path} {name}={value!r} is not the kernel's {attr.format}"
                assert value.endswith("\n") or (attr.zero_bytes and value == ""), f"{path} {name}: no newline"
    assert checked > 20
