"""Regenerate screenshots/*.svg from the real app on the lab (`make screenshots`).

Runs ztui headless against the running lab hosts (starting the lab if needed), moves through it with the
same keys a user would press, and saves what the screen shows.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from ztui.cli.labhosts import lab_uris

from ztui.ui.app import ZtuiApp

OUT = Path(__file__).resolve().parent.parent / "screenshots"


async def _wait(pilot, predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await pilot.pause(0.05)
    raise SystemExit("the lab hosts did not come up in time")


async def shoot(uris: list[str]) -> None:
    app = ZtuiApp(uris)
    async with app.run_test(size=(120, 36)) as pilot:
        await _wait(pilot, lambda: all(e.connected for e in app.fleet.hosts.values()))
        await pilot.pause(0.3)
        await pilot.press("j", "l", "j", "l")  # lnxa01 expanded, its vda with the chain behind it
        await pilot.pause(0.3)
        app.save_screenshot(str(OUT / "main.svg"))
        await pilot.press("j", "j")  # a step of vda's backing chain
        await pilot.pause(0.3)
        app.save_screenshot(str(OUT / "details.svg"))
        await pilot.press("H")
        await pilot.pause(1.5)
        await pilot.press("j", "j")
        await pilot.pause(0.3)
        app.save_screenshot(str(OUT / "hostdevs.svg"))


def main() -> int:
    OUT.mkdir(exist_ok=True)
    asyncio.run(shoot(lab_uris()))
    print(f"wrote {', '.join(sorted(p.name for p in OUT.glob('*.svg')))} to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
