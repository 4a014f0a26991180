"""A real Linux for one lab guest: Debian's s390x kernel and a busybox initramfs.

With it a user can watch a hotplugged disk appear inside a guest (`/sys/bus/ccw/devices/0.0.xxxx`); the
idle kernel has no inside to look at. It boots to a shell on the SCLP console in a few seconds under TCG.

The packages come from Debian's archive for architecture s390x through `apt-get` with a private state
(its own sources list, lists, cache and an empty dpkg status): the host's dpkg and apt state are never
touched, nothing is installed. `dpkg-deb --fsys-tarfile` only reads the packages. The kernel, the busybox
binary and the built initramfs are cached, so the network is needed only once.
"""

from __future__ import annotations

import io
import json
import logging
import lzma
import os
import re
import shutil
import stat
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

from ztui.lab.errors import LabError
from ztui.lab.guests import BootSpec

log = logging.getLogger(__name__)

ENV_MIRROR = "ZTUI_LAB_DEBIAN_MIRROR"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
SECURITY_MIRROR = "http://deb.debian.org/debian-security"
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
KERNEL_META = "linux-image-s390x"
BUSYBOX = "busybox-static"
CMDLINE = "console=ttysclp0 quiet"

#: drivers for the lab's devices; those the kernel has as modules go into the initramfs with what they
#: need (from the package's modules.dep)
MODULES = ("virtio_blk", "virtio_scsi", "sd_mod", "virtio_net", "virtio_balloon")

INIT_SCRIPT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in @MODULES@; do
    [ -f /lib/modules/$m.ko ] && insmod /lib/modules/$m.ko 2>/dev/null
done
mdev -s 2>/dev/null
echo
echo "ztui lab: Debian $(uname -r) on s390x, busybox shell; poweroff -f to stop."
echo "ccw devices: $(ls /sys/bus/ccw/devices | tr '\n' ' ')"
# Report ccw devices as they come and go, so a hotplug can be watched from this console.
(
    old=" $(ls /sys/bus/ccw/devices | tr '\n' ' ') "
    while sleep 1; do
        new=" $(ls /sys/bus/ccw/devices | tr '\n' ' ') "
        [ "$new" = "$old" ] && continue
        for d in $new; do
            case "$old" in *" $d "*) ;; *) echo "ztui lab: ccw device $d added";; esac
        done
        for d in $old; do
            case "$new" in *" $d "*) ;; *) echo "ztui lab: ccw device $d removed";; esac
        done
        old="$new"
    done
) &
while true; do
    setsid cttyhack sh -l
done
"""


def _apt_dir(cache: Path) -> Path:
    return cache / "apt"


def _codename() -> str:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return "bookworm"
    match = re.search(r"^VERSION_CODENAME=\"?([a-z]+)", text, re.M)
    return match.group(1) if match else "bookworm"


def _apt_options(apt: Path) -> list[str]:
    """Everything apt would otherwise read or write in /var/lib/apt, /var/cache/apt, /etc/apt/sources*."""
    return [
        "-q", "-o", f"Dir::State={apt / 'state'}",
        "-o", f"Dir::State::status={apt / 'state' / 'status'}",
        "-o", f"Dir::Cache={apt / 'cache'}",
        "-o", f"Dir::Etc::SourceList={apt / 'sources.list'}",
        "-o", f"Dir::Etc::SourceParts={apt / 'sources.list.d'}",
        "-o", f"Dir::Etc::Preferences={apt / 'preferences'}",
        "-o", f"Dir::Etc::PreferencesParts={apt / 'preferences.d'}",
        "-o", "APT::Architecture=s390x", "-o", "APT::Architectures=s390x",
        "-o", "Acquire::Languages=none", "-o", "Debug::NoLocking=true",
        "-o", "APT::Sandbox::User=root",
    ]


def _prepare_apt(apt: Path) -> None:
    if not KEYRING.exists():
        raise LabError(f"--linux needs Debian's archive keyring {KEYRING} (package debian-archive-keyring)")
    for sub in ("state/lists/partial", "cache/archives/partial", "sources.list.d", "preferences.d"):
        (apt / sub).mkdir(parents=True, exist_ok=True)
    (apt / "state" / "status").touch()
    mirror = os.environ.get(ENV_MIRROR, "").strip() or DEFAULT_MIRROR
    code = _codename()
    opts = f"[arch=s390x signed-by={KEYRING}]"
    (apt / "sources.list").write_text(
        f"deb {opts} {mirror} {code} main\n"
        f"deb {opts} {mirror} {code}-updates main\n"
        f"deb {opts} {SECURITY_MIRROR} {code}-security main\n")


def _run(args: list[str], cwd: Path | None = None) -> str:
    try:
        result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)
    except FileNotFoundError as exc:
        raise LabError(f"--linux needs {args[0]} (it downloads Debian packages)") from exc
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"{args[0]} timed out") from exc
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-10:])
        raise LabError(f"{' '.join(args[:1] + args[-2:])} failed", details=tail)
    return result.stdout


def _apt_ready(cache: Path) -> list[str]:
    """apt's options for the private state under `cache`, its package lists read."""
    apt = _apt_dir(cache)
    _prepare_apt(apt)
    opts = _apt_options(apt)
    log.info("--linux: reading Debian's s390x package lists")
    _run(["apt-get", *opts, "update"])
    return opts


def _download(cache: Path) -> tuple[Path, Path]:
    """The kernel and busybox packages of the current archive, downloaded into the cache."""
    opts = _apt_ready(cache)
    meta = _run(["apt-cache", *opts, "depends", "--no-recommends", "--no-suggests", KERNEL_META])
    match = re.search(r"Depends: (linux-image-[0-9][^\s]*-s390x)", meta)
    if not match:
        raise LabError(f"cannot find the kernel package behind {KERNEL_META}", details=meta)
    kernel_pkg = match.group(1)
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    log.info("--linux: downloading %s and %s", kernel_pkg, BUSYBOX)
    _run(["apt-get", *opts, "download", kernel_pkg, BUSYBOX], cwd=debs)

    def newest(prefix: str) -> Path:
        found = sorted(debs.glob(f"{prefix}_*_s390x.deb"), key=lambda p: p.stat().st_mtime)
        if not found:
            raise LabError(f"apt-get download did not produce {prefix}")
        return found[-1]

    return newest(kernel_pkg), newest(BUSYBOX)


def _members(deb: Path, want: re.Pattern[str],
             visit: Callable[[str, bytes], None] | None = None) -> dict[str, bytes]:
    """Files of a package whose path matches, read through `dpkg-deb --fsys-tarfile` (no install).

    With `visit`, every match is handed to it and only non-module files are kept (memory stays small).
    """
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    found: dict[str, bytes] = {}
    with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
        for member in tar:
            name = member.name.removeprefix("./")
            if not (member.isfile() and want.search(name)):
                continue
            data = tar.extractfile(member)
            if data is None:
                continue
            content = data.read()
            if visit is not None:
                visit(name, content)
                if ".ko" in name:
                    continue
            found[name] = content
    if proc.wait() != 0:
        raise LabError(f"dpkg-deb cannot read {deb}")
    return found


def _cpio_newc(entries: list[tuple[str, int, bytes, int]]) -> bytes:
    """An initramfs archive ("newc" cpio): (path, mode, data, rdev) per entry, no external tool."""
    out = io.BytesIO()

    def add(name: str, mode: int, data: bytes, rdev: int, ino: int) -> None:
        encoded = name.encode() + b"\0"
        fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, os.major(rdev), os.minor(rdev), len(encoded), 0)
        out.write(b"070701" + b"".join(f"{v:08x}".encode() for v in fields) + encoded)
        out.write(b"\0" * (-out.tell() % 4))
        out.write(data)
        out.write(b"\0" * (-out.tell() % 4))

    for ino, (name, mode, data, rdev) in enumerate(entries, start=1):
        add(name, mode, data, rdev, ino)
    add("TRAILER!!!", 0, b"", 0, 0)
    return out.getvalue()


def build_initramfs(busybox: bytes, modules: list[tuple[str, bytes]]) -> bytes:
    """busybox, /init and the modules; /init loads them in the given (dependency) order."""
    dirs = ["bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules"]
    entries: list[tuple[str, int, bytes, int]] = [(d, stat.S_IFDIR | 0o755, b"", 0) for d in dirs]
    entries.append(("dev/console", stat.S_IFCHR | 0o600, b"", os.makedev(5, 1)))
    entries.append(("bin/busybox", stat.S_IFREG | 0o755, busybox, 0))
    script = INIT_SCRIPT.replace("@MODULES@", " ".join(name for name, _ in modules))
    entries.append(("init", stat.S_IFREG | 0o755, script.encode(), 0))
    for name, data in modules:
        entries.append((f"lib/modules/{name}.ko", stat.S_IFREG | 0o644, data, 0))
    return _cpio_newc(entries)


_DEPENDS = re.compile(rb"(?:^|\0)depends=([A-Za-z0-9_,-]*)\0")


def module_depends(data: bytes) -> list[str]:
    """The `depends=` entry of a module's .modinfo section (what depmod would put in modules.dep)."""
    match = _DEPENDS.search(data)
    if not match or not match.group(1):
        return []
    return [name.decode().replace("-", "_") for name in match.group(1).split(b",")]


def module_closure(depends: dict[str, list[str]], wanted: tuple[str, ...]) -> list[str]:
    """The wanted module names and everything they need, dependencies first; names the kernel does not
    have as modules (built in) are left out."""
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order or name not in depends:
            return
        for dep in depends[name]:
            visit(dep)
        order.append(name)

    for name in wanted:
        visit(name)
    return order


def _module_name(path: str) -> str:
    return Path(path).name.split(".ko")[0].replace("-", "_")


def _module_bytes(data: bytes, path: str) -> bytes:
    return lzma.decompress(data) if path.endswith(".xz") else data


def _build(cache: Path) -> dict[str, str]:
    kernel_deb, busybox_deb = _download(cache)
    # Pass 1: the kernel, and every module's dependencies (Debian ships no modules.dep: depmod makes it).
    depends: dict[str, list[str]] = {}
    paths: dict[str, str] = {}

    def note(path: str, data: bytes) -> None:
        if ".ko" in path:
            name = _module_name(path)
            depends[name] = module_depends(_module_bytes(data, path))
            paths[name] = path

    first = _members(kernel_deb, re.compile(r"^boot/vmlinuz-|\.ko(\.xz)?$"), visit=note)
    vmlinuz_name = next((name for name in first if name.startswith("boot/vmlinuz-")), None)
    if vmlinuz_name is None:
        raise LabError(f"{kernel_deb.name} has no /boot/vmlinuz")
    version = vmlinuz_name.removeprefix("boot/vmlinuz-")
    needed = module_closure(depends, MODULES)
    # Pass 2: just those modules.
    wanted = re.compile("^(" + "|".join(re.escape(paths[n]) for n in needed) + ")$") if needed else None
    files = _members(kernel_deb, wanted) if wanted else {}
    modules = [(n, _module_bytes(files[paths[n]], paths[n])) for n in needed if paths[n] in files]
    busybox = _members(busybox_deb, re.compile(r"^bin/busybox$")).get("bin/busybox")
    if busybox is None:
        raise LabError(f"{busybox_deb.name} has no /bin/busybox")
    built = cache / "boot"
    built.mkdir(parents=True, exist_ok=True)
    (built / "vmlinuz").write_bytes(first[vmlinuz_name])
    (built / "initrd.img").write_bytes(build_initramfs(busybox, modules))
    manifest = {"kernel": version, "kernel_deb": kernel_deb.name, "busybox_deb": busybox_deb.name,
                "modules": " ".join(name for name, _ in modules)}
    (built / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    # Once built in, neither the packages nor the package lists are needed any more.
    shutil.rmtree(cache / "debs", ignore_errors=True)
    shutil.rmtree(_apt_dir(cache), ignore_errors=True)
    return manifest


def linux_boot(cache: Path, out: Path) -> BootSpec:
    """Kernel and initramfs for the Linux guest, copied into the lab (`out`); downloaded only once."""
    built = cache / "boot"
    if not (built / "manifest.json").exists():
        manifest = _build(cache)
        log.info("--linux: built Debian kernel %s with busybox", manifest["kernel"])
    out.mkdir(parents=True, exist_ok=True)
    for name in ("vmlinuz", "initrd.img"):
        shutil.copyfile(built / name, out / name)
    return BootSpec(kernel=out / "vmlinuz", initrd=out / "initrd.img", cmdline=CMDLINE)


# --- a Debian userland with Python and the libvirt bindings --------------------------------------------

PYTHON_PACKAGES = ("python3-libvirt", "python3-venv")
"""What an administrator installs on Debian to run ztui from a wheel: Python, the distribution's libvirt
bindings (and the libvirt library they load), and venv with its bundled pip."""

USERLAND_ROOT = "debian"
"""Where the userland lies in the guest's initramfs (`chroot /debian`), beside busybox's own /bin."""

_SKIPPED = re.compile(r"^usr/share/(doc|man|info|locale|lintian)/")
"""What no program reads: left out of the initramfs, which the guest holds in memory."""


def _fsys_entries(deb: Path, prefix: str, seen: dict[str, bytes]) -> list[tuple[str, int, bytes, int]]:
    """A package's files, directories and symbolic links as initramfs entries under `prefix` (no install:
    `dpkg-deb --fsys-tarfile` only reads it). A hard link gets the data of the file it links to."""
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    entries: list[tuple[str, int, bytes, int]] = []
    with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
        for member in tar:
            name = member.name.removeprefix("./").rstrip("/")
            if not name or _SKIPPED.match(name + "/"):
                continue
            path = f"{prefix}/{name}"
            if member.isdir():
                entries.append((path, stat.S_IFDIR | (member.mode & 0o7777), b"", 0))
            elif member.issym():
                entries.append((path, stat.S_IFLNK | 0o777, member.linkname.encode(), 0))
            elif member.islnk():
                target = member.linkname.removeprefix("./")
                entries.append((path, stat.S_IFREG | (member.mode & 0o7777), seen.get(target, b""), 0))
            elif member.isfile():
                data = tar.extractfile(member)
                content = data.read() if data is not None else b""
                seen[name] = content
                entries.append((path, stat.S_IFREG | (member.mode & 0o7777), content, 0))
    if proc.wait() != 0:
        raise LabError(f"dpkg-deb cannot read {deb}")
    return entries


def python_userland(cache: Path) -> Path:
    """An initramfs piece (newc cpio) with Debian's s390x Python, libvirt bindings and venv, everything they
    depend on, under /debian; made once from the archive's packages and kept in `cache`.

    Appended to the Linux guest's initramfs it gives the busybox shell a Debian system to `chroot` into,
    where ztui is installed from a wheel as on any Debian host (the packages are only unpacked: no
    maintainer script runs, so Python compiles its byte code at first use)."""
    built = cache / "userland.cpio"
    manifest = cache / "manifest.json"
    if built.exists() and manifest.exists():
        return built
    opts = _apt_ready(cache)
    archives = cache / "apt" / "cache" / "archives"
    log.info("--linux: downloading %s and what they depend on", " and ".join(PYTHON_PACKAGES))
    _run(["apt-get", *opts, "install", "--download-only", "--no-install-recommends", "-y", *PYTHON_PACKAGES])
    debs = sorted(archives.glob("*.deb"))
    entries: list[tuple[str, int, bytes, int]] = [(USERLAND_ROOT, stat.S_IFDIR | 0o755, b"", 0)]
    seen: dict[str, bytes] = {}
    for deb in debs:
        entries += _fsys_entries(deb, USERLAND_ROOT, seen)
    # the mount points and home a chroot needs, which no package ships
    entries += [(f"{USERLAND_ROOT}/{d}", stat.S_IFDIR | 0o755, b"", 0) for d in ("proc", "sys", "dev", "tmp", "root")]
    built.write_bytes(_cpio_newc(entries))
    manifest.write_text(json.dumps({"packages": [d.name for d in debs]}, indent=2) + "\n")
    shutil.rmtree(_apt_dir(cache), ignore_errors=True)  # the lists and packages are in the image now
    return built
