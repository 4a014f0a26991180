"""A lab host's files are its own: images are checked, created and resolved through its storage pools.

Each lab host runs in its own mount namespace, so /var/lib/libvirt/images on zlab-a is not this machine's
/var/lib/libvirt/images (it is `<lab>/hosts/zlab-a/lib/images`, the host's private `default` pool). ztui
must therefore treat it like a remote host — over its unix socket and over qemu+tcp alike: a new image is
a volume of zlab-a's pool, an image only zlab-a has is attached and shown without a "missing" warning, and
an image only this machine has is refused before libvirt is asked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libvirt
import pytest

from tests.lab.support import Lab

A = "zlab-a"
POOL_DIR = "/var/lib/libvirt/images"  # as zlab-a sees it


def ztui(*args: str, state: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_STATE_HOME": str(state)}
    return subprocess.run([sys.executable, "-m", "ztui", *args], capture_output=True, text=True, timeout=120,
                          env=env, stdin=subprocess.DEVNULL)


@pytest.fixture(params=["unix", "tcp"])
def uri(request: pytest.FixtureRequest, lab: Lab) -> str:
    """zlab-a over its unix socket (another mount namespace) and over qemu+tcp (the remote transport)."""
    return lab.uris[A] if request.param == "unix" else lab.tcp_uris[A]


@pytest.fixture
def on_a(lab: Lab) -> Iterator[Path]:
    """zlab-a's /var/lib/libvirt/images as this machine reaches it (only the test looks there)."""
    yield lab.base / "hosts" / A / "lib" / "images"


def _name(stem: str, suffix: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}.{suffix}"


def _device(tree: dict[str, Any], guest: str, source: str) -> dict[str, Any]:
    for host in tree["hosts"]:
        for g in host["guests"]:
            if g["name"] == guest:
                return next(d for d in g["devices"] if d["source"] == source)
    raise AssertionError(f"{guest} not in the tree")


def test_lab_hosts_have_a_private_default_pool_and_the_shared_pool(lab: Lab, conn_a: libvirt.virConnect,
                                                                   on_a: Path) -> None:
    pools = {p.name(): p for p in conn_a.listAllStoragePools(0)}
    assert {"default", "lab"} <= set(pools) and all(p.isActive() for p in pools.values())
    assert f"<path>{POOL_DIR}</path>" in pools["default"].XMLDesc(0)
    assert on_a.is_dir()
    assert conn_a.storageVolLookupByPath(str(lab.base / "images" / "lnxa01-vdb.img")).name() == "lnxa01-vdb.img"
    assert lab.tcp_uris[A].startswith("qemu+tcp://127.0.0.1:")


def test_new_image_is_a_volume_of_the_hosts_pool(lab: Lab, uri: str, conn_a: libvirt.virConnect, on_a: Path,
                                                 tmp_path: Path) -> None:
    name = _name("new", "qcow2")
    path = f"{POOL_DIR}/{name}"
    result = ztui("attach", "lnxa03", "--disk", path, "--size", "16M", "-c", uri, "--json", state=tmp_path)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["outcome"] == "attached"
    assert any("vol-create-as default " + name in c for c in doc["commands"])
    vol = conn_a.storageVolLookupByPath(path)
    assert vol.storagePoolLookupByVolume().name() == "default"
    assert "<format type='qcow2'/>" in vol.XMLDesc(0) and vol.info()[1] == 16 << 20
    assert (on_a / name).is_file()  # inside zlab-a's namespace ...
    assert not Path(path).exists()  # ... and not on this machine
    assert ztui("detach", "lnxa03", doc["target"], "-c", uri, state=tmp_path).returncode == 0
    vol.delete(0)


def test_image_only_on_the_host_attaches_and_resolves_without_warning(lab: Lab, uri: str, on_a: Path,
                                                                      tmp_path: Path) -> None:
    name = _name("only-a", "qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(on_a / name), "8M"], check=True)
    path = f"{POOL_DIR}/{name}"
    assert not Path(path).exists()
    result = ztui("attach", "lnxa02", "--disk", path, "-c", uri, "--json", state=tmp_path)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert "type=\"qcow2\"" in doc["xml"]  # the format as the host's volume has it
    try:
        tree = ztui("tree", "--json", "-c", uri, "lnxa02", state=tmp_path)
        assert tree.returncode == 0, tree.stderr
        device = _device(json.loads(tree.stdout), "lnxa02", path)
        assert device["warnings"] == []
        steps = [(s["kind"], s["id"]) for s in device["backing"]]
        assert ("pool", "default") in steps and ("volume", f"default/{name}") in steps
    finally:
        assert ztui("detach", "lnxa02", doc["target"], "-c", uri, state=tmp_path).returncode == 0


def test_image_only_on_this_machine_is_refused_before_libvirt(lab: Lab, uri: str, conn_a: libvirt.virConnect,
                                                              tmp_path: Path) -> None:
    image = tmp_path / "here.img"
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(image), "8M"], check=True)
    before = conn_a.lookupByName("lnxa03").XMLDesc(0)
    result = ztui("attach", "lnxa03", "--disk", str(image), "-c", uri, state=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"ztui: {image} does not exist on {A}: no storage pool there has it (give --size to " \
                            "create a new image)\n"
    assert conn_a.lookupByName("lnxa03").XMLDesc(0) == before
    result = ztui("attach", "lnxa03", "--disk", str(tmp_path / "new.qcow2"), "--size", "8M", "-c", uri,
                  state=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"ztui: no storage pool on {A} holds {tmp_path}; define one or give an existing image\n"
    assert not (tmp_path / "new.qcow2").exists()


class _Watch:
    """Every file-system call of this process that names one of `paths` (or a path below them)."""

    def __init__(self, *paths: str) -> None:
        self.paths = tuple(paths)
        self.seen: list[str] = []
        self.armed = False

    def check(self, what: str, arg: object) -> None:
        if self.armed and isinstance(arg, (str, Path)) and str(arg).startswith(self.paths):
            self.seen.append(f"{what} {arg}")

    def audit(self, event: str, args: tuple[object, ...]) -> None:
        if event in ("open", "os.remove", "os.listdir", "os.scandir", "shutil.rmtree") and args:
            self.check(event, args[0])
        elif event == "subprocess.Popen" and self.armed:
            self.seen.append(f"run {args[1]!r}")


_WATCH = _Watch(POOL_DIR)
sys.addaudithook(_WATCH.audit)  # hooks cannot be removed: the watch is armed only inside the test


def test_an_attach_to_a_lab_host_never_touches_this_machines_files(lab: Lab, uri: str, conn_a: libvirt.virConnect,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from ztui.libvirt.eventloop import ensure_event_loop
    from ztui.libvirt.link import HostLink
    from ztui.ops.attach.plan import AttachRequest, plan_attach
    from ztui.ops.attach.probe import HostProbe
    from ztui.ops.attach.prove import detach
    from ztui.ops.attach.read import read_facts
    from ztui.ops.attach.run import carry_out_attach

    for module, name in ((os, "stat"), (os, "lstat"), (os, "access"), (os.path, "exists"), (os.path, "lexists"),
                         (os.path, "isdir"), (os.path, "realpath"), (os, "unlink")):
        real = getattr(module, name)

        def watched(arg: object, *rest: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            _WATCH.check(_name, arg)
            return _real(arg, *rest, **kw)

        monkeypatch.setattr(module, name, watched)
    ensure_event_loop()
    conn = libvirt.open(uri)
    try:
        dom = conn.lookupByName("lnxa03")
        path = f"{POOL_DIR}/{_name('watched', 'qcow2')}"
        _WATCH.armed = True
        try:
            plan = plan_attach(AttachRequest("lnxa03", "disk", path, 8 << 20), read_facts(conn, dom),
                               HostProbe.for_connection(conn))
            change = carry_out_attach(HostLink.of(conn), dom, plan)
        finally:
            _WATCH.armed = False
        assert change.ok, change.message
        assert _WATCH.seen == []
        assert change.device is not None
        assert detach(conn, dom, change.device, live=True, config=False, timeout=10).ok
        conn_a.storageVolLookupByPath(path).delete(0)
    finally:
        conn.close()
