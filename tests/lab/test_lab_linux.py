"""`--linux`: a Debian s390x kernel with a busybox initramfs, and a hotplug seen from inside the guest.

The Linux test downloads Debian packages the first time, so it runs only when they are already cached or
when `ZTUI_LAB_LINUX=1` asks for it; the initramfs pieces are tested everywhere.
"""

from __future__ import annotations

import os
import stat
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.lab.support import lab_unavailable
from ztui.lab.debian import _cpio_newc, build_initramfs, module_closure, module_depends
from ztui.lab.paths import cache_dir


def test_module_depends_reads_modinfo() -> None:
    blob = b"\x7fELF...\0license=GPL\0depends=scsi_mod,crc-t10dif\0name=sd_mod\0"
    assert module_depends(blob) == ["scsi_mod", "crc_t10dif"]
    assert module_depends(b"\0depends=\0name=virtio_blk\0") == []


def test_module_closure_orders_dependencies_first() -> None:
    deps = {"sd_mod": ["scsi_mod", "t10_pi"], "scsi_mod": ["scsi_common"], "scsi_common": [], "t10_pi": []}
    assert module_closure(deps, ("sd_mod", "virtio_blk")) == ["scsi_common", "scsi_mod", "t10_pi", "sd_mod"]


def _read_newc(image: bytes) -> dict[str, tuple[int, bytes]]:
    """A minimal newc reader, independent of the writer: name -> (mode, data)."""
    entries: dict[str, tuple[int, bytes]] = {}
    pos = 0
    while True:
        assert image[pos:pos + 6] == b"070701"
        fields = [int(image[pos + 6 + 8 * i: pos + 14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = fields[1], fields[6], fields[11]
        name_start = pos + 110
        name = image[name_start:name_start + namesize - 1].decode()
        data_start = (name_start + namesize + 3) & ~3
        if name == "TRAILER!!!":
            return entries
        entries[name] = (mode, image[data_start:data_start + size])
        pos = (data_start + size + 3) & ~3


def test_initramfs_is_a_newc_cpio() -> None:
    entries = _read_newc(build_initramfs(b"BUSYBOX", [("virtio_blk", b"KO")]))
    assert entries["bin/busybox"] == (stat.S_IFREG | 0o755, b"BUSYBOX")
    assert entries["lib/modules/virtio_blk.ko"][1] == b"KO"
    assert stat.S_ISCHR(entries["dev/console"][0])
    init_mode, init = entries["init"]
    assert init_mode & 0o111 and init.startswith(b"#!/bin/busybox sh") and b"virtio_blk" in init
    assert len(_cpio_newc([])) % 4 == 0


def _linux_reason() -> str | None:
    reason = lab_unavailable()
    if reason:
        return reason
    cached = (cache_dir() / "debian" / "boot" / "manifest.json").exists()
    if not cached and os.environ.get("ZTUI_LAB_LINUX") != "1":
        return "the Debian s390x packages are not cached; set ZTUI_LAB_LINUX=1 to download them"
    return None


def _wait_for(path: Path, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.lab
def test_hotplugged_disk_appears_inside_the_linux_guest() -> None:
    reason = _linux_reason()
    if reason:
        pytest.skip(reason)
    import libvirt

    from ztui.lab.hosts import start_lab, stop_lab

    base = Path(f"/var/tmp/ztui-lab-pytest-{os.getpid()}-linux")
    try:
        hosts = start_lab(hosts=1, linux=True, base_dir=base, z=False)  # the Linux guest is on zlab-a
        log = base / "hosts" / "zlab-a" / "log" / "qemu" / "debiana-console.log"
        assert _wait_for(log, "ccw devices:", 60), "the Linux guest did not boot within 60 s"
        image = base / "images" / "hotplug.img"
        subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(image), "64M"], check=True)
        disk = ET.Element("disk", type="file", device="disk")
        ET.SubElement(disk, "driver", name="qemu", type="raw")
        ET.SubElement(disk, "source", file=str(image))
        ET.SubElement(disk, "target", dev="vdx", bus="virtio")
        ET.SubElement(disk, "address", type="ccw", cssid="0xfe", ssid="0x0", devno="0x0042")
        conn = libvirt.open(next(h.uri for h in hosts if h.name == "zlab-a"))
        try:
            dom = conn.lookupByName("debiana")
            dom.attachDeviceFlags(ET.tostring(disk, encoding="unicode"), libvirt.VIR_DOMAIN_AFFECT_LIVE)
            assert _wait_for(log, "ccw device 0.0.0042 added", 10)
            dom.detachDeviceFlags(ET.tostring(disk, encoding="unicode"), libvirt.VIR_DOMAIN_AFFECT_LIVE)
            assert _wait_for(log, "ccw device 0.0.0042 removed", 10)
        finally:
            conn.close()
    finally:
        stop_lab(base)
