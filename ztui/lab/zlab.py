"""Setting up the lab's simulated Z hosts: host facts beside their sockets, loop devices for their disks.

`zlab-z` is a simulated z16 LPAR with guests; `zlab-y` is a second LPAR of the same machine that sees the
same DASDs and FCP LUNs (as LPARs sharing storage do) under device numbers, FCP channels and SCSI addresses of
its own I/O definition (`ztui.lab.zhost.twin_description`), so Z guests migrate between the two and find
their disks there by the volumes' identity. Each is a lab host like the others (its own libvirtd in its
own mount namespace) with three additions made before its daemon starts:

- its host facts (`ztui.lab.zhost`) are written as `ztui-hostfacts.json` next to its libvirt socket, where
  `ztui.host.facts_source.facts_source_for` finds them for any client that connects to that socket;
- one loop device per block device the running guests (and `ztui attach --dasd`) use, each on a sparse
  file in the lab directory, shared by both hosts (each LPAR's /dev names it its own way) and recorded in
  `z-loops.json` so that `stop` detaches exactly those;
- `block-nodes.json`, which makes the supervisor give the namespace a private /dev holding those loop
  devices under the simulated names (see supervisor.py).
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
from pathlib import Path

from ztui.host.facts_source import SOCKET_SNAPSHOT, write_snapshot
from ztui.lab.daemon import find_binary
from ztui.lab.errors import LabError
from ztui.lab.paths import HostPaths, LabPaths
from ztui.lab.supervisor import BLOCK_NODES
from ztui.lab.zguests import LOOP_MIB, block_nodes, twin_path
from ztui.lab.zhost import DESCRIPTION, DESCRIPTION_TEXT, TWIN_DESCRIPTION, z_host_facts

log = logging.getLogger(__name__)

Z_HOST = "zlab-z"
Z_INDEX = 25  # the last letters: ordinary hosts count up from zlab-a
Z_TWIN = "zlab-y"  # the second LPAR, sharing the storage: the destination of Z guest migrations
Z_TWIN_INDEX = 24
Z_HOSTS = ((Z_HOST, Z_INDEX), (Z_TWIN, Z_TWIN_INDEX))
LOOPS = "z-loops.json"


def is_z_host(name: str) -> bool:
    return name in (Z_HOST, Z_TWIN)


def simulated_label(name: str) -> str:
    """What `lab status` and the host line say about a host whose facts are simulated; '' otherwise."""
    return DESCRIPTION_TEXT if is_z_host(name) else ""


def _losetup() -> str:
    found = find_binary("losetup", "/usr/sbin/losetup", "/sbin/losetup")
    if found is None:
        raise LabError("the lab's Z host needs losetup (package mount)")
    return found


def _backing_file(loop: str) -> str:
    try:
        return Path(f"/sys/block/{os.path.basename(loop)}/loop/backing_file").read_text().strip()
    except OSError:
        return ""


def _image_name(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "_", path.removeprefix("/dev/")) + ".img"


def prepare_z_host(paths: LabPaths, host: HostPaths) -> None:
    """Host facts, the shared loop devices and the block-node list of a Z host (idempotent). Both LPARs' nodes
    are the same loop devices, each under the name its LPAR gives it (`twin_path`)."""
    twin = host.name == Z_TWIN
    write_snapshot(z_host_facts(TWIN_DESCRIPTION if twin else DESCRIPTION, hostname=host.name),
                   str(host.run / SOCKET_SNAPSHOT))
    images = paths.images / Z_HOST
    images.mkdir(parents=True, exist_ok=True)
    known = _load_loops(paths)
    loops: dict[str, str] = {}
    nodes = []
    for path in block_nodes():
        image = images / _image_name(path)
        if not image.exists():
            with open(image, "wb") as f:
                f.truncate(LOOP_MIB * 1024 * 1024)
        loop = known.get(path, "")
        if not loop or _backing_file(loop) != str(image):
            loop = _attach(image)
        loops[path] = loop
        _save_loops(paths, loops)  # at once: a failure later must still detach this one
        rdev = os.stat(loop).st_rdev
        nodes.append({"path": twin_path(path) if twin else path, "major": os.major(rdev), "minor": os.minor(rdev)})
    (host.root / BLOCK_NODES).write_text(json.dumps(nodes, indent=1) + "\n")


def _attach(image: Path) -> str:
    result = subprocess.run([_losetup(), "--find", "--show", str(image)], capture_output=True, text=True)
    if result.returncode != 0:
        raise LabError(f"losetup {image}: {result.stderr.strip()}")
    return result.stdout.strip()


def _load_loops(paths: LabPaths) -> dict[str, str]:
    try:
        raw = json.loads((paths.base / LOOPS).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def _save_loops(paths: LabPaths, loops: dict[str, str]) -> None:
    (paths.base / LOOPS).write_text(json.dumps(loops, indent=1) + "\n")


def release_z_loops(paths: LabPaths) -> None:
    """Detach the loop devices the Z hosts use (only those still on the lab's own image files)."""
    images = paths.images / Z_HOST
    losetup = find_binary("losetup", "/usr/sbin/losetup", "/sbin/losetup") or "losetup"
    for loop in _load_loops(paths).values():
        backing = _backing_file(loop)
        if backing and Path(backing).parent == images:
            result = subprocess.run([losetup, "-d", loop], capture_output=True, text=True)
            if result.returncode != 0:
                log.warning("losetup -d %s: %s", loop, result.stderr.strip())
