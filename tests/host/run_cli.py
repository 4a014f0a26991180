"""Run `ztui <command> …` with the `hostdevs` command registered, whether or not `ztui.__main__` does it yet.

Used by the umockdev tests as `python tests/host/run_cli.py hostdevs -c URI --json` inside `umockdev-run`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str]) -> int:
    import ztui.__main__ as entry

    build = entry.build_parser

    def build_with_hostdevs() -> argparse.ArgumentParser:
        parser = build()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if "hostdevs" not in sub.choices:
            from ztui.cli.hostdevs import add_hostdevs_command

            add_hostdevs_command(sub, entry._common_options())
        return parser

    entry.build_parser = build_with_hostdevs
    return entry.main(list(argv))


if __name__ == "__main__":
    sys.path.insert(0, __file__.rsplit("/tests/", 1)[0])
    sys.exit(main(sys.argv[1:]))
