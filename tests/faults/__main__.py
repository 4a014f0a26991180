"""`python -m tests.faults`: start a private two-host lab, run the fault matrix, print the table.

    python -m tests.faults [--tries N] [--seed S] [--budget SECONDS] [--only TEXT] [--keep-lab DIR]

Exit status 0 only when every outcome was correct and nothing was lost or falsely reported.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.faults import hotplug, migrate  # noqa: F401  (they register their scenarios)
from tests.faults.harness import Lab, run, table


def main() -> int:
    parser = argparse.ArgumentParser(prog="make faults", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tries", type=int, default=240, help="tries in all (default 240)")
    parser.add_argument("--seed", type=int, default=int(time.time()), help="random seed (default: the time)")
    parser.add_argument("--budget", type=float, default=1020.0, help="stop starting tries after this many s")
    parser.add_argument("--only", default="", help="only scenarios whose name contains this")
    parser.add_argument("--lab-dir", default="", help="lab directory (default /var/tmp/ztui-lab-faults-PID)")
    args = parser.parse_args()

    from ztui.lab.hosts import start_lab, stop_lab
    from ztui.libvirt.eventloop import ensure_event_loop

    base = Path(args.lab_dir or f"/var/tmp/ztui-lab-faults-{os.getpid()}")
    work = Path(tempfile.mkdtemp(prefix="ztui-faults-"))
    ensure_event_loop()
    started = time.monotonic()
    hosts = start_lab(hosts=2, base_dir=base)
    lab = Lab(base, {h.name: h.uri for h in hosts})
    print(f"fault bench: seed {args.seed}, lab {base}, work {work}", flush=True)
    try:
        rows = run(lab, work, args.tries, args.seed, args.budget, args.only,
                   log=lambda line: print(line, flush=True))
    finally:
        stop_lab(base)
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{table(rows)}\n\n{time.monotonic() - started:.0f} s, seed {args.seed}")
    bad = sum(r.tries - r.correct + r.devices_lost + r.images_lost + r.false_reports for r in rows.values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
