"""The shortcuts that make reading a big host fast must give exactly what the plain way gives.

Device XML cut at line starts against expat's byte offsets, `GuestDevice.with_backing` against
`dataclasses.replace`, derived `HostDevice` fields after a replace, and the concurrent domain read against
the serial one, on the fixtures and on a generated test-driver host.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DOMAIN_FIXTURES
from ztui.lab.testdriver import write_testdriver
from ztui.libvirtxml.domain import _cut_at_lines, _parse_with_expat_offsets, parse_domain
from ztui.model import (
    BackingStep,
    CcwAddress,
    DeviceKind,
    Fact,
    GuestDevice,
    HostDevice,
    HostDeviceKind,
    StepKind,
)


def expat_texts(text: str) -> list[str | None]:
    root, texts = _parse_with_expat_offsets(text, "test")
    devices = root.find("devices")
    assert devices is not None
    return [texts.get(id(child)) for child in devices]


@pytest.mark.parametrize("path", DOMAIN_FIXTURES, ids=lambda p: p.name)
def test_line_cut_equals_expat_offsets(path: Path) -> None:
    text = path.read_text()
    devices = ET.fromstring(text).find("devices")
    assert devices is not None
    cut = _cut_at_lines(text, devices)
    assert cut is not None, "libvirt's own layout should take the fast path"
    assert [cut[id(child)] for child in devices] == expat_texts(text)


DOMAIN = """<domain type='kvm'><name>g</name><uuid>6a1c2c3e-0000-4000-8000-000000000001</uuid>
<memory>1024</memory>{devices}</domain>"""

ODD_LAYOUTS = {
    # all on one line: no line opens a child
    "one line": "<devices><disk type='file' device='disk'><source file='/a'/><target dev='vda'/></disk>"
                "<interface type='network'><source network='n'/></interface></devices>",
    # a nested element at the children's indentation looks like one more child
    "nested at child indent": "<devices>\n  <disk type='file' device='disk'>\n  <source file='/a'/>\n"
                              "    <target dev='vda'/>\n  </disk>\n  <panic model='s390'/>\n</devices>",
    # a comment between children would end up inside the piece before it
    "comment between": "<devices>\n  <disk type='file' device='disk'>\n    <target dev='vda'/>\n  </disk>\n"
                       "  <!-- spare -->\n  <panic model='s390'/>\n</devices>",
    # two children on one line
    "two on a line": "<devices>\n  <panic model='s390'/><memballoon model='virtio'/>\n"
                     "  <rng model='virtio'><backend model='random'>/dev/random</backend></rng>\n</devices>",
}


@pytest.mark.parametrize("devices", ODD_LAYOUTS.values(), ids=ODD_LAYOUTS.keys())
def test_odd_layouts_fall_back_and_keep_each_device_text(devices: str) -> None:
    text = DOMAIN.format(devices=devices)
    elem = ET.fromstring(text).find("devices")
    assert elem is not None
    assert _cut_at_lines(text, elem) is None
    guest = parse_domain(text)
    assert [d.xml for d in guest.devices] == [t for t in expat_texts(text) if t is not None]
    for device, child in zip(guest.devices, elem, strict=True):
        assert ET.fromstring(device.xml).tag == child.tag


def test_with_backing_is_replace() -> None:
    device = GuestDevice(kind=DeviceKind.DISK, xml="<disk/>", bus="virtio", model="m", target="vda",
                         alias="virtio-disk0", address=CcwAddress(0xFE, 0, 1), source="/a", passthrough=True,
                         migration_blocker=True, blocker_reason="r", details=(("type", "file"),),
                         warnings=("w",))
    chain = (BackingStep(kind=StepKind.FILE, id="/a", device_key="file:/a", exclusive=True),)
    assert device.with_backing(chain) == dataclasses.replace(device, backing=chain)
    assert device.with_backing(()) is device


def test_host_device_derived_fields_follow_a_replace() -> None:
    dev = HostDevice(kind=HostDeviceKind.STORAGE, name="block_sda", id="/dev/sda",
                     facts=(Fact("size", "1", "udev"), Fact("size", "2", "libvirt")))
    assert dev.key == "block:/dev/sda"
    assert dev.fact("size") == "1" and dev.fact("absent") == ""
    moved = dataclasses.replace(dev, kind=HostDeviceKind.CCW, id="0.0.5c3f", facts=(Fact("online", "1", "udev"),))
    assert moved.key == "ccw:0.0.5c3f"
    assert moved.fact("online") == "1" and moved.fact("size") == ""
    assert moved != dev and dataclasses.replace(dev) == dev


@pytest.fixture(scope="module")
def big_host(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("fast") / "host.xml"
    write_testdriver(path, 40)
    return f"test://{path}"


def test_concurrent_read_equals_serial_read(big_host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    libvirt: Any = pytest.importorskip("libvirt")
    from ztui.libvirt import reader

    conn = libvirt.open(big_host)
    try:
        fetched = reader.read_guests(conn)
        monkeypatch.setattr(reader, "_SERIAL_BELOW", 10**6)
        assert reader.read_guests(conn) == fetched
        assert len(fetched) == 40 and len({g.uuid for g in fetched}) == 40
        assert [g.name for g in fetched] == sorted(g.name for g in fetched)
    finally:
        conn.close()


def test_a_guest_gone_during_the_read_is_left_out(big_host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    libvirt: Any = pytest.importorskip("libvirt")
    from ztui.libvirt import reader

    conn = libvirt.open(big_host)
    try:
        domains = reader.list_domains(conn)
        victim = domains[7]
        name = victim.name()
        monkeypatch.setattr(reader, "list_domains", lambda c, names=None: domains)
        victim.destroy() if victim.isActive() else None
        victim.undefine()
        guests = reader.read_guests(conn)
        assert name not in {g.name for g in guests} and len(guests) == 39
    finally:
        conn.close()


def test_a_device_text_read_before_gives_the_same_record(monkeypatch: pytest.MonkeyPatch) -> None:
    from ztui.libvirtxml import domain as domxml

    devices = ("<devices>\n  <panic model='s390'/>\n  <disk type='file' device='disk'>\n"
               "    <source file='/{image}'/>\n    <target dev='vda' bus='virtio'/>\n  </disk>\n</devices>")
    first = parse_domain(DOMAIN.format(devices=devices.format(image="a")))
    second = parse_domain(DOMAIN.format(devices=devices.format(image="b")))
    assert second.devices[0] is first.devices[0]  # the same panic device
    assert second.devices[1] is not first.devices[1] and second.devices[1].source == "/b"
    monkeypatch.setattr(domxml, "_READ_BEFORE_MAX", 1)
    third = parse_domain(DOMAIN.format(devices=devices.format(image="c")))
    assert len(domxml._READ_BEFORE) <= 1  # bounded: it starts again when full
    assert third.devices[0] == first.devices[0] and third.devices[1].source == "/c"


def test_examining_many_files_says_what_realpath_and_mount_of_say(tmp_path: Path) -> None:
    import os
    import stat

    from ztui.host.files import files_info, mount_of, read_mounts

    (tmp_path / "pool").mkdir()
    (tmp_path / "pool" / "a.qcow2").write_bytes(b"x" * 10)
    (tmp_path / "link.qcow2").symlink_to(tmp_path / "pool" / "a.qcow2")
    (tmp_path / "linkdir").symlink_to(tmp_path / "pool")
    paths = [str(tmp_path / "pool" / "a.qcow2"), str(tmp_path / "link.qcow2"), str(tmp_path / "linkdir" / "a.qcow2"),
             str(tmp_path / "pool" / ".." / "pool" / "a.qcow2"), str(tmp_path / "missing.img"), str(tmp_path / "pool"),
             "/etc/hostname", "/etc/resolv.conf", "/dev/null", "/", "relative.img"]
    mounts = read_mounts()
    for info in files_info(paths):
        try:
            st = os.stat(info.path)
        except OSError:
            assert not info.exists and info.error
            continue
        real = os.path.realpath(info.path)
        mount = mount_of(real, mounts)
        assert (info.realpath, info.mount_point, info.fs_type, info.size) == (
            real, mount.mount_point if mount else "", mount.fs_type if mount else "",
            st.st_size if stat.S_ISREG(st.st_mode) else None), info.path


def _in_place(chain: Any, key: object, build: Any) -> None:
    build(chain)


def test_shared_steps_equal_steps_built_in_place(big_host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    libvirt: Any = pytest.importorskip("libvirt")
    from ztui.host import resolve as resolve
    from ztui.libvirt.link import HostLink
    from ztui.libvirt.pipeline import scan_host
    from ztui.libvirt.reader import read_host

    conn = libvirt.open(big_host)
    try:
        host = read_host(conn, big_host)
        inv = scan_host(HostLink(big_host, conn), host.guests)
    finally:
        conn.close()
    shared = resolve.resolve_host(host, inv)
    assert inv.derived, "a whole host shares file-system and network steps"
    monkeypatch.setattr(resolve, "_shared", _in_place)
    assert resolve.resolve_host(host, inv) == shared


def test_a_chain_that_loops_through_a_shared_part_is_built_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """A loop device whose backing file lives on the file system the loop device carries: the steps below
    the file system hold the loop device again, which the chain has already."""
    from ztui.host import resolve as resolve
    from ztui.host.index import FileInfo, FileKind
    from ztui.host.inventory import build_inventory
    from ztui.libvirtxml.domain import parse_device_xml

    loop = HostDevice(kind=HostDeviceKind.BLOCK, name="loop0", id="/dev/loop0", devnodes=("/dev/loop0",),
                      facts=(Fact("devtype", "disk", "udev"), Fact("majmin", "7:0", "udev"),
                             Fact("loop_backing_file", "/mnt/img/backing.raw", "udev")), source="udev")
    on_loop = {"exists": True, "kind": FileKind.FILE, "size": 1 << 20, "mount_point": "/mnt/img", "fs_type": "ext4",
               "mount_source": "/dev/loop0", "majmin": "7:0"}
    inv = build_inventory([loop]).with_files([FileInfo("/mnt/img/a.raw", **on_loop),  # type: ignore[arg-type]
                                               FileInfo("/mnt/img/backing.raw", **on_loop)])  # type: ignore[arg-type]
    device = parse_device_xml("<disk type='file' device='disk'><source file='/mnt/img/a.raw'/>"
                              "<target dev='vda' bus='virtio'/></disk>")
    shared = [resolve.resolve_device(device, inv) for _ in range(2)]
    monkeypatch.setattr(resolve, "_shared", _in_place)
    assert shared[0] == shared[1] == resolve.resolve_device(device, inv)
    assert [s.kind for s in shared[0]] == ["file", "mount", "loop", "file"]


def test_compact_json_is_json_dumps_of_the_tree(big_host: str) -> None:
    import json

    libvirt: Any = pytest.importorskip("libvirt")
    from ztui.cli.tree import load_domain_files
    from ztui.host.resolve import resolve_host
    from ztui.libvirt.link import HostLink
    from ztui.libvirt.pipeline import scan_host
    from ztui.libvirt.reader import read_host
    from ztui.model import Host
    from ztui.report.tree_json import host_json_compact, hosts_json_compact, tree_json

    def tree_json_compact(hosts: list[Host]) -> str:
        return hosts_json_compact([host_json_compact(h) for h in hosts])

    conn = libvirt.open(big_host)
    try:
        host = read_host(conn, big_host)
        host = resolve_host(host, scan_host(HostLink(big_host, conn), host.guests))
    finally:
        conn.close()
    saved, _ = load_domain_files([str(p) for p in DOMAIN_FIXTURES])
    hosts = [host, saved, Host(uri="qemu+ssh://gone/system", connected=False, error="no route to host")]
    assert tree_json_compact(hosts) == json.dumps(tree_json(hosts), separators=(",", ":"))
    assert tree_json_compact([]) == json.dumps(tree_json([]), separators=(",", ":"))


@pytest.mark.parametrize("path", DOMAIN_FIXTURES, ids=lambda p: p.name)
def test_a_document_read_again_gives_the_guest_a_first_reading_gives(path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from ztui.libvirtxml import domain as domxml

    monkeypatch.setattr(domxml, "_READ_BEFORE", {})
    text = path.read_text()
    first = parse_domain(text)
    again = parse_domain(text)
    assert again == first
    assert all(a is b for a, b in zip(again.devices, first.devices, strict=True) if a.xml in domxml._READ_BEFORE)


def test_a_device_that_needs_its_documents_namespaces_is_not_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    from ztui.libvirtxml import domain as domxml

    monkeypatch.setattr(domxml, "_READ_BEFORE", {})
    text = ("<domain type='kvm' xmlns:x='urn:x' xmlns:é='urn:e'><name>g</name>"
            "<uuid>6a1c2c3e-0000-4000-8000-000000000002</uuid><devices>\n  <panic model='s390' x:y='1'/>\n"
            "  <memballoon model='none' é:z='2'/>\n  <rng model='virtio'/>\n</devices></domain>")
    guest = parse_domain(text)
    assert [d.xml for d in guest.devices] == ["<panic model='s390' x:y='1'/>", "<memballoon model='none' é:z='2'/>",
                                              "<rng model='virtio'/>"]
    assert list(domxml._READ_BEFORE) == ["<rng model='virtio'/>"]
    assert parse_domain(text) == guest
    # a prefixed element is not cut at lines at all, and texts cut by expat are never reused
    monkeypatch.setattr(domxml, "_READ_BEFORE", {})
    parse_domain(text.replace("<rng model='virtio'/>", "<x:gadget/>"))
    assert not domxml._READ_BEFORE


def test_documents_that_could_mislead_the_line_cut_or_the_reuse(monkeypatch: pytest.MonkeyPatch) -> None:
    from ztui.libvirtxml import domain as domxml

    monkeypatch.setattr(domxml, "_READ_BEFORE", {})
    disk = "<disk type='file' device='disk'>\n    <source file='{}'/>\n    <target dev='vda'/>\n  </disk>"
    # a copy of a devices block in the metadata, with another disk
    decoy = (f"<domain type='kvm'><name>a</name><metadata><app xmlns='urn:x'><devices>\n  {disk.format('/X.qcow2')}"
             f"\n</devices></app></metadata><devices>\n  {disk.format('/Y.qcow2')}\n</devices></domain>")
    assert [d.source for d in parse_domain(decoy).devices] == ["/Y.qcow2"]
    plain = DOMAIN.format(devices=f"<devices>\n  {disk.format('/X.qcow2')}\n</devices>")
    assert [d.source for d in parse_domain(plain).devices] == ["/X.qcow2"]
    # two children on one line, the lines below shifted so that tags and closings still match
    shifted = DOMAIN.format(devices="<devices>\n  <memballoon model='none'/><panic model='s390'/>\n"
                                    "  <panic model='x'><foo/>\n  <panic/></panic>\n</devices>")
    assert [d.xml for d in parse_domain(shifted).devices] == [
        "<memballoon model='none'/>", "<panic model='s390'/>", "<panic model='x'><foo/>\n  <panic/></panic>"]
    # an entity gives the same text another meaning in another document
    entity = "<!DOCTYPE domain [<!ENTITY img '{}'>]>" + DOMAIN.format(
        devices=f"<devices>\n  {disk.format('&img;')}\n</devices>")
    assert [d.source for d in parse_domain(entity.format("/a.img")).devices] == ["/a.img"]
    assert [d.source for d in parse_domain(entity.format("/b.img")).devices] == ["/b.img"]


def test_examining_odd_spellings_of_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from ztui.host.files import files_info

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / ".hidden.img").write_bytes(b"")
    (tmp_path / "d" / "a.img").write_bytes(b"")
    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "real" / "x.img").write_bytes(b"")
    (tmp_path / "lnk").symlink_to(tmp_path / "real" / "sub")
    (tmp_path / "lnkdir").symlink_to(tmp_path / "real")
    monkeypatch.chdir(tmp_path)
    spellings = ["d/a.img", "./d/a.img", f"{tmp_path}//d/a.img", f"{tmp_path}/d/../d/a.img",
                 f"{tmp_path}/d/.hidden.img", "/a.img", "/", "/etc", f"{tmp_path}/d/",
                 f"{tmp_path}/lnk/../x.img", f"{tmp_path}/lnkdir/", f"{tmp_path}/lnk/.", f"{tmp_path}/lnk/.."]
    for info in files_info(spellings):
        assert info.realpath == (os.path.realpath(info.path) if info.exists else ""), info.path


def test_persistence_comes_from_the_list_of_transient_guests(big_host: str) -> None:
    libvirt: Any = pytest.importorskip("libvirt")
    from ztui.libvirt.reader import read_guest_summaries, read_guests

    conn = libvirt.open(big_host)
    try:
        template = ET.fromstring(conn.listAllDomains(0)[0].XMLDesc(0))
        template.find("name").text = "transient-one"  # type: ignore[union-attr]
        template.find("uuid").text = "6a1c2c3e-0000-4000-8000-0000000000ff"  # type: ignore[union-attr]
        conn.createXML(ET.tostring(template, encoding="unicode"), 0)
        for guests in (read_guests(conn), read_guest_summaries(conn)):
            persistent = {g.name: g.persistent for g in guests}
            assert persistent.pop("transient-one") is False
            assert set(persistent.values()) == {True}
    finally:
        conn.close()
