"""The screens on the simulated z16 host, as SVG snapshots: the lab's Z guests in a test-driver file, read
against the Z host's generated facts (registered for the URI as `--host-facts` would), so the tree shows
DASD, zFCP, OSA, HiperSockets, vfio-ccw, vfio-ap and zPCI chains exactly as `make demo` does.

Deterministic like test_snapshots.py: a fixed path, fixed UUIDs, no clock on screen.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import wait_until
from ztui.host.facts_source import forget_snapshots, use_snapshot, write_snapshot
from ztui.lab.guests import BootSpec
from ztui.lab.zguests import Z_GUESTS, z_domain_xml
from ztui.lab.zhost import z_host_facts
from ztui.ui.app import ZtuiApp
from ztui.ui.noderef import NodeRef
from ztui.ui.widgets.device_identity import device_key_at

SNAPSHOT_DIR = Path("/tmp/ztui-snapshot-zhost")
URI = f"test://{SNAPSHOT_DIR}/host.xml"


def z_testdriver_file(path: Path) -> None:
    """The lab's Z guests as a test-driver host (where every guest runs), with fixed UUIDs."""
    node = ET.Element("node")
    for guest in Z_GUESTS:
        dom = ET.fromstring(z_domain_xml(guest, BootSpec(Path("/lab/kernel/idle.img")), Path("/lab")))
        dom.set("type", "test")
        ET.SubElement(dom, "uuid").text = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ztui-lab:{guest.name}"))
        node.append(dom)
    path.write_text(ET.tostring(node, encoding="unicode"))


@pytest.fixture(autouse=True)
def z_host() -> Iterator[None]:
    SNAPSHOT_DIR.mkdir(parents=True, exist_ok=True)
    z_testdriver_file(SNAPSHOT_DIR / "host.xml")
    write_snapshot(z_host_facts(), str(SNAPSHOT_DIR / "facts.json"))
    use_snapshot(URI, str(SNAPSHOT_DIR / "facts.json"))
    yield
    forget_snapshots()


def _app() -> ZtuiApp:
    return ZtuiApp([URI], host_udev=False, expand="zlnx01")


async def _ready(pilot: Pilot[object]) -> None:
    app = pilot.app
    assert isinstance(app, ZtuiApp)
    assert await wait_until(pilot, lambda: app.fleet.hosts[URI].connected)
    assert await wait_until(pilot, lambda: not app._expand)  # zlnx01 is open to its chains
    await pilot.pause(0.1)


async def _vfio_ccw(pilot: Pilot[object]) -> None:
    await _ready(pilot)
    app = pilot.app
    assert isinstance(app, ZtuiApp) and app.main is not None
    guest = next(g for g in app.fleet.hosts[URI].guests.values() if g.name == "zlnx04")
    index = next(i for i, d in enumerate(guest.devices) if d.kind.value == "mdev-vfio-ccw")
    assert app.main.guest_tree.select_ref(NodeRef("device", URI, guest.uuid, device_key_at(guest.devices, index)))
    await pilot.pause(0.1)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_z_host_main(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(), terminal_size=size, run_before=_ready)


def test_z_vfio_ccw_details(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(), terminal_size=(120, 40), run_before=_vfio_ccw)


def test_z_host_is_labelled_and_chained(tmp_path: Path) -> None:
    """The same app, checked by content: the host line says simulated, the DASD chain is there."""
    import asyncio

    async def run() -> None:
        app = _app()
        async with app.run_test(size=(120, 40)) as pilot:
            await _ready(pilot)
            assert app.main is not None
            labels = [str(n.label) for n in app.main.guest_tree.root.children]
            assert any("simulated" in label for label in labels)
            entry = app.fleet.hosts[URI]
            guest = next(g for g in entry.guests.values() if g.name == "zlnx01")
            vda = next(d for d in guest.devices if d.target == "vda")
            assert [s.kind for s in vda.backing] == ["block", "dasd", "css"]

    asyncio.run(run())
