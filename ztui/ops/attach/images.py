"""Image files for hotplug: their format, sizes as administrators type them, and creating a new one.

The format is always written into the disk XML: QEMU guessing it from the content would let a raw image
whose guest wrote a qcow2 header be opened as qcow2 (a known escape), and libvirt does not probe either.
"""

from __future__ import annotations

import shlex

from ztui.errors import Refused
from ztui.host.storage import QCOW2_MAGIC, HostFilesError, LocalFiles, local_image_format, qemu_img_create

__all__ = ["QCOW2_MAGIC", "ImageError", "create_command", "create_command_text", "create_image", "image_format",
           "new_image_format", "parse_size"]

MIN_IMAGE_BYTES = 512  # one sector: QEMU rounds smaller sizes up, which is not what was asked
MAX_IMAGE_BYTES = 64 << 40  # 64 TiB: far beyond any image a guest is hot-plugged with; stops "1e999"
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


class ImageError(Refused, ValueError):
    """An image could not be read or created; the message is one line for the user."""


def image_format(path: str) -> str:
    """qcow2 when the file (on this machine) starts with qcow2's magic, else raw."""
    return local_image_format(path)


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
    return qemu_img_create(path, size, fmt)


def create_command_text(path: str, size: int, fmt: str) -> str:
    """The shell line that creates the image on this machine (shown next to the virsh command)."""
    return shlex.join(create_command(path, size, fmt))


def create_image(path: str, size: int, fmt: str) -> None:
    """Create a new image on this machine with qemu-img; ImageError with qemu-img's reason when it cannot.
    (An attach creates images through `ztui.host.storage.host_files`, which picks the guest's host.)"""
    try:
        LocalFiles().create(path, size, fmt)
    except HostFilesError as exc:
        raise ImageError(str(exc)) from None
