"""What can be taken off a guest (`ops.unplug`), which device it boots from (`ops.boot`), and what the
migration preflight makes of both and of `--copy-storage` targets (`ops.migrate_safety`): pure, on fixtures."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import domain_fixture
from ztui.libvirtxml.domain import parse_domain
from ztui.model import DeviceKind, Guest, GuestDevice, GuestState
from ztui.ops.attach.boot import boot_refusal, boot_roles
from ztui.ops.attach.detach_plan import plan_detach
from ztui.ops.attach.plan import BadRequest, GuestFacts
from ztui.ops.attach.unplug import devices_on, unplug_refusal
from ztui.ops.migrate.plan import MigrationOptions
from ztui.ops.migrate.preflight import assess
from ztui.ops.migrate.read import MigrationHost
from ztui.ops.migrate.safety import CopyTarget, SafetyFacts, TargetState

DEST = MigrationHost("qemu+ssh://b/system", devices=(), networks=("default",), machine_error="")


def guest(fixture: str, state: GuestState = GuestState.RUNNING) -> Guest:
    return replace(parse_domain(domain_fixture(fixture).read_text()), state=state)


def named(g: Guest, name: str) -> GuestDevice:
    return next(d for d in g.devices if d.display_name == name)


def test_controllers_libvirt_cannot_unplug_and_a_busy_one() -> None:
    g = guest("dasd-fcp-controllers.xml")
    serial = named(g, "virtio-serial0")
    assert "only SCSI controllers" in unplug_refusal(g, serial, live=True)
    scsi = named(g, "scsi0")
    assert [d.display_name for d in devices_on(g, scsi)] == ["sda", "sdb"]
    assert "busy: sda, sdb are on it" in unplug_refusal(g, scsi, live=True)
    assert "busy" in unplug_refusal(g, scsi, live=False)  # libvirt would put it back into the config
    empty = replace(g, devices=tuple(d for d in g.devices if d.display_name not in ("sda", "sdb")))
    assert unplug_refusal(empty, scsi, live=True) == ""


def test_the_root_pci_bus_is_refused_live_and_in_the_config() -> None:
    root = GuestDevice(DeviceKind.CONTROLLER, "<controller type='pci' index='0' model='pci-root'/>", bus="pci",
                       model="pci-root", target="pci0", details=(("index", "0"),))
    g = replace(guest("dasd-fcp-controllers.xml"), devices=(root,))
    assert "root PCI bus (pci-root)" in unplug_refusal(g, root, live=True)
    assert "adds it back" in unplug_refusal(g, root, live=False)


def test_consoles_balloon_and_panic() -> None:
    g = guest("dasd-fcp-controllers.xml")
    console = next(d for d in g.devices if d.kind is DeviceKind.CONSOLE)
    assert "SCLP console" in unplug_refusal(g, console, live=True)
    virtio = replace(console, bus="virtio")
    only = replace(g, devices=(*(d for d in g.devices if d is not console), virtio))
    assert "only console" in unplug_refusal(only, virtio, live=True)
    assert unplug_refusal(only, virtio, live=False) == ""
    balloon = next(d for d in g.devices if d.kind is DeviceKind.BALLOON)
    assert "running guest" in unplug_refusal(g, balloon, live=True)
    assert "persistent config" in unplug_refusal(g, balloon, live=False)
    assert unplug_refusal(g, named(g, "vdb"), live=True) == ""


def test_detach_of_what_cannot_be_unplugged_is_bad_input_before_anything() -> None:
    g = guest("dasd-fcp-controllers.xml")
    facts = GuestFacts(g, replace(g, state=None), active=True)
    with pytest.raises(BadRequest, match=r"busy.*nothing was changed"):
        plan_detach(facts, "scsi0")
    assert plan_detach(facts, "vdb").live


def test_boot_order_and_legacy_boot_name_the_ipl_device() -> None:
    g = guest("dasd-fcp-controllers.xml")
    (role,) = boot_roles(g)
    assert role.device.display_name == "vda" and role.first and role.why == "<boot order='1'/>"
    vfio = guest("hostdev-vfio-ccw-boot.xml")
    text, certain = boot_refusal(vfio, vfio.devices[0])
    assert certain and "IPL device" in text and "vfio-ccw" in text and "--offline" in text
    legacy = replace(g, devices=tuple(replace(d, details=tuple(p for p in d.details if p[0] != "boot"))
                                      for d in g.devices), boot_devs=("cdrom", "hd"))
    (first,) = boot_roles(legacy)  # no CD-ROM: the first disk is the first device it boots
    assert first.device.display_name == "vda" and "<os><boot dev='hd'/>" in first.why
    fallback = replace(g, devices=tuple(replace(d, details=(*d.details, ("boot", "2"))) if d.target == "vdb" else d
                                        for d in g.devices))
    text, certain = boot_refusal(fallback, named(fallback, "vdb"))
    assert not certain and "fallback boot device" in text


def test_a_guest_started_from_a_kernel_file_did_not_boot_from_its_boot_device() -> None:
    """libvirt writes <boot dev='hd'/> into every guest that names no boot device; one with <os><kernel> starts
    from that file (QEMU loads no firmware then): its first disk is for the administrator to judge."""
    g = parse_domain(domain_fixture("dasd-fcp-controllers.xml").read_text().replace(
        "<os>", "<os><kernel>/var/lib/libvirt/boot/vmlinuz</kernel>"))
    assert g.kernel == "/var/lib/libvirt/boot/vmlinuz"
    text, certain = boot_refusal(g, named(g, "vda"))
    assert not certain and "started from a kernel file" in text and "root=" in text
    moved = assess(replace(g, state=GuestState.RUNNING), MigrationOptions(unsafe=True, extra_detach=("vda",)),
                   replace(DEST, devices=None))
    (finding,) = [f for f in moved.findings if f.code == "boot-device"]
    assert finding.severity == "note" and finding.device == "vda"


def test_the_migration_never_takes_the_boot_device_off_the_running_guest() -> None:
    g = guest("hostdev-vfio-ccw-boot.xml")
    check = assess(g, MigrationOptions(unsafe=True), DEST)
    assert any(f.code == "boot-device" for f in check.blockers), check.findings
    disks = guest("dasd-fcp-controllers.xml")
    moved = assess(disks, MigrationOptions(unsafe=True, extra_detach=("vda", "vdb")), replace(DEST, devices=None))
    assert [f.device for f in moved.blockers if f.code == "boot-device"] == ["vda"]
    busy = assess(disks, MigrationOptions(unsafe=True, extra_detach=("scsi0",)), replace(DEST, devices=None))
    assert any(f.code == "detach" and "busy" in f.text for f in busy.blockers)


def test_copy_storage_targets() -> None:
    g = guest("dasd-fcp-controllers.xml")
    paths = {d.display_name: d.source for d in g.devices if d.kind in (DeviceKind.DISK, DeviceKind.LUN)}
    targets = (CopyTarget(paths["vda"], TargetState.SAME_FILE),
               CopyTarget(paths["vdc"], TargetState.PRESENT, "raw"),
               CopyTarget(paths["sda"], TargetState.MISSING),
               CopyTarget(paths["sdb"], TargetState.UNKNOWN))
    check = assess(g, MigrationOptions(copy_storage=True), replace(DEST, devices=None), safety=SafetyFacts(
        targets=targets))
    by_device = {f.device: f for f in check.findings if f.code == "copy-storage"}
    assert by_device["vda"].severity == "blocker" and "onto itself" in by_device["vda"].text
    assert by_device["vdb"].severity == "blocker" and "shareable" in by_device["vdb"].text  # not copied, missing
    assert by_device["vdc"].severity == "note" and "overwritten" in by_device["vdc"].text
    assert by_device["sda"].severity == "blocker" and by_device["sdb"].severity == "note"  # an FCP path: unknown
    far = (CopyTarget(paths["vdc"], TargetState.UNKNOWN),)  # a remote destination: nothing there to stat
    wwid = assess(g, MigrationOptions(copy_storage=True), replace(DEST, devices=None), safety=SafetyFacts(
        targets=far))
    (vdc,) = [f for f in wwid.findings if f.code == "copy-storage" and f.device == "vdc"]
    assert vdc.severity == "blocker" and "onto itself" in vdc.text and "WWID" in vdc.text
    qcow = (CopyTarget(paths["vdc"], TargetState.PRESENT, "qcow2"),)
    wrong = assess(g, MigrationOptions(copy_storage=True), replace(DEST, devices=None),
                   safety=SafetyFacts(targets=qcow))
    assert any("qcow2 image, the disk is raw" in f.text for f in wrong.blockers)


def test_a_missing_storage_path_is_said_as_disk_and_host_device() -> None:
    from ztui.model import BackingStep, StepKind
    from ztui.ops.missing_storage import missing_path, missing_storage_text

    reason = "Cannot access storage file '/dev/disk/by-path/ccw-0.0.5c3f': No such file or directory"
    assert missing_path(reason) == "/dev/disk/by-path/ccw-0.0.5c3f" and missing_path("unsupported machine") == ""
    g = guest("dasd-fcp-controllers.xml")
    chain = (BackingStep(StepKind.BLOCK, "/dev/dasda"), BackingStep(StepKind.DASD, "0.0.5c3f", "3390/0c"),
             BackingStep(StepKind.CSS, "0.0.0023"))
    resolved = replace(g, devices=tuple(d.with_backing(chain) if d.target == "vda" else d for d in g.devices))
    assert missing_storage_text(resolved, "/dev/disk/by-path/ccw-0.0.5c3f", "kvm01") == (
        "disk vda: its host device /dev/disk/by-path/ccw-0.0.5c3f is missing on kvm01 (ztui's facts: block "
        "/dev/dasda on DASD 0.0.5c3f)")
    assert missing_storage_text(resolved, "/nowhere.img", "kvm01") == ""


def test_x86_limits_of_libvirts_live_detach() -> None:
    """libvirt 9.0's qemuDomainDetachDeviceLive: a floppy never, a CD-ROM only off SCSI/USB, every function of
    a slot that holds more than one (function 0 too), nothing on a bus whose controller has hotplug='off',
    no legacy ivshmem."""
    g = guest("x86-unplug-limits.xml")
    assert unplug_refusal(g, named(g, "vda"), live=True) == ""
    for name in ("vdb", "vdc"):
        assert "other functions too" in unplug_refusal(g, named(g, name), live=True), name
    assert "hotplug='off'" in unplug_refusal(g, named(g, "vde"), live=True)
    assert "floppy cannot be hot-unplugged" in unplug_refusal(g, named(g, "sdz"), live=True)
    assert unplug_refusal(g, named(g, "sdy"), live=True) == ""  # a CD-ROM on USB goes
    legacy, plain = (d for d in g.devices if d.kind is DeviceKind.SHMEM)
    assert "legacy ivshmem" in unplug_refusal(g, legacy, live=True)
    assert unplug_refusal(g, plain, live=True) == ""
    assert unplug_refusal(g, named(g, "vdb"), live=False) == ""  # the config can lose any of them


def test_detaching_the_ipl_device_of_a_running_guest_needs_force() -> None:
    g = guest("dasd-fcp-controllers.xml")  # vda: <boot order='1'/>
    facts = GuestFacts(g, replace(g, state=None), active=True)
    with pytest.raises(BadRequest, match=r"vda is .*'s boot device .*nothing was changed \(--force detaches it"):
        plan_detach(facts, "vda")
    assert plan_detach(facts, "vda", force=True).live
    off = GuestFacts(replace(g, state=GuestState.SHUTOFF), None, active=False)
    assert plan_detach(off, "vda").config  # from the config of a shut-off guest: nothing runs from it


def test_the_cli_refuses_the_ipl_device_before_libvirt_is_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """db01 runs from vda (<boot order='1'/>) on the test-driver host: exit 2 and why, nothing asked of
    libvirt, no journal entry; with --force the request goes to libvirt (whose test driver refuses it)."""
    from tests.conftest import FIXTURES
    from ztui.cli.main import main

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    host = tmp_path / "zhost.xml"
    host.write_text((FIXTURES / "testdriver" / "zhost.xml").read_text())
    assert main(["detach", "db01", "vda", "-c", f"test://{host}"]) == 2
    err = capsys.readouterr().err
    assert "vda is db01's boot device" in err and "--force" in err
    assert not (tmp_path / "ztui" / "journal").exists() or not list((tmp_path / "ztui" / "journal").iterdir())
    assert main(["detach", "db01", "vda", "-c", f"test://{host}", "--force"]) == 1


def test_the_legacy_boot_list_names_the_first_disk_at_the_start_not_a_disk_plugged_in_since() -> None:
    """libvirt gives the boot index of <os><boot dev='hd'/> to the first disk when the guest starts; a disk
    hot-plugged later can be first in the live XML without having been booted from. Certain only for a disk
    the persistent definition has."""
    g = guest("dasd-fcp-controllers.xml")
    legacy = replace(g, devices=tuple(replace(d, details=tuple(p for p in d.details if p[0] != "boot"))
                                      for d in g.devices), boot_devs=("hd",))
    vda = named(legacy, "vda")
    text, certain = boot_refusal(legacy, vda, in_config=True)
    assert certain and "what the guest booted from" in text
    for unknown in (None, False):  # transient, or plugged in live only
        text, certain = boot_refusal(legacy, vda, in_config=unknown)
        assert not certain and "if it was there when the guest started" in text
    defined = GuestFacts(legacy, replace(legacy, state=None), active=True)
    with pytest.raises(BadRequest, match="--force"):
        plan_detach(defined, "vda")
    transient = GuestFacts(legacy, None, active=True)
    assert plan_detach(transient, "vda").live
    hotplugged = GuestFacts(legacy, replace(legacy, devices=tuple(d for d in legacy.devices if d is not vda)),
                            active=True)
    assert plan_detach(hotplugged, "vda").live
    moved = MigrationOptions(unsafe=True, extra_detach=("vda",))
    for config, severity in ((replace(legacy, state=None), "blocker"), (None, "note")):
        check = assess(legacy, moved, replace(DEST, devices=None), safety=SafetyFacts(config=config))
        (finding,) = [f for f in check.findings if f.code == "boot-device"]
        assert finding.severity == severity
