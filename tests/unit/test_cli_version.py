"""`ztui --version`: ztui's, Textual's, the bindings' and the libvirt library's versions, without building
any command's parser or importing Textual."""

from __future__ import annotations

import argparse
import subprocess
import sys
from importlib import metadata

import pytest

import ztui
from ztui.cli import main

libvirt = pytest.importorskip("libvirt", reason="libvirt-python is not installed")


def test_every_version_is_printed() -> None:
    result = subprocess.run([sys.executable, "-m", "ztui", "--version"], capture_output=True, text=True,
                            timeout=30, check=True)
    number = libvirt.getVersion()
    assert result.stdout.splitlines() == [
        f"ztui {ztui.__version__}",
        f"Textual {metadata.version('textual')}",
        f"libvirt-python {metadata.version('libvirt-python')}",
        f"libvirt {number // 1_000_000}.{number // 1000 % 1000}.{number % 1000}",
        f"Python {sys.version.split()[0]}",
    ]
    assert result.stderr == ""


def test_version_builds_no_command_and_imports_no_textual() -> None:
    probe = ("import sys\nfrom ztui.cli import main\n"
             "try:\n    main.main(['-c', 'test:///default', '--version'])\nexcept SystemExit as e:\n"
             "    assert e.code == 0\n"
             "print(sorted(m for m in sys.modules if m.startswith(('textual', 'ztui.cli.', 'ztui.ops'))))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30, check=True)
    loaded = result.stdout.splitlines()[-1]
    assert "textual" not in loaded and "ztui.ops" not in loaded
    assert "ztui.cli.tree" not in loaded and "ztui.cli.completion" not in loaded
    (commands,) = [a for a in main.build_parser(["--version"])._actions if isinstance(a, argparse._SubParsersAction)]
    assert not commands.choices
