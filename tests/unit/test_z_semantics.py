"""IBM Z semantics as the kernel, QEMU and s390-tools define them, on fixtures written for each rule
(tests/fixtures/z). The same rules on a whole simulated host: tests/host/test_z_semantics.py."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ztui.facts import (
    ApMatrix,
    ap_card_mode,
    ap_queue_state,
    dasd_problem,
    is_dasd_alias,
    kernel_number,
    mdev_ap_matrix,
    mdev_control_domains,
    parse_ap_matrix,
    subchannel_paths,
)
from ztui.host.inventory import build_inventory
from ztui.host.resolve import resolve_host
from ztui.host.system import Mount, SystemUse
from ztui.host.usage import eligibility
from ztui.libvirtxml.domain import parse_domain
from ztui.libvirtxml.nodedev import parse_nodedev_text
from ztui.model import (
    CcwAddress,
    DeviceKind,
    Fact,
    GuestState,
    Host,
    HostDevice,
    HostDeviceKind,
    MdevType,
    PciAddress,
)
from ztui.ops.migrate.plan import MigrationOptions, plan_steps
from ztui.ops.migrate.preflight import assess
from ztui.ops.migrate.read import MigrationHost

Z = Path(__file__).resolve().parents[1] / "fixtures" / "z"
DEST = MigrationHost("qemu+ssh://b/system", devices=(), networks=("default",), machine_error="")


def facts(*pairs: tuple[str, str]) -> tuple[Fact, ...]:
    return tuple(Fact(k, v, "udev") for k, v in pairs)


def running(name: str):  # type: ignore[no-untyped-def]
    return replace(parse_domain((Z / name).read_text()), state=GuestState.RUNNING)


# --- 1. vfio-ap is hot-pluggable and moves with its guest ------------------------------------------------


def test_vfio_ap_is_moved_around_the_migration_like_every_passthrough_device() -> None:
    guest = running("guest-z-passthrough.xml")
    check = assess(guest, MigrationOptions(unsafe=True), replace(DEST, devices=None))
    assert DeviceKind.MDEV_VFIO_AP in {d.kind for d in check.to_move}
    steps = plan_steps(guest.name, "qemu:///system", DEST.uri, MigrationOptions(), check.to_move)
    ap = next(d.display_name for d in check.to_move if d.kind is DeviceKind.MDEV_VFIO_AP)
    assert [s.action for s in steps if s.device == ap] == ["detach", "attach"]


def test_vfio_ap_destination_equivalent_is_found_by_apqns_and_control_domains() -> None:
    guest = running("guest-z-passthrough.xml")
    mine, decimal, other_uuid = parse_nodedev_text((Z / "nodedev-vfio-ap-mdevs.xml").read_text())
    assert mdev_ap_matrix(mine) == mdev_ap_matrix(decimal) == mdev_ap_matrix(other_uuid)  # 0x0a = 10 = 0xa
    assert mdev_ap_matrix(mine).queue_ids() == ["0a.0005", "0a.0006"]  # the kernel's and lszcrypt's notation
    assert mdev_control_domains(mine) == frozenset({5})
    src = MigrationHost("a", devices=(mine,))
    same = assess(guest, MigrationOptions(unsafe=True), replace(DEST, devices=(decimal,)), src)
    finding = next(f for f in same.findings if "APQNs" in f.text)
    assert finding.severity == "note"
    moved = replace(decimal, facts=(*(f for f in decimal.facts if f.key != "attr.assign_domain"),
                                    Fact("attr.assign_domain", "7", "libvirt")))
    differ = assess(guest, MigrationOptions(unsafe=True), replace(DEST, devices=(moved,)), src)
    assert any("other crypto domains" in f.text for f in differ.blockers)
    # another mdev there holds those APQNs (an APQN is in one mdev at most): no advice to define one more
    missing = assess(guest, MigrationOptions(unsafe=True), replace(DEST, devices=(other_uuid,)), src)
    assert any(f"APQN 0a.0005 is already in mdev {other_uuid.id}" in f.text and "define" not in f.text
               for f in missing.blockers)


def test_a_guest_takes_one_vfio_ap_device() -> None:
    guest = running("guest-z-passthrough.xml")
    ap = next(d for d in guest.devices if d.kind is DeviceKind.MDEV_VFIO_AP)
    two = replace(guest, devices=(*guest.devices, replace(ap, source="1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b")))
    assert any(f.code == "vfio-ap" for f in assess(two, MigrationOptions(unsafe=True), DEST).blockers)


# --- 2. AP matrix as the kernel shows it -----------------------------------------------------------------


def test_matrix_lines_adapter_only_and_domain_only() -> None:
    assert parse_ap_matrix("07.0038\n07.0039") == ApMatrix(frozenset({7}), frozenset({0x38, 0x39}),
                                                          frozenset({(7, 0x38), (7, 0x39)}))
    assert parse_ap_matrix("0c.\n0d.") == ApMatrix(frozenset({12, 13}), frozenset(), frozenset())
    assert parse_ap_matrix(".0038") == ApMatrix(frozenset(), frozenset({0x38}), frozenset())


@pytest.mark.parametrize(("matrix", "name", "warning", "cards"), [
    ("0c.\n", "adapters 0c", "no domain assigned to the mdev", ["card0c"]),
    (".0038\n", "domains 0038", "no adapter assigned to the mdev", []),
    ("0c.0038\n", "", None, ["card0c"]),
])
def test_an_adapter_or_a_domain_alone_is_shown_as_assigned(matrix: str, name: str, warning: str | None,
                                                            cards: list[str]) -> None:
    from ztui.host.resolve import resolve_device

    uuid = "4b4c5e2a-7d62-4f5b-8d1e-0a1b2c3d4e5f"
    mdev = HostDevice(HostDeviceKind.MDEV, uuid, uuid, parent="matrix",
                      sysfs_path=f"/sys/devices/vfio_ap/matrix/{uuid}",
                      facts=facts(("matrix", matrix), ("mdev_type", "vfio_ap-passthrough")))
    matrix_dev = HostDevice(HostDeviceKind.AP_MATRIX, "matrix", "matrix", sysfs_path="/sys/devices/vfio_ap/matrix")
    card = HostDevice(HostDeviceKind.AP_CARD, "card0c", "card0c", facts=facts(("type", "CEX8C"), ("online", "1")))
    guest = running("guest-z-passthrough.xml")
    ap = next(d for d in guest.devices if d.kind is DeviceKind.MDEV_VFIO_AP)
    chain = resolve_device(replace(ap, source=uuid), _inventory(mdev, matrix_dev, card))
    step = next(s for s in chain if s.kind == "ap-matrix")
    assert name in step.name and step.warning == warning
    assert [s.id for s in chain if s.kind == "ap-card"] == cards


@pytest.mark.parametrize(("text", "value"), [("0x1f", 31), ("31", 31), ("017", 15), ("0", 0), ("x", None),
                                             ("", None)])
def test_attribute_values_are_read_as_the_kernel_reads_them(text: str, value: int | None) -> None:
    assert kernel_number(text) == value


def test_card_mode_and_queue_state() -> None:
    assert ap_card_mode("0x92000000") == "CCA"  # CEX7C in the default mode
    assert ap_card_mode("0x84000000") == "EP11"
    assert ap_card_mode("0x88000000") == "Accelerator"
    queue = HostDevice(HostDeviceKind.AP_QUEUE, "07.0038", "0x07.0x0038", facts=facts(("online", "1")))
    assert ap_queue_state(queue) == "online"
    assert ap_queue_state(replace(queue, facts=facts(("online", "1"), ("config", "0")))) == "deconfig"
    assert ap_queue_state(replace(queue, facts=facts(("chkstop", "1"), ("online", "1")))) == "checkstop"


# --- 3. css and bus-IDs ----------------------------------------------------------------------------------


def test_a_ccw_address_outside_the_virtual_css_is_warned_and_never_a_visible_bus_id() -> None:
    guest = parse_domain((Z / "guest-secure-execution.xml").read_text())
    visible, hidden = guest.devices
    assert visible.busid == "0.0.0000" and not visible.warnings
    assert hidden.busid == "0x01.0.0000" != visible.busid
    assert "invisible to a Linux guest" in hidden.warnings[0]
    assert CcwAddress(0xFE, 0, 1).visible and not CcwAddress(0, 0, 1).visible


# --- 4. CHPIDs from the path masks -----------------------------------------------------------------------


def _chp(chpid: str, status: str = "online", configure: str = "1", kind: str = "25") -> HostDevice:
    return HostDevice(HostDeviceKind.CHPID, f"chp0.{chpid}", f"0.{chpid}",
                      facts=facts(("status", status), ("configure", configure), ("type", kind)))


def test_chpids_come_from_the_pim_and_chpid_00_is_valid() -> None:
    """pimpampom is `"%02x %02x %02x\n"` and chpids eight `"%02x "` (a trailing space), css.c."""
    css = HostDevice(HostDeviceKind.CSS, "0.0.0100", "0.0.0100", facts=facts(
        ("chpids", "00 05 40 41 00 00 00 00 "), ("pimpampom", "f0 e0 b0")))
    chps = {c.id: c for c in (_chp("00"), _chp("05"), _chp("40"), _chp("41"))}
    paths = subchannel_paths(css, chps.get)
    assert [p.chpid for p in paths] == ["00", "05", "40", "41"]
    assert [(p.available, p.operational) for p in paths] == [(True, True), (True, False), (True, True), (False, True)]
    assert paths[0].problem == "" and (paths[0].online, paths[0].configure, paths[0].type) == (True, "configured", "25")
    assert paths[1].problem.startswith("CHPID 05 not operational (POM)") and "chchp -v 1 05" in paths[1].problem
    assert paths[3].problem == "CHPID 41 not available (PAM): configure it (chchp -c 1 41)"


def test_chpid_states_are_named_once_on_the_channel_path() -> None:
    """A CHPID varied offline or in standby is its channel path's problem; its subchannels show it in
    their CHPID column, and only a path's own mask problem is the subchannel's."""
    from ztui.report.hostdevs import fact_warnings, summary

    offline, standby = _chp("05", status="offline"), _chp("6a", configure="0", kind="11")
    css = HostDevice(HostDeviceKind.CSS, "0.0.0101", "0.0.0101",
                     facts=facts(("chpids", "05 6a 07 00 00 00 00 00 "), ("pimpampom", "e0 e0 c0")))
    inv = _inventory(offline, standby, _chp("07"), css)
    assert fact_warnings(offline, inv) == ["CHPID 05 offline (chchp -v 1 05)"]
    assert fact_warnings(standby, inv) == ["CHPID 6a standby (chchp -c 1 6a)"]
    assert fact_warnings(css, inv) == [
        "no usable channel path",
        "CHPID 07 not operational (POM): once the link to the control unit is repaired, chchp -v 1 07 verifies "
        "the path again"]
    assert "CHPIDs 05(offline) 6a(standby) 07(not operational)" in summary(css, inv)


def test_healthy_paths_give_no_warning_and_a_misread_is_unknown_not_a_fault(caplog: pytest.LogCaptureFixture) -> None:
    from ztui.zsysfs import report_misreads

    healthy = HostDevice(HostDeviceKind.CSS, "0.0.0010", "0.0.0010",
                         facts=facts(("chpids", "4a 4b 00 00 00 00 00 00 "), ("pimpampom", "c0 c0 ff")))
    assert [p.problem for p in subchannel_paths(healthy)] == ["", ""]
    # a format the kernel does not write (the bytes without their spaces) is not guessed at
    wrong = [replace(healthy, id=f"0.0.00{n:02x}", facts=facts(("chpids", "4a 4b 00 00 00 00 00 00 "),
                                                                 ("pimpampom", "c0c0ff"))) for n in range(20)]
    assert subchannel_paths(wrong[0]) == []
    caplog.set_level("WARNING", logger="ztui.zsysfs")
    lines = report_misreads("host-a", wrong)
    report_misreads("host-a", wrong)
    assert len(lines) == 1 and "pimpampom" in lines[0] and "19 more" in lines[0]
    assert len([r for r in caplog.records if "pimpampom" in r.getMessage()]) == 1  # once per host and attribute


# --- 5. DASD facts ---------------------------------------------------------------------------------------


def test_dasd_status_and_alias() -> None:
    dasd = HostDevice(HostDeviceKind.CCW, "0.0.5d00", "0.0.5d00", driver="dasd-eckd",
                      facts=facts(("online", "1"), ("status", "unformatted")))
    assert "unformatted" in dasd_problem(dasd)
    assert dasd_problem(replace(dasd, facts=facts(("online", "1"), ("status", "online")))) == ""
    assert "offline" in dasd_problem(replace(dasd, facts=facts(("online", "0"))))
    assert is_dasd_alias(replace(dasd, facts=facts(("alias", "1"))))


# --- 6. vfio-ccw eligibility and its destination equivalent ----------------------------------------------


def _inventory(*devices: HostDevice):  # type: ignore[no-untyped-def]
    return build_inventory(devices, local=True)


def test_qdio_subchannels_are_not_offered_to_vfio_ccw() -> None:
    css = HostDevice(HostDeviceKind.CSS, "0.0.0103", "0.0.0103", driver="io_subchannel",
                     sysfs_path="/sys/devices/css0/0.0.0103", facts=facts(("type", "0"), ("dev_busid", "0.0.1900")))
    fcp = HostDevice(HostDeviceKind.CCW, "0.0.1900", "0.0.1900", driver="zfcp",
                     sysfs_path="/sys/devices/css0/0.0.0103/0.0.1900", facts=facts(("cutype", "1731/03")))
    elig = eligibility(css, _inventory(css, fcp))
    assert elig is not None and not elig.ready
    assert "FCP channel" in elig.missing[0] and not any("driverctl" in m for m in elig.missing)
    dasd = replace(fcp, driver="dasd-eckd", facts=facts(("cutype", "3990/e9"), ("online", "1"), ("alias", "0")))
    disk = HostDevice(HostDeviceKind.BLOCK, "dasdq", "/dev/dasdq", sysfs_path=f"{dasd.sysfs_path}/block/dasdq")
    css_dasd = replace(css, facts=facts(("type", "0"), ("dev_busid", "0.0.1900")))
    booted = build_inventory((css_dasd, dasd, disk), local=True,
                             system=SystemUse((Mount("/", "ext4", "/dev/vda1", "252:1"),)))
    (step,) = eligibility(css_dasd, booted, {}).missing  # type: ignore[union-attr]
    assert step.index("chccwdev -d 0.0.1900") < step.index("driverctl")  # offline first


def test_vfio_ccw_equivalent_is_the_same_volume_by_uid_not_the_device_number() -> None:
    guest = running("guest-z-passthrough.xml")
    uuid = next(d.source for d in guest.devices if d.kind is DeviceKind.MDEV_VFIO_CCW)
    src = MigrationHost("a", devices=(
        HostDevice(HostDeviceKind.MDEV, "mdev_x", uuid, parent="css_0_0_0023"),
        HostDevice(HostDeviceKind.CSS, "css_0_0_0023", "0.0.0023", facts=facts(("dev_busid", "0.0.5c3f"))),
        HostDevice(HostDeviceKind.CCW, "ccw_0_0_5c3f", "0.0.5c3f", facts=facts(("uid", "IBM.750000000DXP71.5c00.3f")))))
    offer = (MdevType("vfio_ccw-io", available=1),)
    same_number_other_volume = (
        HostDevice(HostDeviceKind.CCW, "ccw_0_0_5c3f", "0.0.5c3f", facts=facts(("uid", "IBM.75000000999971.5c00.3f"))),
        HostDevice(HostDeviceKind.CSS, "css_0_0_0101", "0.0.0101", facts=facts(("dev_busid", "0.0.5c3f")),
                   mdev_types=offer))
    check = assess(guest, MigrationOptions(unsafe=True), replace(DEST, devices=same_number_other_volume), src)
    assert any("no DASD volume IBM.750000000DXP71.5c00.3f" in f.text for f in check.blockers)
    other_number_same_volume = (
        HostDevice(HostDeviceKind.CCW, "ccw_0_0_7700", "0.0.7700", facts=facts(("uid", "IBM.750000000DXP71.5c00.3f"))),
        HostDevice(HostDeviceKind.CSS, "css_0_0_0201", "0.0.0201", facts=facts(("dev_busid", "0.0.7700")),
                   mdev_types=offer))
    check = assess(guest, MigrationOptions(unsafe=True), replace(DEST, devices=other_number_same_volume), src)
    found = next(f for f in check.findings if f.code == "equivalent" and f.device == uuid)
    assert "volume IBM.750000000DXP71.5c00.3f" in found.text and "0.0.7700" in found.text and "0.0.0201" in found.text


# --- 9. zPCI ---------------------------------------------------------------------------------------------


def test_zpci_guest_sees_the_function_at_pci_domain_uid() -> None:
    guest = parse_domain((Z / "guest-z-passthrough.xml").read_text())
    pci = next(d for d in guest.devices if d.kind is DeviceKind.HOSTDEV_PCI)
    assert isinstance(pci.address, PciAddress) and pci.address.zpci is not None
    assert pci.address.zpci.guest_address == "0019:00:00.0"
    assert "(guest 0019:00:00.0)" in pci.address_text


# --- 10. Secure Execution --------------------------------------------------------------------------------


def test_secure_execution_guest_cannot_migrate_live() -> None:
    guest = running("guest-secure-execution.xml")
    assert guest.secure_execution and any("Secure Execution" in w for w in guest.warnings)
    check = assess(guest, MigrationOptions(unsafe=True), DEST)
    assert "secure-execution" in {f.code for f in check.blockers}


def test_secure_execution_the_older_way_and_what_such_a_guest_cannot_have() -> None:
    """libvirt kbase s390_protected_virt: without <launchSecurity>, iommu='on' on every virtio device makes
    the guest a Secure Execution guest; QEMU's protvirt.rst: no host huge pages, no vfio pass-through; the
    balloon is fenced (model='none')."""
    from ztui.model import SecureExecutionForm

    guest = running("guest-secure-execution-iommu.xml")
    assert guest.secure_execution and guest.secure_execution_form is SecureExecutionForm.IOMMU
    assert any("iommu='on' on every virtio device" in w for w in guest.warnings)
    assert any("host huge pages" in w and "protvirt.rst" in w for w in guest.warnings)
    mdev = next(d for d in guest.devices if d.kind is DeviceKind.MDEV_VFIO_CCW)
    assert any("pass-through (vfio)" in w and "will not start" in w for w in mdev.warnings)
    balloon = next(d for d in guest.devices if d.kind is DeviceKind.BALLOON)
    assert any("memballoon model='none'" in w for w in balloon.warnings)
    check = assess(guest, MigrationOptions(unsafe=True), DEST)
    se = next(f for f in check.blockers if f.code == "secure-execution")
    assert "iommu='on' on every virtio device" in se.text
    # launchSecurity: QEMU takes care of the IOMMU; a balloon model='none' and no hostdev are fine
    modern = running("guest-secure-execution.xml")
    assert modern.secure_execution_form is SecureExecutionForm.LAUNCH_SECURITY
    assert not any("balloon" in w or "huge pages" in w for w in modern.warnings)
    # one virtio device without iommu='on': not defined for Secure Execution
    plain = parse_domain((Z / "guest-secure-execution-iommu.xml").read_text().replace(
        "<driver iommu='on'/>", "<driver/>"))
    assert not plain.secure_execution and not any("Secure Execution" in w for d in plain.devices for w in d.warnings)


def test_a_secure_execution_guest_is_given_no_pass_through_device() -> None:
    from ztui.ops.attach.plan import AttachRequest, BadRequest, GuestFacts, plan_attach

    guest = running("guest-secure-execution.xml")
    request = AttachRequest(guest.name, "mdev", "9c8f0fe3-0c6b-4a2c-8a3c-1b2b3c4d5e6f")
    with pytest.raises(BadRequest, match="Secure Execution guest: it cannot take pass-through"):
        plan_attach(request, GuestFacts(guest, None, True))


def test_host_secure_execution_state_is_a_host_fact(tmp_path: Path) -> None:
    pytest.importorskip("pyudev")
    from ztui.host.udev import host_system

    assert host_system(str(tmp_path)) is None  # no Ultravisor interface: not IBM Z
    (tmp_path / "firmware" / "uv").mkdir(parents=True)
    (tmp_path / "firmware" / "uv" / "prot_virt_host").write_text("0\n")
    system = host_system(str(tmp_path))
    assert system is not None and system.fact("prot_virt") == "0" and "prot_virt=1" in system.warnings[0]
    (tmp_path / "firmware" / "uv" / "prot_virt_host").write_text("1\n")
    assert host_system(str(tmp_path)).warnings == ()  # type: ignore[union-attr]


# --- 11. sharing -----------------------------------------------------------------------------------------


def test_sharing_conflict_shows_on_each_guest_device() -> None:
    a = running("guest-secure-execution.xml")
    b = replace(a, name="other", uuid="6b8f1d2e-3c4a-4d5e-9f0a-1b2c3d4e5f62")
    dasd = HostDevice(HostDeviceKind.CCW, "0.0.5d00", "0.0.5d00", driver="dasd-eckd",
                      sysfs_path="/sys/devices/css0/0.0.0100/0.0.5d00", facts=facts(("online", "1")))
    block = HostDevice(HostDeviceKind.BLOCK, "dasdc", "/dev/dasdc",
                       sysfs_path="/sys/devices/css0/0.0.0100/0.0.5d00/block/dasdc",
                       devnodes=("/dev/dasdc", "/dev/disk/by-path/ccw-0.0.5d00"), facts=facts(("devtype", "disk")))
    host = resolve_host(Host("qemu:///system", guests=(a, b)), _inventory(dasd, block))
    for guest, other in zip(host.guests, ("other", "zpv"), strict=True):
        vda = guest.devices[0]
        assert any(f"also held by {other} (vda)" in w and "<shareable/>" in w for w in vda.warnings)
    shared = replace(b, devices=tuple(replace(d, details=(*d.details, ("shareable", "yes"))) for d in b.devices))
    quiet = resolve_host(Host("qemu:///system", guests=(a, shared)), _inventory(dasd, block))
    assert not any("also held" in w for g in quiet.guests for w in g.devices[0].warnings)


# --- 5 and 12: attach choices ----------------------------------------------------------------------------


def test_pav_aliases_and_disks_with_a_busy_partition_are_not_offered() -> None:
    from ztui.ops.attach.candidates import attach_candidates

    base = HostDevice(HostDeviceKind.CCW, "0.0.5d00", "0.0.5d00", driver="dasd-eckd", facts=facts(("alias", "0")))
    alias = HostDevice(HostDeviceKind.CCW, "0.0.5dfe", "0.0.5dfe", driver="dasd-eckd", facts=facts(("alias", "1")))
    disk = HostDevice(HostDeviceKind.BLOCK, "dasdq", "/dev/dasdq", sysfs_path="/sys/block/dasdq",
                      facts=facts(("devtype", "disk"), ("majmin", "94:64")))
    held = HostDevice(HostDeviceKind.BLOCK, "dasdq1", "/dev/dasdq1", sysfs_path="/sys/block/dasdq/dasdq1",
                      facts=facts(("devtype", "partition"), ("majmin", "94:65"), ("holders", "/dev/dm-7")))
    free = HostDevice(HostDeviceKind.BLOCK, "dasdr", "/dev/dasdr", sysfs_path="/sys/block/dasdr",
                      facts=facts(("devtype", "disk"), ("majmin", "94:68")))
    offered = attach_candidates(build_inventory((base, alias, disk, held, free), local=False), None)
    assert [c.value for c in offered["dasd"]] == ["0.0.5d00"]
    assert "/dev/dasdr" in [c.value for c in offered["block"]] and "/dev/dasdq" not in [
        c.value for c in offered["block"]]


# --- 7. each multipath path's state under its WWID -------------------------------------------------------


def test_multipath_shows_its_wwid_and_each_paths_state() -> None:
    from ztui.host.resolve import resolve_device

    hba = "/sys/devices/css0/0.0.0002/0.0.1700/host0/rport-0:0-0/target0:0:0"
    fcp = HostDevice(HostDeviceKind.CCW, "0.0.1700", "0.0.1700", driver="zfcp",
                     sysfs_path="/sys/devices/css0/0.0.0002/0.0.1700")
    paths = []
    for lun, name, state in ((1, "sdc", "running"), (2, "sdd", "offline")):
        paths.append(HostDevice(HostDeviceKind.SCSI, f"0:0:0:{lun}", f"0:0:0:{lun}", sysfs_path=f"{hba}/0:0:0:{lun}",
                                facts=facts(("hba_id", "0.0.1700"), ("wwpn", "0x500507630300c562"),
                                            ("fcp_lun", f"0x400{lun}400000000000"), ("state", state))))
        paths.append(HostDevice(HostDeviceKind.BLOCK, name, f"/dev/{name}",
                                sysfs_path=f"{hba}/0:0:0:{lun}/block/{name}", facts=facts(("devtype", "disk"))))
    wwid = "36005076303ffc56200000000000010cb"
    mpath = HostDevice(HostDeviceKind.BLOCK, "dm-0", "/dev/dm-0", devnodes=(f"/dev/mapper/{wwid}",),
                       facts=facts(("devtype", "disk"), ("dm_name", "mpatha"), ("dm_uuid", f"mpath-{wwid}"),
                                   ("slaves", "/dev/sdc,/dev/sdd")))
    guest = running("guest-secure-execution.xml")
    disk = replace(guest.devices[0], source="/dev/mapper/" + wwid)
    chain = resolve_device(disk, build_inventory((fcp, *paths, mpath), local=True))
    assert chain[0].kind == "multipath" and f"WWID {wwid}" in chain[0].name
    scsi = [s for s in chain if s.kind == "scsi"]
    assert [(s.id, s.warning) for s in scsi] == [("0:0:0:1", None), ("0:0:0:2", "path state offline")]
    assert all(s.level == 1 for s in scsi)
