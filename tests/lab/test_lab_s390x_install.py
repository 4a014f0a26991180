"""ztui on s390x: the wheel built from this checkout, installed in the lab's Debian s390x guest with the
guest's own Python and Debian's python3-libvirt, then run — `--version`, `tree --json` on libvirt's test
driver, and the TUI over the guest's console for a few keys.

The guest is the lab's Linux guest (Debian's s390x kernel and busybox under TCG) with a Debian s390x
userland appended to its initramfs (`ztui.lab.debian.python_userland`: python3-libvirt, python3-venv and
what they need, fetched once from Debian's archive and cached). The install is the README's path for
Debian: a virtualenv that sees the system's packages, pip without an index. The pure-Python dependencies
come as wheels packed from this interpreter's installed copies (tests/wheelhouse.py): no other network.

Like the Linux-guest test it downloads Debian packages, so it runs when `ZTUI_LAB_LINUX=1` (CI sets it).
It takes about two minutes, most of it pip and venv under emulation.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lab.support import lab_unavailable

GUEST = "debpy"
ANSI = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\x1b\][^\x07]*\x07")


def _reason() -> str | None:
    reason = lab_unavailable()
    if reason:
        return reason
    if os.environ.get("ZTUI_LAB_LINUX") != "1":
        return "downloads Debian s390x packages; set ZTUI_LAB_LINUX=1 to run it"
    return None


class Console:
    """The guest's serial console through libvirt (what `virsh console` uses): a reader thread collects
    everything the guest prints; `run` types a command and waits for its exit status."""

    def __init__(self, dom: object, conn: object) -> None:
        import libvirt

        self.stream = conn.newStream(0)  # type: ignore[attr-defined]
        dom.openConsole(None, self.stream, libvirt.VIR_DOMAIN_CONSOLE_FORCE)  # type: ignore[attr-defined]
        self.text = ""
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.mark = 0

    def _read(self) -> None:
        import libvirt

        while not self.closed.is_set():
            try:
                data = self.stream.recv(65536)
            except libvirt.libvirtError:
                return
            if not isinstance(data, bytes) or not data:
                return
            with self.lock:
                self.text += data.decode("utf-8", "replace").replace("\r\n", "\n")

    def send(self, text: str) -> None:
        self.stream.send(text.encode())

    def expect(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first match of `pattern` in what the guest printed since the last match."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = re.compile(pattern, re.S).search(self.text, self.mark)
            if found:
                self.mark = found.end()
                return found
            time.sleep(0.2)
        tail = self.text[-3000:]
        raise AssertionError(f"the guest did not print {pattern!r} within {timeout:.0f} s; last output:\n{tail}")

    def run(self, command: str, timeout: float = 120) -> str:
        """Run a shell command; what it printed. The end marker is made by the shell (`$((…))`), so the
        console's echo of the command line cannot match it."""
        with self.lock:
            start = len(self.text)
        self.send(f"{command}; echo \"@@rc=$?@@$((6*7))\"\n")
        found = self.expect(r"@@rc=(\d+)@@42", timeout)
        output = self.text[start:found.start()]  # the console's echo of the command line first
        assert found.group(1) == "0", f"`{command}` exited {found.group(1)}:\n{output[-3000:]}"
        return output

    def close(self) -> None:
        self.closed.set()
        with contextlib.suppress(Exception):  # the guest or the daemon is gone already
            self.stream.abort()


def _wheels_cpio(wheels: list[Path]) -> bytes:
    from ztui.lab.debian import USERLAND_ROOT, _cpio_newc

    entries = [(f"{USERLAND_ROOT}/wheels", stat.S_IFDIR | 0o755, b"", 0)]
    entries += [(f"{USERLAND_ROOT}/wheels/{w.name}", stat.S_IFREG | 0o644, w.read_bytes(), 0) for w in wheels]
    return _cpio_newc(entries)


@pytest.fixture
def s390x_guest(tmp_path: Path) -> Iterator[Console]:
    reason = _reason()
    if reason:
        pytest.skip(reason)
    import libvirt

    from tests.wheelhouse import wheelhouse
    from ztui.lab.debian import CMDLINE, linux_boot, python_userland
    from ztui.lab.guests import BootSpec, GuestSpec, domain_xml
    from ztui.lab.hosts import check_requirements, start_lab, stop_lab
    from ztui.lab.paths import cache_dir

    base = Path(f"/var/tmp/ztui-lab-pytest-{os.getpid()}-s390x")
    try:
        hosts = start_lab(hosts=1, base_dir=base, z=False)
        boot = linux_boot(cache_dir() / "debian", base / "linux")
        userland = python_userland(cache_dir() / "debian-python")
        assert boot.initrd is not None
        initrd = base / "linux" / "initrd-python.img"
        with initrd.open("wb") as out:  # initramfs pieces are simply concatenated
            out.write(boot.initrd.read_bytes())
            out.write(userland.read_bytes())
            out.write(_wheels_cpio(wheelhouse(tmp_path / "wheels")))
        spec = GuestSpec(name=GUEST, running=True, disks=(), nics=(), memory_mib=1024, linux=True)
        xml = domain_xml(spec, BootSpec(boot.kernel, initrd, CMDLINE), base / "images", base,
                         direct_io=False, emulator=check_requirements().qemu)
        conn = libvirt.open(hosts[0].uri)
        dom = conn.defineXML(xml)
        dom.create()
        console = Console(dom, conn)
        try:
            console.expect("ccw devices:", 120)  # busybox's shell is up
            console.send("\n")
            yield console
        finally:
            console.close()
            conn.close()
    finally:
        stop_lab(base)


@pytest.mark.lab
def test_the_wheel_installs_and_runs_on_s390x(s390x_guest: Console) -> None:
    guest = s390x_guest
    started = time.monotonic()
    timings: dict[str, float] = {}

    def step(name: str, command: str, timeout: float = 240) -> str:
        t = time.monotonic()
        out = guest.run(command, timeout)
        timings[name] = time.monotonic() - t
        return out

    # busybox's env and chroot (the Debian side has neither); PATH is looked up inside the chroot
    chroot = "env HOME=/root LANG=C.UTF-8 PATH=/opt/ztui/bin:/usr/bin:/bin chroot /debian"
    step("mounts", "for d in proc sys dev tmp; do mount --bind /$d /debian/$d; done")
    arch = step("arch", f"{chroot} python3 -c 'import platform, sys; print(platform.machine(), sys.byteorder)'")
    assert "s390x big" in arch
    step("venv", f"{chroot} python3 -m venv --system-site-packages /opt/ztui")
    installed = step("pip", f"{chroot} pip install --no-index --find-links /wheels --no-cache-dir "
                            "--disable-pip-version-check ztui", timeout=400)
    assert "Requirement already satisfied: libvirt-python" in installed  # Debian's python3-libvirt
    assert "Successfully installed" in installed and "ztui-" in installed

    version = step("version", f"{chroot} ztui --version")
    lines = {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in version.splitlines() if " " in line}
    assert lines["ztui"] and lines["Textual"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", lines["libvirt-python"])  # Debian's bindings
    assert lines["libvirt"].split(".")[0] == lines["libvirt-python"].split(".")[0]  # the library they load
    assert lines["Python"].startswith("3.")

    out = step("tree", f"{chroot} ztui tree -c test:///default --json > /debian/tmp/tree.json; "
                       "echo @@json$((1)); cat /debian/tmp/tree.json; echo; echo @@end$((1))")
    doc = json.loads(out.split("@@json1\n", 1)[1].split("@@end1", 1)[0])
    (host,) = doc["hosts"]
    assert host["uri"] == "test:///default"
    (test_guest,) = host["guests"]
    assert test_guest["name"] == "test" and test_guest["state"] == "running"
    assert {d["target"] for d in test_guest["devices"]} >= {"vda"}

    # the TUI over the serial console: the tree, a guest opened (`j`, `l`), help on `?`, back with `q`,
    # quit with `q`
    t = time.monotonic()
    guest.run("stty rows 24 cols 80")
    guest.send(f"TERM=xterm-256color {chroot} ztui -c test:///default; echo \"@@tui=$?@@$((6*7))\"\n")
    guest.expect("hosts · guests · devices", 120)
    guest.expect("1 guest", 60)
    guest.send("j")  # to the guest
    guest.send("l")  # open it: its devices
    guest.expect(r"vda", 60)
    guest.send("?")
    guest.expect(r"ztui help.*?detach the selected device", 60)
    guest.send("q")
    time.sleep(2)
    guest.send("q")
    found = guest.expect(r"@@tui=(\d+)@@42", 60)
    assert found.group(1) == "0"
    timings["tui"] = time.monotonic() - t
    screen = ANSI.sub("", guest.text)
    assert "test:///default" in screen
    print(f"\ns390x guest: {time.monotonic() - started:.0f} s after boot; "
          + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
