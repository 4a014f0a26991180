"""Wheels for installing ztui without a package index: ztui's own, built from the checkout, and its pure-Python
dependencies, packed again from this interpreter's installed copies (the versions the tests run with).

An installed pure-Python distribution is its wheel unpacked: the files its RECORD lists, with the
dist-info's WHEEL file naming the tag. Packing them again (without what the installer added: INSTALLER,
REQUESTED, direct_url.json, byte code, entry-point scripts) gives a wheel pip installs like the original,
offline. libvirt-python is left out on purpose: where these wheels are used, the bindings are the
distribution's own (python3-libvirt) in the system site-packages.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
INSTALLER_FILES = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
SYSTEM_PROVIDED = {"libvirt-python"}


def build_ztui_wheel(out: Path) -> Path:
    """ztui's wheel, built from the checkout with the project's own backend (no network)."""
    out.mkdir(parents=True, exist_ok=True)
    built = subprocess.run(
        [sys.executable, "-c", "import sys; from hatchling.build import build_wheel; print(build_wheel(sys.argv[1]))",
         str(out)], cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    return out / built.stdout.strip().splitlines()[-1]


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def repack(dist: metadata.Distribution, out: Path) -> Path:
    """One installed pure-Python distribution as a wheel in `out`."""
    files = dist.files or []
    info_dir = next(f.parts[0] for f in files if f.parts[0].endswith(".dist-info"))
    wheel_meta = Parser().parsestr(dist.read_text("WHEEL") or "")
    if wheel_meta.get("Root-Is-Purelib", "").lower() != "true":
        raise ValueError(f"{dist.metadata['Name']} is not pure Python")
    tag = wheel_meta.get_all("Tag")[0]
    name = dist.metadata["Name"].replace("-", "_").replace(".", "_")
    wheel = out / f"{name}-{dist.version}-{tag}.whl"
    records = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            member = file.as_posix()
            if member.startswith("..") or "__pycache__" in file.parts or member.endswith(".pyc"):
                continue  # scripts the installer made, byte code
            if file.parts[0] == info_dir and file.name in INSTALLER_FILES:
                continue
            data = Path(str(file.locate())).read_bytes()
            archive.writestr(member, data)
            records.append(_record_line(member, data))
        records.append(f"{info_dir}/RECORD,,")
        archive.writestr(f"{info_dir}/RECORD", "\n".join(records) + "\n")
    return wheel


def _requirements(dist: metadata.Distribution, extras: set[str]) -> list[Requirement]:
    wanted = []
    for text in dist.requires or []:
        req = Requirement(text)
        if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in extras or {""}):
            wanted.append(req)
    return wanted


def wheelhouse(out: Path) -> list[Path]:
    """ztui's wheel and a wheel of every dependency it needs at run time (but the libvirt bindings)."""
    ztui_wheel = build_ztui_wheel(out)
    with zipfile.ZipFile(ztui_wheel) as archive:
        meta_name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        ztui_meta = Parser().parsestr(archive.read(meta_name).decode())
    todo = [Requirement(r) for r in ztui_meta.get_all("Requires-Dist") or []
            if Requirement(r).marker is None]
    done: dict[str, Path] = {}
    extras_done: dict[str, set[str]] = {}
    while todo:
        req = todo.pop()
        key = req.name.lower().replace("_", "-")
        if key in SYSTEM_PROVIDED:
            continue
        extras = set(req.extras) - extras_done.get(key, set())
        if key in done and not extras:
            continue
        dist = metadata.distribution(req.name)
        if key not in done:
            done[key] = repack(dist, out)
        extras_done.setdefault(key, set()).update(extras)
        todo += _requirements(dist, extras)
    return [ztui_wheel, *sorted(done.values())]
