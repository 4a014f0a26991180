"""The lab hosts' storage pools: each host's private `default` pool, and the lab's shared storage.

Like an LPAR with local disks beside a SAN: every host has a `default` directory pool at
/var/lib/libvirt/images *inside its own mount namespace* (the lab host's directory on this machine, never
the system's /var/lib/libvirt/images), and all hosts see the lab's shared image directory as pool `lab`.
ztui's process cannot see a host's `default` pool by that path, so the lab exercises what a remote host
needs: files asked of libvirt's storage API, new images created as volumes.
"""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt

DEFAULT_POOL = "default"
DEFAULT_POOL_PATH = "/var/lib/libvirt/images"  # as the lab host sees it (bind-mounted from its lib/)
SHARED_POOL = "lab"


def dir_pool_xml(name: str, target: str) -> str:
    root = ET.Element("pool", type="dir")
    ET.SubElement(root, "name").text = name
    path = ET.SubElement(ET.SubElement(root, "target"), "path")
    path.text = target
    return ET.tostring(root, encoding="unicode")


def ensure_dir_pool(conn: libvirt.virConnect, name: str, target: str) -> libvirt.virStoragePool:
    """Define, build, start and autostart a directory pool unless it already is; refresh it (images made
    beside libvirt, such as the guests' own, become volumes)."""
    try:
        pool = conn.storagePoolLookupByName(name)
    except libvirt.libvirtError:
        pool = conn.storagePoolDefineXML(dir_pool_xml(name, target), 0)
    if not pool.isActive():
        pool.build(0)  # the directory, inside the daemon's namespace (a no-op when it exists)
        pool.create(0)
    else:
        pool.refresh(0)
    pool.setAutostart(1)
    return pool


def ensure_pools(conn: libvirt.virConnect, shared: Path) -> None:
    """The host's private `default` pool and the lab's shared pool."""
    ensure_dir_pool(conn, DEFAULT_POOL, DEFAULT_POOL_PATH)
    shared.mkdir(parents=True, exist_ok=True)
    ensure_dir_pool(conn, SHARED_POOL, str(shared))


def refresh_shared(conn: libvirt.virConnect) -> None:
    """After the lab wrote images into the shared directory itself."""
    with contextlib.suppress(libvirt.libvirtError):
        conn.storagePoolLookupByName(SHARED_POOL).refresh(0)
