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


SHARED_DATA = {
    "share/bash-completion/completions/ztui": REPO / "ztui" / "cli" / "shells" / "ztui.bash",
    "share/zsh/site-functions/_ztui": REPO / "ztui" / "cli" / "shells" / "_ztui",
    "share/fish/vendor_completions.d/ztui.fish": REPO / "ztui" / "cli" / "shells" / "ztui.fish",
    "share/man/man1/ztui.1": REPO / "docs" / "ztui.1",
}
"""What the wheel installs beside the package, where the distributions' shells and man look."""


def test_the_wheel_installs_completion_and_the_manual(tmp_path: Path) -> None:
    pytest.importorskip("hatchling", reason="the build backend is installed by `make setup`")
    from tests.wheelhouse import build_ztui_wheel

    wheel = build_ztui_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        data = f"ztui-{ztui.__version__}.data/data/"
        for installed, source in SHARED_DATA.items():
            assert archive.read(data + installed) == source.read_bytes(), installed
        assert archive.read("ztui/cli/shells/ztui.bash") == SHARED_DATA[
            "share/bash-completion/completions/ztui"].read_bytes()  # what `ztui completion bash` prints
        # the GPL asks that the licence's text goes with every copy
        assert archive.read(f"ztui-{ztui.__version__}.dist-info/licenses/COPYING") == (REPO / "COPYING").read_bytes()
        assert "License-File: COPYING" in archive.read(f"ztui-{ztui.__version__}.dist-info/METADATA").decode()


def test_the_sdist_builds_the_wheel(tmp_path: Path) -> None:
    """`make dist`'s front end: the sdist first, then the wheel from the unpacked sdist, so a file the
    wheel needs and the sdist lacks fails here (offline: the backend of this environment)."""
    pytest.importorskip("build", reason="the build front end is installed by `make setup`")
    built = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path), str(REPO)],
                           capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"ztui-{ztui.__version__}-py3-none-any.whl", f"ztui-{ztui.__version__}.tar.gz"]
    import tarfile

    with tarfile.open(tmp_path / f"ztui-{ztui.__version__}.tar.gz") as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    assert {"README.md", "COPYING", "docs/ztui.1", "styles/ztui.tcss", "tests/conftest.py", "Makefile"} <= members
    assert not any(m.startswith((".venv/", ".git/")) or "__pycache__" in m for m in members)


DEBIAN_PYTHON = Path("/usr/bin/python3")


def _distribution_bindings() -> str | None:
    """The version of the distribution's own libvirt bindings for its python3, or None."""
    if not DEBIAN_PYTHON.exists():
        return None
    probe = subprocess.run([str(DEBIAN_PYTHON), "-I", "-c",
                            "import libvirt, importlib.metadata as m; print(m.version('libvirt-python'))"],
                           capture_output=True, text=True, timeout=30, check=False)
    return probe.stdout.strip() if probe.returncode == 0 else None


def test_a_fresh_virtualenv_with_the_distributions_bindings_runs_the_wheel(tmp_path: Path) -> None:
    """The README's path for Debian 12: python3-libvirt from Debian, a virtualenv that sees the system's
    packages, the wheel installed into it without an index; then ztui runs from anywhere."""
    pytest.importorskip("hatchling", reason="the build backend is installed by `make setup`")
    bindings = _distribution_bindings()
    if bindings is None:
        pytest.skip("no python3 with the distribution's libvirt bindings (python3-libvirt; ensure-debs.sh)")
    from tests.wheelhouse import wheelhouse

    wheels = wheelhouse(tmp_path / "wheels")
    venv = tmp_path / "ztui-venv"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    subprocess.run([str(DEBIAN_PYTHON), "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120,
                   env=env)
    install = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-index", "--find-links",
                              str(tmp_path / "wheels"), "--disable-pip-version-check", str(wheels[0])],
                             capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path, check=False)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    assert "Requirement already satisfied: libvirt-python" in install.stdout  # the system's, not built

    def ztui_run(*args: str) -> str:
        ran = subprocess.run([str(venv / "bin" / "ztui"), *args], capture_output=True, text=True, timeout=60,
                             env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, check=False)
        assert ran.returncode == 0, ran.stderr
        return ran.stdout

    version = ztui_run("--version").splitlines()
    assert version[0] == f"ztui {ztui.__version__}"
    assert version[2] == f"libvirt-python {bindings}"
    tree = ztui_run("tree", "-c", "test:///default")
    assert tree.splitlines()[0].startswith("test:///default") and "test" in tree
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import ztui, libvirt; print(ztui.__file__); "
                            "print(libvirt.__file__)"], capture_output=True, text=True, env=env, cwd=tmp_path,
                           check=True).stdout.split()
    assert Path(where[0]).is_relative_to(venv) and where[1].startswith("/usr/lib/python3/")
    for installed, source in SHARED_DATA.items():
        assert (venv / installed).read_bytes() == source.read_bytes(), installed
