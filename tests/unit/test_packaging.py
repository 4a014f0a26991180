"""Packaging: the stylesheets are found from the checkout, and a built wheel carries them inside `ztui/`."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import ztui
from ztui.ui.resources import styles_dir, stylesheets

REPO = Path(__file__).resolve().parents[2]


def test_stylesheets_found_from_the_checkout() -> None:
    names = [path.name for path in stylesheets()]
    assert "ztui.tcss" in names
    assert all(path.is_file() for path in stylesheets())
    if Path(ztui.__file__).resolve().parent == REPO / "ztui":  # editable install / checkout on sys.path
        assert styles_dir() == REPO / "styles"
        assert stylesheets() == sorted((REPO / "styles").glob("*.tcss"))


def test_wheel_carries_the_stylesheets(tmp_path: Path) -> None:
    """Build the wheel with the project's own backend (no network), then use it from an unpacked copy."""
    pytest.importorskip("hatchling", reason="the build backend is installed by `make setup`")
    dist = tmp_path / "dist"
    dist.mkdir()
    built = subprocess.run(
        [sys.executable, "-c", "import sys; from hatchling.build import build_wheel; print(build_wheel(sys.argv[1]))",
         str(dist)],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )
    assert built.returncode == 0, built.stderr
    wheel = dist / built.stdout.strip().splitlines()[-1]

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for sheet in sorted((REPO / "styles").glob("*.tcss")):
            member = f"ztui/styles/{sheet.name}"
            assert member in names, f"{member} is not in {wheel.name}"
            assert archive.read(member) == sheet.read_bytes()
        assert "ztui/ui/resources.py" in names
        assert not any(name.startswith("styles/") for name in names), "styles/ must live inside ztui/"
        archive.extractall(tmp_path / "site")

    # the unpacked wheel alone on sys.path (-S: no site-packages, so neither the editable install nor
    # Textual can be imported): resources must resolve inside it, with nothing but the standard library
    probe = (
        "import ztui, ztui.ui.resources as r\n"
        "print(ztui.__file__)\n"
        "print(r.styles_dir())\n"
        "print(*[p.name for p in r.stylesheets()], sep=',')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    ran = subprocess.run([sys.executable, "-S", "-c", probe], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=30, check=False)
    assert ran.returncode == 0, ran.stderr
    module_file, found_dir, found_names = ran.stdout.splitlines()
    site = (tmp_path / "site").resolve()
    assert Path(module_file).resolve().is_relative_to(site)
    assert Path(found_dir) == site / "ztui" / "styles"
    assert "ztui.tcss" in found_names.split(",")


def test_the_screenshot_script_imports() -> None:
    """`make screenshots` runs only by hand: its imports are checked here, so a rename elsewhere shows."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("screenshots", REPO / "scripts" / "screenshots.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(module.main)
