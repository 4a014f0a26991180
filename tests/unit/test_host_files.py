"""Which host is which (`host.place`), pool and volume XML, and a remote host's files as storage volumes
(`host.storage.StorageFiles` against libvirt's own test driver, a real libvirt implementation)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from ztui.host.inventory import build_inventory
from ztui.host.place import HostPlace, host_place
from ztui.host.storage import HostFileKind, LocalFiles, StorageFiles, host_files
from ztui.libvirtxml.pool import new_volume_xml, parse_pool, parse_volume, pool_holding
from ztui.model import HostDevice, HostDeviceKind, NetworkInfo
from ztui.ops.attach.candidates import attach_candidates

FIXTURES = Path(__file__).parent.parent / "fixtures" / "storage"


def test_places() -> None:
    assert host_place("test:///default") is HostPlace.THIS_MACHINE
    assert host_place("qemu+tcp://127.0.0.1:1/system") is HostPlace.REMOTE
    assert host_place("qemu+ssh://root@lpar2/system") is HostPlace.REMOTE
    assert not HostPlace.REMOTE.kernel_here and not HostPlace.REMOTE.files_here
    assert HostPlace.OTHER_NAMESPACE.kernel_here and not HostPlace.OTHER_NAMESPACE.files_here
    # no daemon behind the socket: the URI's form decides (this machine)
    assert host_place("qemu+unix:///system?socket=/nonexistent/sock") is HostPlace.THIS_MACHINE


def _pools() -> dict[str, object]:
    root = ET.parse(FIXTURES / "pools.xml").getroot()
    return {p.name: p for p in (parse_pool(ET.tostring(e, encoding="unicode")) for e in root)}


def test_pool_xml_of_every_kind() -> None:
    pools = _pools()
    default, fs, lvm, disk, iscsi, mpath, rbd, fcp = (pools[n] for n in ("default", "dasdpool", "vg_guests", "lun7",
                                                                           "san", "mp", "ceph", "fcp"))
    assert (default.type, default.target, default.holds_files) == ("dir", "/var/lib/libvirt/images", True)
    assert fs.devices == ("/dev/disk/by-path/ccw-0.0.5c3f-part1",) and fs.source_format == "ext4" and fs.holds_files
    assert lvm.devices == ("/dev/mapper/mpatha", "/dev/dasdb1") and lvm.source_name == "vg_guests"
    assert not lvm.holds_files
    assert disk.devices[0].endswith("0807") and disk.source_format == "gpt"
    assert iscsi.hosts == ("192.0.2.10",) and iscsi.iqn == "iqn.2013-06.com.example:target0" and not iscsi.devices
    assert (mpath.type, mpath.target) == ("mpath", "/dev/mapper")
    assert rbd.hosts == ("mon1", "mon2") and rbd.source_name == "rbdpool" and rbd.target == ""
    assert fcp.adapter == "scsi_host3"
    assert pool_holding("/var/lib/libvirt/images/", list(pools.values())) is default  # type: ignore[arg-type]
    assert pool_holding("/dev/vg_guests", list(pools.values())) is None  # type: ignore[arg-type]


def test_volume_xml_and_new_volume() -> None:
    vol = parse_volume((FIXTURES / "volume-backing.xml").read_text())
    assert (vol.name, vol.type, vol.format) == ("overlay.qcow2", "file", "qcow2")
    assert (vol.capacity, vol.allocation) == (10 << 30, 200704)
    assert (vol.backing, vol.backing_format) == ("/var/lib/libvirt/images/base.qcow2", "qcow2")
    new = parse_volume(new_volume_xml("d.qcow2", 16 << 20, "qcow2"))
    assert (new.name, new.capacity, new.format) == ("d.qcow2", 16 << 20, "qcow2")


@pytest.fixture
def test_conn() -> Iterator[libvirt.virConnect]:
    conn = libvirt.open("test:///default")  # a fresh in-process host per open
    yield conn
    conn.close()


def test_storage_files_create_examine_identity_remove(test_conn: libvirt.virConnect) -> None:
    files = StorageFiles(test_conn, "test:///default")
    path = "/default-pool/new.qcow2"
    assert files.examine(path).kind is HostFileKind.MISSING
    site = files.new_file_site(path)
    assert (site.pool, site.problem) == ("default-pool", "")
    assert "vol-create-as default-pool new.qcow2 1048576 --format qcow2" in files.create_command(path, 1 << 20, "qcow2")
    files.create(path, 1 << 20, "qcow2")
    found = files.examine(path)
    assert (found.kind, found.pool, found.volume, found.capacity) == (HostFileKind.FILE, "default-pool", "new.qcow2",
                                                                      1 << 20)
    assert files.identity("/default-pool/./new.qcow2") == files.identity(path)
    files.remove(path)
    assert files.examine(path).kind is HostFileKind.MISSING


def test_storage_files_refuse_a_directory_no_pool_holds(test_conn: libvirt.virConnect) -> None:
    files = StorageFiles(test_conn, "test:///default")
    site = files.new_file_site("/srv/elsewhere/x.img")
    assert site.problem == "no storage pool on vm holds /srv/elsewhere; define one or give an existing image"
    with pytest.raises(ValueError, match="no storage pool on vm holds"):
        files.create("/srv/elsewhere/x.img", 1 << 20, "raw")


def test_the_test_driver_is_this_machine(test_conn: libvirt.virConnect) -> None:
    assert isinstance(host_files(test_conn), LocalFiles)
    assert isinstance(host_files(None), LocalFiles)


def test_bridge_candidates_come_from_the_inventory_not_this_machines_sys() -> None:
    """A remote host's inventory: node devices and networks only. Its bridge is offered because its network
    names it, and nothing is looked up in this machine's /sys (where `virbr7` does not exist)."""
    nets = [HostDevice(HostDeviceKind.NET, f"net_{n}", n, source="libvirt") for n in ("virbr7", "encbd00", "lo")]
    inv = build_inventory((), nets, networks=(NetworkInfo("lan", bridge="virbr7", active=True),), uri="qemu+ssh://x")
    offers = attach_candidates(inv, None)
    assert [c.value for c in offers["bridge"]] == ["virbr7"]
    assert [c.value for c in offers["macvtap"]] == ["encbd00"]


DISKS = """<domain type='kvm'><name>g</name><uuid>00000000-0000-0000-0000-0000000000aa</uuid>
<os><type arch='s390x' machine='s390-ccw-virtio'>hvm</type></os><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/srv/images/a.qcow2'/>
  <target dev='vda' bus='virtio'/></disk>
<disk type='volume' device='disk'><driver name='qemu' type='raw'/><source pool='san' volume='unit:0:0:1'/>
  <target dev='vdb' bus='virtio'/></disk>
</devices></domain>"""


def test_remote_image_resolves_through_its_pool_down_to_the_node_device() -> None:
    """A remote host (no udev, no file of its own examined): the image is a volume of an `fs` pool on a DASD
    partition, which libvirt's node devices know; a volume of an iSCSI pool ends at the portal and IQN."""
    from ztui.host.index import VolumeInfo
    from ztui.host.resolve import resolve_guest
    from ztui.libvirtxml.domain import parse_domain

    part = HostDevice(HostDeviceKind.STORAGE, "block_dasdb1", "/dev/dasdb1", source="libvirt",
                      devnodes=("/dev/dasdb1", "/dev/disk/by-path/ccw-0.0.5c3f-part1"))
    volumes = (VolumeInfo("/srv/images/a.qcow2", "dasdpool", "a.qcow2", "fs",
                          ("/dev/disk/by-path/ccw-0.0.5c3f-part1",)),
               VolumeInfo("/dev/disk/by-path/ip-192.0.2.10:3260-iscsi-iqn.x-lun-1", "san", "unit:0:0:1", "iscsi",
                          (), "192.0.2.10 iqn.2013-06.com.example:target0"))
    inv = build_inventory((), (part,), volumes=volumes, uri="qemu+ssh://lpar2/system")
    guest = resolve_guest(parse_domain(DISKS), inv)
    image = [(s.kind, s.id, s.name) for s in guest.devices[0].backing]
    assert image[:3] == [("file", "/srv/images/a.qcow2", "qcow2 image"), ("pool", "dasdpool", "fs storage pool"),
                         ("volume", "dasdpool/a.qcow2", "a.qcow2")]
    assert "/dev/dasdb1" in [s.id for s in guest.devices[0].backing]
    assert not any(s.warning for d in guest.devices for s in d.backing)
    lun = [(s.kind, s.id) for s in guest.devices[1].backing]
    assert ("pool", "san") in lun and ("remote", "192.0.2.10 iqn.2013-06.com.example:target0") in lun


def test_preflight_judges_local_disks_by_what_the_destination_has() -> None:
    """The destination's own answer (its storage pools) on each local image: missing blocks `--unsafe`;
    unknown (no pool there covers the directory) keeps the reminder only."""
    from dataclasses import replace

    from ztui.libvirtxml.domain import parse_domain
    from ztui.model import GuestState
    from ztui.ops.migrate.plan import MigrationOptions
    from ztui.ops.migrate.preflight import assess
    from ztui.ops.migrate.read import MigrationHost

    g = replace(parse_domain(DISKS), state=GuestState.RUNNING)
    dest = MigrationHost("qemu+ssh://b/system", networks=(), machine_error="")
    missing = assess(g, MigrationOptions(unsafe=True), replace(dest, files=(("/srv/images/a.qcow2", "missing"),)))
    assert [f.text for f in missing.blockers] == ["--unsafe, but the destination has no /srv/images/a.qcow2 (its "
                                                  "storage pools say so)"]
    assert assess(g, MigrationOptions(unsafe=True), replace(dest, files=(("/srv/images/a.qcow2", "present"),))).ok
    assert assess(g, MigrationOptions(unsafe=True), dest).ok


def test_fetches_spread_over_several_connections_keep_the_order(tmp_path: Path) -> None:
    """For a far host the guests' XML is fetched through several connections (each with its own requests in
    flight); every document still lands at its guest's place, also for guests only the first one lists."""
    from ztui.lab.testdriver import write_testdriver
    from ztui.libvirt.reader import SpareConnection, _fetch_on, _fetch_spread

    host = tmp_path / "host.xml"
    write_testdriver(host, 30)
    first = libvirt.open(f"test://{host}")
    extra = [libvirt.open(f"test://{host}") for _ in range(3)]  # each open is an instance of its own
    try:
        domains = first.listAllDomains(0)
        alone = first.createXML(domains[0].XMLDesc(0).replace(domains[0].name(), "only-first")
                                .replace(domains[0].UUIDString(), "8e1c9d2a-0000-4000-8000-000000000001"), 0)
        domains.append(alone)
        assert _fetch_spread(domains, [SpareConnection.listing(c) for c in extra]) == _fetch_on(domains)
    finally:
        for conn in (first, *extra):
            conn.close()


def test_ssh_connections_never_prompt() -> None:
    """Every ssh connection ztui opens, the first one included, is opened with no_tty=1 (BatchMode); the ssh
    program libvirt runs is `tests/unit/test_ssh_terminal.py`'s."""
    from ztui.libvirt.connection import without_prompts

    def quiet(uri: str) -> str:
        return without_prompts(uri, lambda _command: None)

    assert quiet("qemu+ssh://root@lpar2/system") == "qemu+ssh://root@lpar2/system?no_tty=1"
    assert quiet("qemu+ssh://lpar2/system?keyfile=/k") == "qemu+ssh://lpar2/system?keyfile=/k&no_tty=1"
    assert quiet("qemu+ssh://lpar2/system?no_tty=0&x=%20") == "qemu+ssh://lpar2/system?x=%20&no_tty=1"
    assert quiet("qemu+ssh://lpar2/system?no_tty=1") == "qemu+ssh://lpar2/system?no_tty=1"
    assert quiet("qemu+libssh2://lpar2/system") == "qemu+libssh2://lpar2/system?no_tty=1"
    assert quiet("qemu+tcp://lpar2/system") == "qemu+tcp://lpar2/system"


def test_one_function_decides_which_host_is_which(test_conn: libvirt.virConnect, tmp_path: Path) -> None:
    """`facts_source_for` carries the host's place beside its facts; the host's files (`host_files`) follow
    it: this machine's file system only for a host in this mount namespace, a snapshot host's files are its
    pools' too (a recorded host is never this machine's file system)."""
    from ztui.host.facts_source import (
        FactsOrigin,
        HostFacts,
        facts_source_for,
        forget_snapshots,
        use_snapshot,
        write_snapshot,
    )

    here = facts_source_for("test:///default")
    assert (here.origin, here.place, here.files_here) == (FactsOrigin.LIVE, HostPlace.THIS_MACHINE, True)
    far = facts_source_for("qemu+tcp://127.0.0.1:1/system")
    assert (far.origin, far.place, far.files_here, far.files(["/etc/hostname"])) == (
        FactsOrigin.REMOTE, HostPlace.REMOTE, False, ())
    files = host_files(test_conn, "qemu+tcp://127.0.0.1:1/system")
    assert isinstance(files, StorageFiles) and files.place is HostPlace.REMOTE and files.here("/x.img") is None

    snapshot = tmp_path / "facts.json"
    write_snapshot(HostFacts(origin=FactsOrigin.RECORDED, hostname="lpar9"), str(snapshot))
    try:
        use_snapshot("qemu+ssh://lpar9/system", str(snapshot))
        recorded = facts_source_for("qemu+ssh://lpar9/system")
        assert (recorded.origin, recorded.place, recorded.same_machine) == (FactsOrigin.RECORDED, HostPlace.REMOTE,
                                                                            False)
        assert isinstance(host_files(test_conn, "qemu+ssh://lpar9/system"), StorageFiles)
    finally:
        forget_snapshots()


def test_image_in_use_asks_the_guests_host(test_conn: libvirt.virConnect) -> None:
    """A new image on a remote host is looked up in its pools: one that is not there holds nothing (and is
    not looked for on this machine); one that is may be held by the far QEMU and is kept."""
    from ztui.ops.attach.settle import GuestHandle, image_in_use

    dom = test_conn.lookupByName("test")
    handle = GuestHandle("qemu+tcp://127.0.0.1:1/system", dom.UUIDString(), "test", test_conn, dom)
    path = "/default-pool/made.qcow2"
    assert image_in_use(path, handle) == ""
    StorageFiles(test_conn, "test:///default").create(path, 1 << 20, "qcow2")
    assert "another machine, whose QEMU may hold /default-pool/made.qcow2" in image_in_use(path, handle)


def test_a_daemon_in_another_namespace_that_is_gone_keeps_its_images(test_conn: libvirt.virConnect) -> None:
    """A lab host's QEMU runs on this kernel, so its holders are looked at through the daemon's root; when
    that daemon cannot be found the image is kept, never judged free."""
    from ztui.host.storage import HostFilesError

    files = StorageFiles(test_conn, "qemu+unix:///system?socket=/nonexistent/sock", HostPlace.OTHER_NAMESPACE)
    with pytest.raises(HostFilesError, match="cannot be looked at"):
        files.here("/var/lib/libvirt/images/a.qcow2")


def test_prepare_refuses_a_host_known_by_its_facts(tmp_path: Path) -> None:
    """The simulated Z host's daemon runs on this machine, but its devices are its snapshot's: ztui prepare
    (which writes this kernel's sysfs) refuses it like a remote host, exit 2, nothing changed."""
    import subprocess
    import sys

    from ztui.host.facts_source import write_snapshot
    from ztui.lab.zhost import z_host_facts

    write_snapshot(z_host_facts(), str(tmp_path / "ztui-hostfacts.json"))
    for uri in (f"qemu+unix:///system?socket={tmp_path}/libvirt-sock", "qemu+tcp://127.0.0.1:1/system"):
        result = subprocess.run([sys.executable, "-m", "ztui", "prepare", "vfio-ccw", "0.0.5c07", "-c", uri,
                                 "--dry-run"], capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr.count("\n") == 1 and "is not this machine's own host" in result.stderr
