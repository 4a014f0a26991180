"""One volume across two LPARs: identities on kernel-format host facts (written through the zsysfs writers,
`ztui.lab.zhost`), the join between hosts, its decorations, and the reports that show them."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from ztui import zsysfs as kernel
from ztui.host.identity import scsi_identifier
from ztui.host.index import VolumeInfo
from ztui.host.inventory import Inventory, build_inventory
from ztui.host.resolve import resolve_host
from ztui.host.usage import users_of
from ztui.host.volumes import HostSummary, VolumeJoin, VolumeTracker, decorate_hosts, summarize
from ztui.lab.guests import BootSpec
from ztui.lab.zguests import ZDisk, ZGuest, twin_path, z_domain_xml
from ztui.lab.zhost import DESCRIPTION, TWIN_DESCRIPTION, Dasd, Description, twin_busid, z_host_facts
from ztui.libvirtxml.domain import guest_from_element
from ztui.model import (
    BackingStep,
    Fact,
    Guest,
    GuestState,
    Host,
    HostDevice,
    HostDeviceKind,
    IdentityKind,
    VolumeIdentity,
)
from ztui.report.hostdevs import inventory_json
from ztui.report.tree_json import _device_compact, device_json
from ztui.report.tree_text import render_hosts

Z, Y = "qemu+unix:///system?socket=/z", "qemu+unix:///system?socket=/y"
UID_05 = VolumeIdentity(IdentityKind.DASD, "IBM.750000000DXP71.5c00.05")
LUN_1 = VolumeIdentity(IdentityKind.SCSI, "naa.6005076303ffc5620000000000001001")


def inventory(desc: Description, uri: str) -> Inventory:
    facts = z_host_facts(desc)
    return build_inventory(facts.devices, local=True, system=facts.system, uri=uri)


@pytest.fixture(scope="module")
def z() -> Inventory:
    return inventory(DESCRIPTION, Z)


@pytest.fixture(scope="module")
def y() -> Inventory:
    return inventory(TWIN_DESCRIPTION, Y)


def guest(name: str, disks: tuple[ZDisk, ...], state: GuestState = GuestState.RUNNING) -> Guest:
    spec = ZGuest(name, running=True, disks=disks)
    return replace(guest_from_element(ET.fromstring(z_domain_xml(spec, BootSpec(Path("/k")), Path("/lab")))),
                   state=state, uuid=f"uuid-of-{name}")


def host(uri: str, name: str, inv: Inventory, *guests: Guest) -> Host:
    return resolve_host(Host(uri=uri, hostname=name, guests=guests), inv)


# --- identities --------------------------------------------------------------------------------------------


def test_two_lpars_number_the_same_volumes_otherwise_and_the_uids_match(z: Inventory, y: Inventory) -> None:
    here, there = z.get(HostDeviceKind.CCW, "0.0.5c05"), y.get(HostDeviceKind.CCW, "0.0.6c05")
    assert here is not None and there is not None and y.get(HostDeviceKind.CCW, "0.0.5c05") is None
    assert here.parent != there.parent  # other subchannels
    assert here.fact("uid") == there.fact("uid") == "IBM.750000000DXP71.5c00.05"  # the kernel's text, both
    assert z.identity(here.key) == y.identity(there.key) == UID_05
    volume = y.host_volume(UID_05)
    assert volume is not None and volume.device == "0.0.6c05" and volume.key == there.key
    # the block device and its partition are the volume too
    assert {"block:/dev/dasdf", "block:/dev/dasdf1"} <= volume.keys


def test_aliases_offline_fba_and_own_system_volumes_are_no_shared_volume(z: Inventory, y: Inventory) -> None:
    for inv, alias, offline, fba in ((z, "0.0.5cfe", "0.0.5c20", "0.0.0300"), (y, "0.0.6cfe", "0.0.6c20", "0.0.0310")):
        dev = inv.get(HostDeviceKind.CCW, alias)
        assert dev is not None and kernel.Dasd.uid.read(dev.fact("uid")).hyperpav  # type: ignore[union-attr]
        assert inv.identity(dev.key) is None  # a HyperPAV alias (`.xx`) is no volume of its own
        for busid in (offline, fba):
            ccw = inv.get(HostDeviceKind.CCW, busid)
            assert ccw is not None and inv.identity(ccw.key) is None  # no uid: unknown, not different
    root_z = z.identity("ccw:0.0.5c00")
    assert root_z is not None and y.host_volume(root_z) is None  # each LPAR's own system volumes
    assert {v.identity for v in y.host_volumes} - {v.identity for v in z.host_volumes} == {
        VolumeIdentity(IdentityKind.DASD, f"IBM.750000000DXP71.5e00.{ua}") for ua in ("00", "0a", "0b")} | {
        VolumeIdentity(IdentityKind.DASD, "IBM.750000000DXP71.5d00.00")}  # 0.0.5d00 is on vfio_ccw on zlab-z


def test_a_classic_pav_alias_repeats_its_bases_uid_and_is_no_volume() -> None:
    uid = kernel.DasdUid("IBM", "750000000DXP71", "5c00", "05")
    facts = (Fact("uid", kernel.Dasd.uid.write(uid), "udev"), Fact("alias", kernel.Dasd.alias.write(True), "udev"),
             Fact("role", "dasd", "udev"))
    alias = HostDevice(HostDeviceKind.CCW, "0.0.5cf0", "0.0.5cf0", driver="dasd-eckd", facts=facts)
    base = replace(alias, id="0.0.5c05", name="0.0.5c05",
                   facts=(facts[0], Fact("alias", kernel.Dasd.alias.write(False), "udev"), facts[2]))
    inv = build_inventory((alias, base), local=True)
    assert inv.identity(base.key) == UID_05 and inv.identity(alias.key) is None


def test_a_lun_is_one_volume_behind_every_path_and_fcp_channel(z: Inventory, y: Inventory) -> None:
    here, there = z.host_volume(LUN_1), y.host_volume(LUN_1)
    assert here is not None and there is not None
    assert here.device.startswith("0.0.1700:") and there.device.startswith("0.0.1900:")  # other FCP channels
    assert "block:/dev/dm-1" in here.keys and "block:/dev/dm-1" in there.keys
    assert len([k for k in here.keys if k.startswith("scsi:")]) == 2  # two paths
    assert {k for k in here.keys if k.startswith("scsi:")} != {k for k in there.keys if k.startswith("scsi:")}
    scsi = next(d for d in y.of_kind(HostDeviceKind.SCSI) if y.identity(d.key) == LUN_1)
    assert kernel.ScsiId.wwid.matches(scsi.fact("wwid")) and scsi.id.startswith("2:")  # other SCSI hosts


@pytest.mark.parametrize(("text", "wanted"), [
    ("naa.6005076303FFC5620000000000001001", "naa.6005076303ffc5620000000000001001"),  # the kernel's `wwid`
    ("36005076303ffc5620000000000001001", "naa.6005076303ffc5620000000000001001"),  # scsi_id, multipath
    ("0x6005076303ffc5620000000000001001", "naa.6005076303ffc5620000000000001001"),  # ID_WWN_WITH_EXTENSION
    ("20025388b91b2c1a4", "eui.0025388b91b2c1a4"),
    ("8iqn.2001-05.com.example:disk1", "iqn.2001-05.com.example:disk1"),
    ("QEMU_HARDDISK_drive-scsi0-0-0-0", ""),  # a vendor-model-serial string: no identifier
    ("3600", ""), ("", ""),
])
def test_scsi_identifiers_in_every_notation(text: str, wanted: str) -> None:
    assert scsi_identifier(text) == wanted


def test_an_nvme_namespace_by_its_wwid() -> None:
    disk = HostDevice(HostDeviceKind.BLOCK, "nvme0n1", "/dev/nvme0n1", devnodes=("/dev/nvme0n1",),
                      facts=(Fact("devtype", "disk", "udev"),
                             Fact("wwid", kernel.NvmeNamespace.wwid.write("eui.0025388b91b2c1a4"), "udev")))
    assert build_inventory((disk,), local=True).identity(disk.key) == VolumeIdentity(IdentityKind.NVME,
                                                                                    "eui.0025388b91b2c1a4")


def test_an_image_has_an_identity_only_on_storage_proven_shared() -> None:
    shared = VolumeInfo("/srv/images/a.qcow2", "lab", "a.qcow2", "dir", pool_target="/srv/images",
                        shared_at="directory 254:0 inode 7")
    private = replace(shared, shared_at="")
    nfs = VolumeInfo("/mnt/p/x/b.img", "nfs", "b.img", "netfs", pool_source="filer:/exp", pool_target="/mnt/p",
                     shared_at="netfs filer:/exp")
    inv = build_inventory((), volumes=(shared, private, nfs))
    assert inv.identity("file:/srv/images/a.qcow2") == VolumeIdentity(IdentityKind.IMAGE,
                                                                     "a.qcow2 on directory 254:0 inode 7")
    assert inv.identity("file:/mnt/p/x/b.img") == VolumeIdentity(IdentityKind.IMAGE, "x/b.img on netfs filer:/exp")
    assert len(inv.host_volumes) == 2


def test_the_twins_block_nodes_are_its_own_names() -> None:
    assert twin_busid("0.0.5c05") == "0.0.6c05" and twin_busid("0.0.5d00") == "0.0.6d00"
    assert twin_busid("0.0.1700") == "0.0.1700"
    assert twin_path("/dev/disk/by-path/ccw-0.0.5c05-part1") == "/dev/disk/by-path/ccw-0.0.6c05-part1"
    assert twin_path("/dev/mapper/36005076303ffc5620000000000001001") == \
        "/dev/mapper/36005076303ffc5620000000000001001"


# --- the join ----------------------------------------------------------------------------------------------


def two_hosts(z: Inventory, y: Inventory, running: bool = True, readonly: bool = False) -> list[Host]:
    zlnx02 = guest("zlnx02", (ZDisk("vda", "/dev/disk/by-path/ccw-0.0.5c05", 0),))
    state = GuestState.RUNNING if running else GuestState.SHUTOFF
    zlnx07 = guest("zlnx07", (ZDisk("vda", "/dev/disk/by-path/ccw-0.0.6c05", 0),), state)
    if readonly:
        zlnx07 = replace(zlnx07, devices=tuple(replace(d, details=(*d.details, ("readonly", "yes")))
                                               for d in zlnx07.devices))
    return [host(Z, "zlab-z", z, zlnx02), host(Y, "zlab-y", y, zlnx07)]


def step_of(h: Host, target: str, kind: str) -> BackingStep:
    device = next(d for d in h.guests[0].devices if d.target == target)
    return next(s for s in device.backing if s.kind == kind)


def test_the_same_volume_is_shown_on_both_hosts_with_its_users(z: Inventory, y: Inventory) -> None:
    hz, hy = decorate_hosts(two_hosts(z, y, running=False))
    dasd_z, dasd_y = step_of(hz, "vda", "dasd"), step_of(hy, "vda", "dasd")
    assert dasd_z.volume == dasd_y.volume == UID_05
    (seen,) = dasd_z.also_on
    assert (seen.host, seen.device, seen.text) == ("zlab-y", "0.0.6c05", "zlab-y as 0.0.6c05 (used by zlnx07, "
                                                                          "not running)")
    assert dasd_y.also_on[0].text == "zlab-z as 0.0.5c05 (used by zlnx02)"
    assert not any("two hosts" in w for h in (hz, hy) for d in h.guests[0].devices for w in d.warnings)


def test_two_running_writers_on_two_hosts_are_a_conflict_on_both(z: Inventory, y: Inventory) -> None:
    hz, hy = decorate_hosts(two_hosts(z, y))
    for h, other in ((hz, "zlnx07"), (hy, "zlnx02")):
        (warning,) = next(d for d in h.guests[0].devices if d.target == "vda").warnings
        assert f"also written by {other} (vda)" in warning and "two running guests on two hosts" in warning
    # a read-only user on the other host writes nothing
    hz, hy = decorate_hosts(two_hosts(z, y, readonly=True))
    assert not next(d for d in hz.guests[0].devices if d.target == "vda").warnings


def test_one_host_behind_two_uris_is_not_joined_with_itself(z: Inventory) -> None:
    zlnx02 = guest("zlnx02", (ZDisk("vda", "/dev/disk/by-path/ccw-0.0.5c05", 0),))
    a, b = host(Z, "zlab-z", z, zlnx02), host("qemu+tcp://127.0.0.1:1/system", "zlab-z", z, zlnx02)
    assert decorate_hosts([a, b]) == [a, b]


def test_summaries_cross_processes_as_json(z: Inventory, y: Inventory) -> None:
    hosts = two_hosts(z, y)
    summaries = [HostSummary.from_json(json.loads(json.dumps(summarize(h).to_json()))) for h in hosts]
    assert VolumeJoin(summaries).elsewhere(Z, UID_05) == VolumeJoin(summarize(h) for h in hosts).elsewhere(Z, UID_05)


def test_the_reports_show_it(z: Inventory, y: Inventory) -> None:
    hosts = decorate_hosts(two_hosts(z, y))
    vda = next(d for d in hosts[0].guests[0].devices if d.target == "vda")
    assert json.loads(_device_compact(vda)) == device_json(vda)  # the compact encoder writes the same
    dasd = next(s for s in device_json(vda)["backing"] if s["kind"] == "dasd")
    assert dasd["volume"] == {"kind": "dasd-uid", "id": "IBM.750000000DXP71.5c00.05"}
    assert dasd["also_on"][0]["device"] == "0.0.6c05" and dasd["also_on"][0]["users"][0]["writes"]
    assert re.search(r"≡ also on +zlab-y as 0.0.6c05 \(used by zlnx07\)", render_hosts(hosts[:1], width=120))
    join = VolumeJoin(summarize(h) for h in hosts)
    users = users_of(hosts[:1], z)
    groups = inventory_json(z, users, {}, join)
    entry = next(d for g in groups for d in g["devices"] if d["id"] == "0.0.5c05")
    assert entry["volume"]["id"] == "IBM.750000000DXP71.5c00.05" and entry["also_on"][0]["host"] == "zlab-y"
    assert "zlnx07 (vda) on zlab-y (as 0.0.6c05)" in entry["conflict"]
    block = next(d for g in groups for d in g["devices"] if d["id"] == "/dev/dasdf")
    assert "volume" not in block  # shown once, on the device that stands for the volume


def test_the_tracker_follows_one_guest_at_a_time(z: Inventory, y: Inventory) -> None:
    hz, hy = two_hosts(z, y, running=False)
    tracker = VolumeTracker()
    shown, others = tracker.host_up(hz, "zlab-z")
    assert others == [] and not step_of(shown, "vda", "dasd").also_on
    shown_y, others = tracker.host_up(hy, "zlab-y")
    assert [(u, g.name) for u, g in others] == [(Z, "zlnx02")]  # zlab-z's guest learns of zlab-y
    assert step_of(shown_y, "vda", "dasd").also_on
    started = replace(hy.guests[0], state=GuestState.RUNNING)
    updated, others = tracker.guest_updated(Y, started)
    assert updated.devices[0].warnings and [(u, g.name) for u, g in others] == [(Z, "zlnx02")]
    assert others[0][1].devices[0].warnings  # the conflict is on both guests
    assert [(u, g.name) for u, g in tracker.host_down(Y)] == [(Z, "zlnx02")]
    assert not tracker.join


# --- the twin, and where its guests' disks are on the other LPAR -------------------------------------------


def test_a_volume_the_destination_uses_itself_is_refused() -> None:
    """Another LPAR that sees zlab-z's system volume (its root file system) as a data volume: a guest there
    on that volume cannot move to zlab-z."""
    from ztui.ops.migrate.fit import volume_findings
    from ztui.ops.migrate.plan import MigrationOptions

    other = replace(TWIN_DESCRIPTION, dasds=(*TWIN_DESCRIPTION.dasds, Dasd("0.0.7c00", "0.0.0170", unit="0.0.5c00")))
    src = inventory(other, Y)
    g = guest("zx", (ZDisk("vda", "/dev/disk/by-path/ccw-0.0.7c00", 0), ZDisk("vdb", "/dev/disk/by-path/ccw-0.0.6c03",
                                                                              1)))
    places = volume_findings(g, MigrationOptions(), src, inventory(DESCRIPTION, Z))  # type: ignore[arg-type]
    (blocker,) = [f for f in places.findings if f.severity == "blocker"]
    assert blocker.device == "vda" and "/dev/dasda1 is mounted on /" in blocker.text
    assert [(r.device, r.new) for r in places.rewrites] == [("vdb", "/dev/disk/by-path/ccw-0.0.5c03")]
