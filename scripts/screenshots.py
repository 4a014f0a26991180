"""Regenerate screenshots/*.svg from the real app on the lab (`make screenshots`).

Runs ztui headless against the running lab hosts (starting the lab if needed), the simulated z16 host
first, and saves what the screen shows: the main tree with a Z guest's DASD, zFCP and multipath chains
open (as `make demo` starts), the details of a vfio-ccw device, and the host devices view.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from ztui.lab import ensure_lab
from ztui.ui.app import ZtuiApp
from ztui.ui.widgets.guest_tree import NodeRef, device_key_at

OUT = Path(__file__).resolve().parent.parent / "screenshots"
GUEST = "zlnx01"  # running, with DASD (by-path and by-id) and multipath zFCP disks
PASSTHROUGH_GUEST = "zlnx04"  # vfio-ccw, vfio-ap and zPCI


async def _wait(pilot, predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await pilot.pause(0.05)
    raise SystemExit("the lab hosts did not come up in time")


async def shoot(uris: list[str]) -> None:
    app = ZtuiApp(uris, expand=GUEST)
    z_uri = uris[0]
    async with app.run_test(size=(120, 40)) as pilot:
        await _wait(pilot, lambda: all(e.connected for e in app.fleet.hosts.values()))
        await _wait(pilot, lambda: not app._expand)  # the demo guest is open
        await pilot.pause(0.5)
        app.save_screenshot(str(OUT / "main.svg"))

        main = app.main
        assert main is not None
        entry = app.fleet.hosts[z_uri]
        guest = next(g for g in entry.guests.values() if g.name == PASSTHROUGH_GUEST)
        index = next(i for i, d in enumerate(guest.devices) if d.kind.value == "mdev-vfio-ccw")
        main.guest_tree.select_ref(NodeRef("device", z_uri, guest.uuid, device_key_at(guest.devices, index)))
        await pilot.pause(0.5)
        app.save_screenshot(str(OUT / "details.svg"))

        await pilot.press("H")
        await pilot.pause(1.5)
        await pilot.press(*["j"] * 10)  # the free DASD 0.0.5c06, which `ztui attach --dasd` can hot-plug
        await pilot.pause(0.3)
        app.save_screenshot(str(OUT / "hostdevs.svg"))


def main() -> int:
    OUT.mkdir(exist_ok=True)
    asyncio.run(shoot([host.uri for host in ensure_lab()]))
    print(f"wrote {', '.join(sorted(p.name for p in OUT.glob('*.svg')))} to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
