"""Image files for hotplug: their format, sizes as administrators type them, and creating a new one.

The format is always written into the disk XML: QEMU guessing it from the content would let a raw image
whose guest wrote a qcow2 header be opened as qcow2 (a known escape), and libvirt does not probe either.
"""

from __future__ import annotations

import shlex
import subprocess

from ztui.errors import Refused

QCOW2_MAGIC = b"QFI\xfb"

MIN_IMAGE_BYTES = 512  # one sector: QEMU rounds smaller sizes up, which is not what was asked
MAX_IMAGE_BYTES = 64 << 40  # 64 TiB: far beyond any image a guest is hot-plugged with; stops "1e999"
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


class ImageError(Refused, ValueError):
    """An image could not be read or created; the message is one line for the user."""


def image_format(path: str) -> str:
    """qcow2 when the file starts with qcow2's magic, else raw."""
    try:
        with open(path, "rb") as handle:
            return "qcow2" if handle.read(4) == QCOW2_MAGIC else "raw"
    except OSError:
        return "raw"


def new_image_format(path: str) -> str:
    """The format of an image still to be created: qcow2 when its name says so, else raw."""
    return "qcow2" if path.endswith(".qcow2") else "raw"


def parse_size(text: str) -> int:
    """`64M`, `10G`, `512k`, `1.5G`, `1048576` in bytes (binary units, like qemu-img)."""
    value = text.strip().lower().removesuffix("ib").removesuffix("b")
    unit = value[-1:] if value and value[-1] in "kmgt" else ""
    number = value[:-1] if unit else value
    try:
        size = float(number) * _UNITS[unit]
    except ValueError:
        raise ImageError(f"'{text}' is not a size (e.g. 64M, 10G)") from None
    if not size > 0 or size != size:  # also NaN
        raise ImageError(f"'{text}' is not a positive size")
    if size > MAX_IMAGE_BYTES:  # also infinity ("1e999")
        raise ImageError(f"'{text}' is larger than {MAX_IMAGE_BYTES >> 40} TiB")
    if size < MIN_IMAGE_BYTES:
        raise ImageError(f"'{text}' is smaller than {MIN_IMAGE_BYTES} bytes, less than one disk sector")
    return int(size)


def create_command(path: str, size: int, fmt: str) -> list[str]:
    return ["qemu-img", "create", "-q", "-f", fmt, path, str(size)]


def create_command_text(path: str, size: int, fmt: str) -> str:
    """The shell line that creates the image (shown next to the virsh command)."""
    return shlex.join(create_command(path, size, fmt))


def create_image(path: str, size: int, fmt: str) -> None:
    """Create a new image with qemu-img; ImageError with qemu-img's reason when it cannot."""
    try:
        # a session of its own: ctrl+c at the terminal reaches ztui, which lets this step finish (a
        # qemu-img killed half-way would leave half an image), not qemu-img
        result = subprocess.run(create_command(path, size, fmt), capture_output=True, text=True, check=False,
                                timeout=60, start_new_session=True)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ImageError(f"qemu-img could not create {path}: {exc}") from None
    if result.returncode != 0:
        reason = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit {result.returncode}"
        raise ImageError(f"qemu-img could not create {path}: {reason}")
