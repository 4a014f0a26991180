"""Regenerate screenshots/*.svg from the real app on the lab (`make screenshots`).

Runs ztui headless against the running lab hosts (starting the lab if needed), the simulated z16 host
first, and saves what the screen shows: the main tree with a Z guest's DASD, zFCP and multipath chains
open (as `make demo` starts), the details of a vfio-ccw device, and the host devices view. Each at every
size asked for (`--size 160x50 --size 80x24`, both by default): `main.svg` at the first size, `main-80x24.svg`
at the others.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from ztui.lab import ensure_lab
from ztui.ui.app import ZtuiApp
from ztui.ui.noderef import NodeRef
from ztui.ui.widgets.device_identity import device_key_at

OUT = Path(__file__).resolve().parent.parent / "screenshots"
GUEST = "zlnx01"  # running, with DASD (by-path and by-id) and multipath zFCP disks
PASSTHROUGH_GUEST = "zlnx04"  # vfio-ccw, vfio-ap and zPCI


async def _wait(pilot, predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await pilot.pause(0.05)
    raise SystemExit("the lab hosts did not come up in time")


async def shoot(uris: list[str], size: tuple[int, int], suffix: str, out: Path) -> None:
    from ztui.ui.screens.hostdevs import HostDevicesScreen

    app = ZtuiApp(uris, expand=GUEST)
    z_uri = uris[0]
    async with app.run_test(size=size) as pilot:
        await _wait(pilot, lambda: all(e.connected for e in app.fleet.hosts.values()))
        await _wait(pilot, lambda: not app._expand)  # the demo guest is open
        await pilot.pause(0.5)
        app.save_screenshot(str(out / f"main{suffix}.svg"))

        main = app.main
        assert main is not None
        entry = app.fleet.hosts[z_uri]
        guest = next(g for g in entry.guests.values() if g.name == PASSTHROUGH_GUEST)
        index = next(i for i, d in enumerate(guest.devices) if d.kind.value == "mdev-vfio-ccw")
        main.guest_tree.select_ref(NodeRef("device", z_uri, guest.uuid, device_key_at(guest.devices, index)))
        await pilot.pause(0.5)
        app.save_screenshot(str(out / f"details{suffix}.svg"))

        # on the free DASD 0.0.5c06, which `ztui attach --dasd` can hot-plug
        app.push_screen(HostDevicesScreen(app.fleet, select=(z_uri, "ccw:0.0.5c06")))
        await pilot.pause(2.0)
        app.save_screenshot(str(out / f"hostdevs{suffix}.svg"))


def size_of(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    if not (width.isdigit() and height.isdigit()):
        raise argparse.ArgumentTypeError(f"'{text}' is not COLUMNSxLINES (e.g. 80x24)")
    return int(width), int(height)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=size_of, action="append", metavar="COLUMNSxLINES",
                        help="a terminal size to shoot at (repeatable; default 160x50 and 80x24)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write them (default {OUT})")
    args = parser.parse_args()
    sizes = args.size or [(160, 50), (80, 24)]
    args.out.mkdir(exist_ok=True)
    uris = [host.uri for host in ensure_lab()]
    for i, size in enumerate(sizes):
        asyncio.run(shoot(uris, size, "" if i == 0 else f"-{size[0]}x{size[1]}", args.out))
    print(f"wrote {', '.join(sorted(p.name for p in args.out.glob('*.svg')))} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
