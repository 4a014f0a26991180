"""The lab's guests: what each host gets, their disk images and their domain XML.

Every guest has the device set of a typical KVM-on-Z guest, so ztui has something real to show, hotplug
and migrate: two or three virtio-blk disks (qcow2 and raw) and a virtio-scsi controller with a disk, all at
explicit CCW device numbers; one or two virtio-net interfaces of different kinds (user, ethernet/tap, the
lab's bridge network); a balloon and an SCLP console. They boot the idle kernel (see kernel.py), or a
Debian kernel with a busybox initramfs for the `--linux` guest.
"""

from __future__ import annotations

import errno
import os
import subprocess
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ztui.lab.errors import LabError
from ztui.lab.network import NETWORK_NAME
from ztui.lab.paths import host_letter

EMULATOR = "/usr/bin/qemu-system-s390x"
MACHINE = "s390-ccw-virtio"
METADATA_NS = "urn:ztui:lab"

ET.register_namespace("ztui", METADATA_NS)

NicKind = Literal["user", "ethernet", "network"]


@dataclass(frozen=True)
class DiskSpec:
    target: str  # vda, vdb, ... on virtio; sda on scsi
    fmt: Literal["qcow2", "raw"]
    size_mib: int
    devno: int | None = None  # CCW device number; None for a SCSI disk (drive address instead)

    @property
    def bus(self) -> str:
        return "scsi" if self.target.startswith("sd") else "virtio"


@dataclass(frozen=True)
class NicSpec:
    kind: NicKind
    devno: int
    mac: str


@dataclass(frozen=True)
class BootSpec:
    kernel: Path
    initrd: Path | None = None
    cmdline: str | None = None


@dataclass(frozen=True)
class GuestSpec:
    name: str
    running: bool
    disks: tuple[DiskSpec, ...]
    nics: tuple[NicSpec, ...]
    memory_mib: int = 256
    vcpus: int = 1
    scsi_devno: int = 0x0008
    balloon_devno: int = 0x0030
    linux: bool = False

    def image(self, images: Path, disk: DiskSpec) -> Path:
        return images / f"{self.name}-{disk.target}.{'qcow2' if disk.fmt == 'qcow2' else 'img'}"


def _mac(lab_slot: int, host_index: int, guest: int, nic: int) -> str:
    """Locally administered, QEMU's 52:54:00 prefix, unique across the lab and across labs."""
    return f"52:54:00:{lab_slot:02x}:{(host_index * 8 + guest) & 0xFF:02x}:{nic:02x}"


def _disks(variant: int) -> tuple[DiskSpec, ...]:
    disks = [DiskSpec("vda", "qcow2", 2048, 0x0000), DiskSpec("vdb", "raw", 1024, 0x0001)]
    if variant != 1:
        disks.append(DiskSpec("vdc", "qcow2" if variant == 0 else "raw", 512, 0x0002))
    disks.append(DiskSpec("sda", "raw", 1024))
    return tuple(disks)


_NIC_VARIANTS: tuple[tuple[NicKind, ...], ...] = (("user", "network"), ("ethernet",), ("network", "ethernet"))


def host_guests(host_index: int, host: str, lab_slot: int, linux: bool = False) -> list[GuestSpec]:
    """What a freshly provisioned host runs: zlab-a three guests (and the Linux guest with `--linux`),
    zlab-b one running and one defined but shut off, every further host one running guest."""
    letter = host_letter(host)
    layout = [True, True, True] if host_index == 0 else [True, False] if host_index == 1 else [True]
    guests = []
    for n, running in enumerate(layout, start=1):
        variant = (host_index + n - 1) % 3
        nics = tuple(NicSpec(kind, 0x0010 + i, _mac(lab_slot, host_index, n, i))
                     for i, kind in enumerate(_NIC_VARIANTS[variant]))
        guests.append(GuestSpec(name=f"lnx{letter}{n:02d}", running=running, disks=_disks(variant), nics=nics))
    if linux and host_index == 0:
        guests.append(GuestSpec(
            name=f"debian{letter}", running=True, linux=True, memory_mib=512,
            disks=(DiskSpec("vda", "qcow2", 1024, 0x0000), DiskSpec("sda", "raw", 256)),
            nics=(NicSpec("user", 0x0010, _mac(lab_slot, host_index, 0, 0)),)))
    return guests


def _direct_io_supported(directory: Path) -> bool:
    """cache='none' opens images with O_DIRECT, which tmpfs (a common /tmp) refuses."""
    probe = directory / ".odirect-probe"
    try:
        fd = os.open(probe, os.O_CREAT | os.O_RDWR | getattr(os, "O_DIRECT", 0), 0o600)
    except OSError as exc:
        if exc.errno == errno.EINVAL:
            return False
        raise
    os.close(fd)
    probe.unlink()
    return True


def create_images(guests: list[GuestSpec], images: Path, qemu_img: str = "qemu-img") -> None:
    """Sparse image files made by qemu-img, in parallel (each call is a process start)."""
    images.mkdir(parents=True, exist_ok=True)
    jobs = [(g.image(images, d), d) for g in guests for d in g.disks if not g.image(images, d).exists()]

    def create(job: tuple[Path, DiskSpec]) -> None:
        path, disk = job
        result = subprocess.run([qemu_img, "create", "-q", "-f", disk.fmt, str(path), f"{disk.size_mib}M"],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise LabError(f"qemu-img create {path}: {result.stderr.strip()}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(create, jobs))


def console_log(name: str) -> str:
    """Inside the host's namespace; on disk it is `<lab>/hosts/<host>/log/qemu/<name>-console.log`."""
    return f"/var/log/libvirt/qemu/{name}-console.log"


def _ccw(parent: ET.Element, devno: int) -> None:
    ET.SubElement(parent, "address", type="ccw", cssid="0xfe", ssid="0x0", devno=f"0x{devno:04x}")


def tcg_devices(dom: ET.Element, emulator: str) -> ET.Element:
    """What every lab guest has after its `<os>`: the TCG CPU, the clock, what its lifecycle events do; then
    its `<devices>` with the emulator, returned for the caller's devices."""
    cpu = ET.SubElement(dom, "cpu", mode="custom", match="exact")
    ET.SubElement(cpu, "model", fallback="forbid").text = "qemu"
    ET.SubElement(dom, "clock", offset="utc")
    for event, action in (("on_poweroff", "destroy"), ("on_reboot", "restart"), ("on_crash", "preserve")):
        # preserve: a guest that ends in a disabled wait stays visible as crashed instead of vanishing
        ET.SubElement(dom, event).text = action
    devices = ET.SubElement(dom, "devices")
    ET.SubElement(devices, "emulator").text = emulator
    return devices


def domain_xml(guest: GuestSpec, boot: BootSpec, images: Path, lab_dir: Path, *, direct_io: bool = True,
               emulator: str = EMULATOR) -> str:
    """The guest's persistent definition, for `defineXML`."""
    dom = ET.Element("domain", type="qemu")  # TCG: there is no KVM for s390x on this machine
    ET.SubElement(dom, "name").text = guest.name
    ET.SubElement(dom, "title").text = f"ztui lab guest {guest.name}"
    meta = ET.SubElement(dom, "metadata")
    ET.SubElement(meta, f"{{{METADATA_NS}}}lab", {"dir": str(lab_dir)})
    ET.SubElement(dom, "memory", unit="MiB").text = str(guest.memory_mib)
    ET.SubElement(dom, "currentMemory", unit="MiB").text = str(guest.memory_mib)
    ET.SubElement(dom, "vcpu", placement="static").text = str(guest.vcpus)
    os_el = ET.SubElement(dom, "os")
    ET.SubElement(os_el, "type", arch="s390x", machine=MACHINE).text = "hvm"
    ET.SubElement(os_el, "kernel").text = str(boot.kernel)
    if boot.initrd is not None:
        ET.SubElement(os_el, "initrd").text = str(boot.initrd)
    if boot.cmdline is not None:
        ET.SubElement(os_el, "cmdline").text = boot.cmdline
    devices = tcg_devices(dom, emulator)
    cache = {"cache": "none", "io": "native"} if direct_io else {"cache": "writeback"}
    for disk in guest.disks:
        el = ET.SubElement(devices, "disk", type="file", device="disk")
        ET.SubElement(el, "driver", {"name": "qemu", "type": disk.fmt, **cache})
        ET.SubElement(el, "source", file=str(guest.image(images, disk)))
        ET.SubElement(el, "target", dev=disk.target, bus=disk.bus)
        ET.SubElement(el, "serial").text = f"{guest.name}-{disk.target}"
        if disk.devno is not None:
            _ccw(el, disk.devno)
        else:
            ET.SubElement(el, "address", type="drive", controller="0", bus="0", target="0",
                          unit=str(ord(disk.target[-1]) - ord("a")))
    scsi = ET.SubElement(devices, "controller", type="scsi", index="0", model="virtio-scsi")
    _ccw(scsi, guest.scsi_devno)
    for nic in guest.nics:
        el = ET.SubElement(devices, "interface", type=nic.kind)
        ET.SubElement(el, "mac", address=nic.mac)
        if nic.kind == "network":
            ET.SubElement(el, "source", network=NETWORK_NAME)
        ET.SubElement(el, "model", type="virtio")
        _ccw(el, nic.devno)
    console = ET.SubElement(devices, "console", type="pty")
    if guest.linux:  # what the guest prints, readable without attaching to its console
        ET.SubElement(console, "log", file=console_log(guest.name), append="on")
    ET.SubElement(console, "target", type="sclp", port="0")
    balloon = ET.SubElement(devices, "memballoon", model="virtio")
    _ccw(balloon, guest.balloon_devno)
    return ET.tostring(dom, encoding="unicode")


def direct_io_supported(images: Path) -> bool:
    images.mkdir(parents=True, exist_ok=True)
    return _direct_io_supported(images)
