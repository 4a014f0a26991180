"""The kernel's side of driver binding on a umockdev sysfs, for the preparation tests.

umockdev fakes `/sys` as plain files: a write to `driver_override` or `drivers_probe` is kept, but nothing
rebinds a device the way the kernel does. This wrapper runs a command under the same umockdev testbed
and plays the kernel's part, watching the testbed with inotify: it logs every attribute written (path and
value, in order, to LOG) and applies what the kernel would do for the writes a preparation makes:

* `bus/<bus>/drivers/<driver>/unbind` ← DEV: DEV's `driver` link goes;
* `bus/<bus>/drivers_probe` ← DEV: DEV is bound to its `driver_override` (else its default driver);
* `bus/ap/apmask` ← `-0xNN` / `+0xNN`: the adapter's queues go to `vfio_ap` / back to their default driver.

Only the command's own writes are played; the effects are applied synchronously before the next event is
read, as the kernel applies them before the write returns (close enough: ztui re-reads with a timeout).

    umockdev-run -d host.umockdev -- python fake_kernel.py LOG -- python run_cli.py prepare …
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
import subprocess
import sys
import threading
from pathlib import Path

IN_CLOSE_WRITE = 0x00000008
IN_CREATE = 0x00000100
IN_ISDIR = 0x40000000

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


class Kernel:
    def __init__(self, root: str, log_path: str) -> None:
        self.root = root  # the testbed's directory holding sys/
        self.sys = os.path.join(root, "sys")
        self.log = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the run
        self.fd = _libc.inotify_init1(os.O_CLOEXEC)
        self.watches: dict[int, str] = {}
        self.defaults: dict[str, str] = {}  # device dir → the driver it had first
        self._prepare_drivers()
        for dirpath, dirnames, _ in os.walk(self.sys, followlinks=False):
            self._watch(dirpath)
            dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]

    def _watch(self, path: str) -> None:
        wd = _libc.inotify_add_watch(self.fd, path.encode(), IN_CLOSE_WRITE | IN_CREATE)
        if wd >= 0:
            self.watches[wd] = path

    def _prepare_drivers(self) -> None:
        """Every driver a device links to gets its directory with `bind`/`unbind`, as in a real sysfs."""
        for dirpath, dirnames, filenames in os.walk(self.sys):
            for name in dirnames + filenames:
                path = os.path.join(dirpath, name)
                if name == "driver" and os.path.islink(path):
                    target = os.path.normpath(os.path.join(dirpath, os.readlink(path)))
                    self._driver_dir(target)
                    self.defaults[os.path.realpath(dirpath)] = os.path.basename(target)
        for bus in ("css", "ccw", "pci", "ap"):
            base = os.path.join(self.sys, "bus", bus)
            if os.path.isdir(base) and not os.path.exists(os.path.join(base, "drivers_probe")):
                open(os.path.join(base, "drivers_probe"), "a").close()
        ap = os.path.join(self.sys, "bus", "ap")
        for mask in ("apmask", "aqmask"):  # every adapter and domain with the host's drivers, as at boot
            if os.path.isdir(ap) and not os.path.exists(os.path.join(ap, mask)):
                with open(os.path.join(ap, mask), "w") as f:
                    f.write("0x" + "f" * 64 + "\n")
        for drv in ("vfio_ccw", "io_subchannel"):
            self._driver_dir(os.path.join(self.sys, "bus", "css", "drivers", drv))
        self._driver_dir(os.path.join(self.sys, "bus", "pci", "drivers", "vfio-pci"))
        self._driver_dir(os.path.join(self.sys, "bus", "ap", "drivers", "vfio_ap"))

    @staticmethod
    def _driver_dir(path: str) -> None:
        """Made once, before the watch starts: a file the kernel itself opens for writing would show up
        as a write of the command's."""
        os.makedirs(path, exist_ok=True)
        for name in ("bind", "unbind"):
            if not os.path.exists(os.path.join(path, name)):
                open(os.path.join(path, name), "a").close()

    def _device(self, bus: str, dev: str) -> str:
        return os.path.realpath(os.path.join(self.sys, "bus", bus, "devices", dev))

    def _bind(self, device: str, bus: str, driver: str) -> None:
        link = os.path.join(device, "driver")
        if os.path.lexists(link):
            os.unlink(link)
        if driver:
            target = os.path.join(self.sys, "bus", bus, "drivers", driver)
            self._driver_dir(target)
            os.symlink(os.path.relpath(target, device), link)

    def _apply(self, rel: str, value: str) -> None:
        parts = rel.split("/")
        if len(parts) == 5 and parts[0] == "bus" and parts[2] == "drivers" and parts[4] == "unbind":
            device = self._device(parts[1], value)
            if os.path.basename(os.path.realpath(os.path.join(device, "driver"))) == parts[3]:
                os.unlink(os.path.join(device, "driver"))
        elif len(parts) == 3 and parts[0] == "bus" and parts[2] == "drivers_probe":
            device = self._device(parts[1], value)
            if os.path.lexists(os.path.join(device, "driver")):
                return
            try:
                override = Path(device, "driver_override").read_text(encoding="utf-8").strip()
            except OSError:
                override = ""
            default = "io_subchannel" if parts[1] == "css" else self.defaults.get(device, "")  # css: type 0 matches
            wanted = override if override not in ("", "(null)") else default
            self._bind(device, parts[1], wanted)
        elif rel == "bus/ap/apmask" and value[:1] in "+-":
            adapter = int(value[1:], 0)
            devices = os.path.join(self.sys, "bus", "ap", "devices")
            for queue in sorted(os.listdir(devices)):
                if queue.startswith(f"{adapter:02x}."):
                    device = os.path.realpath(os.path.join(devices, queue))
                    self._bind(device, "ap", "vfio_ap" if value[0] == "-" else self.defaults.get(device, ""))

    def serve(self) -> None:
        buf_size = 65536
        while True:
            data = os.read(self.fd, buf_size)
            offset = 0
            while offset < len(data):
                wd, mask, _cookie, length = struct.unpack_from("iIII", data, offset)
                name = data[offset + 16:offset + 16 + length].rstrip(b"\0").decode()
                offset += 16 + length
                base = self.watches.get(wd)
                if base is None or not name:
                    continue
                path = os.path.join(base, name)
                if mask & IN_CREATE and mask & IN_ISDIR:
                    self._watch(path)
                    continue
                if not mask & IN_CLOSE_WRITE:
                    continue
                try:
                    value = Path(path).read_text(encoding="utf-8").rstrip("\n")
                except OSError:
                    continue
                rel = self._rel(path)
                self.log.write(f"{rel}={value}\n")
                self.log.flush()
                self._apply(rel, value)

    def _rel(self, path: str) -> str:
        """The path as the writer named it, under /sys/bus/… where one leads there."""
        rel = os.path.relpath(path, self.sys)
        if rel.startswith("bus/"):
            return rel
        real = os.path.realpath(path)
        for bus in ("css", "ccw", "pci", "ap"):
            devices = os.path.join(self.sys, "bus", bus, "devices")
            if not os.path.isdir(devices):
                continue
            for dev in os.listdir(devices):
                top = os.path.realpath(os.path.join(devices, dev))
                if os.path.dirname(real) == top:
                    return f"bus/{bus}/devices/{dev}/{os.path.basename(real)}"
        return rel


def main() -> int:
    log_path, sep, *command = sys.argv[1:]
    assert sep == "--", "usage: fake_kernel.py LOG -- COMMAND…"
    kernel = Kernel(os.environ["UMOCKDEV_DIR"], log_path)
    threading.Thread(target=kernel.serve, daemon=True).start()
    return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
