"""Run `ztui <command> …` from the checkout, for the umockdev tests.

Used as `python tests/host/run_cli.py hostdevs -c URI --json` inside `umockdev-run`, so the process that
reads the faked sysfs is a plain Python started from this checkout.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    from ztui.cli.main import main as ztui_main

    return ztui_main(argv)


if __name__ == "__main__":
    sys.path.insert(0, __file__.rsplit("/tests/", 1)[0])
    sys.exit(main(sys.argv[1:]))
