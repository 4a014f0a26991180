"""The idle kernel: 1 KiB of s390x code that parks the CPU in an *enabled* wait.

A lab guest needs something to boot, or QEMU ends in a disabled wait and libvirt reports it crashed. A
real kernel costs CPU under TCG; this image costs nothing: the guest stays "running" at 0 % CPU and
~30 MB RSS, starts in ~60 ms and migrates in a fraction of a second.

QEMU loads a non-ELF, non-Linux kernel at address 0 and starts it in 64-bit mode at the address in the
short IPL PSW at offset 0. There an `LPSWE` loads a PSW with the I/O, wait and 64-bit addressing bits
set. No I/O interruption subclass is enabled in CR6, so no interrupt ever arrives, and QEMU reports a
guest panic only for a *disabled* wait. The bytes are generated here rather than shipped as a blob.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

IMAGE_SIZE = 1024
ENTRY = 0x200  # where the LPSWE sits
WAIT_PSW_ADDR = 0x300  # the 16-byte PSW it loads (doubleword aligned)

#: short (ESA) IPL PSW: bit 12 set marks the short format; bit 32 asks for 31-bit addressing
IPL_PSW_MASK = 0x00080000
IPL_PSW_ADDR = 0x80000000 | ENTRY

#: I/O interrupts enabled (bit 6), wait (bit 14), extended + basic addressing = 64-bit (bits 31, 32)
WAIT_PSW_MASK = 0x0202000180000000

OP_LPSWE = 0xB2B2


def idle_kernel_bytes() -> bytes:
    """The image: IPL PSW at 0, `LPSWE 0x300(%r0)` at 0x200, the enabled-wait PSW at 0x300."""
    image = bytearray(IMAGE_SIZE)
    struct.pack_into(">II", image, 0, IPL_PSW_MASK, IPL_PSW_ADDR)
    # S format: opcode (16 bits), base register (4 bits, 0 = none), displacement (12 bits)
    struct.pack_into(">HH", image, ENTRY, OP_LPSWE, WAIT_PSW_ADDR & 0x0FFF)
    # If anything ever woke the CPU it would resume at the LPSWE and wait again.
    struct.pack_into(">QQ", image, WAIT_PSW_ADDR, WAIT_PSW_MASK, ENTRY)
    return bytes(image)


def write_idle_kernel(path: Path) -> Path:
    """Write the image atomically (a running guest may be reading the old one); return its path."""
    data = idle_kernel_bytes()
    if path.is_file() and path.read_bytes() == data:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path
