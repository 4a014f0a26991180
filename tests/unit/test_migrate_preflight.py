"""The migration preflight's judgement (`assess`) on fixture XML: pure, no daemon."""

from __future__ import annotations

from dataclasses import replace

from tests.conftest import domain_fixture
from ztui.libvirtxml.domain import parse_domain
from ztui.model import Fact, GuestState, HostDevice, HostDeviceKind, MdevType
from ztui.ops.migrate.plan import MigrationOptions
from ztui.ops.migrate.preflight import assess
from ztui.ops.migrate.read import MigrationHost, unreachable

DEST = MigrationHost("qemu+ssh://b/system", devices=(), networks=("default",), machine_error="")


def guest(fixture: str, state: GuestState = GuestState.RUNNING):  # type: ignore[no-untyped-def]
    return replace(parse_domain(domain_fixture(fixture).read_text()), state=state)


def codes(check) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(f.severity, f.code) for f in check.findings]


def test_vfio_ccw_is_moved_and_needs_its_mdev_on_the_destination() -> None:
    g = guest("hostdev-vfio-ccw.xml")
    check = assess(g, MigrationOptions(unsafe=True), DEST)
    assert [d.kind.value for d in check.to_move] == ["mdev-vfio-ccw"]
    assert ("note", "passthrough") in codes(check)
    assert ("blocker", "equivalent") in codes(check)  # no mdev of that UUID there


def _volume(host: str, uuid: str, css: str, busid: str, uid: str) -> tuple[HostDevice, ...]:
    """An mdev on subchannel `css` carrying DASD `busid` of volume `uid` (libvirt's names, udev's uid)."""
    name = "css_" + css.replace(".", "_")
    return (HostDevice(HostDeviceKind.MDEV, f"mdev_{host}", uuid, parent=name),
            HostDevice(HostDeviceKind.CSS, name, css, facts=(Fact("channel_dev_addr", busid, "libvirt"),)),
            HostDevice(HostDeviceKind.CCW, "ccw_" + busid.replace(".", "_"), busid, facts=(Fact("uid", uid, "udev"),)))


def test_vfio_ccw_the_same_uuid_is_not_the_same_device() -> None:
    """Equivalent means on the same volume: a matching UUID on another DASD is refused, and without the
    source's facts a matching UUID proves nothing."""
    g = guest("hostdev-vfio-ccw.xml")
    uuid = next(d for d in g.devices if d.passthrough).source
    src = MigrationHost("a", devices=_volume("a", uuid, "0.0.0023", "0.0.5c3f", "IBM.750000000DXP71.5c00.3f"))
    same = assess(g, MigrationOptions(unsafe=True), replace(DEST, devices=_volume("b", uuid, "0.0.0101", "0.0.7700",
                                                                                   "IBM.750000000DXP71.5c00.3f")), src)
    assert same.ok, same.findings
    assert "same volume IBM.750000000DXP71.5c00.3f" in next(f.text for f in same.findings if f.code == "equivalent")
    other = assess(g, MigrationOptions(unsafe=True), replace(DEST, devices=_volume("b", uuid, "0.0.0101", "0.0.5c3f",
                                                                                    "IBM.75000000999971.5c00.3f")), src)
    (finding,) = [f for f in other.blockers if f.code == "equivalent"]
    assert "volume IBM.75000000999971.5c00.3f" in finding.text and "another disk" in finding.text
    unknown = assess(g, MigrationOptions(unsafe=True), replace(DEST, devices=_volume("b", uuid, "0.0.0101", "0.0.7700",
                                                                                      "IBM.750000000DXP71.5c00.3f")))
    assert any(f.code == "equivalent" and "unknown" in f.text for f in unknown.blockers)


def test_vfio_ccw_a_volume_is_found_by_its_base_and_a_uid_not_said_is_not_another_volume() -> None:
    """A classic PAV alias has its base's very uid (dasd_devmap.c): the destination's volume is its base,
    never the alias. A DASD that says no uid (offline, or held by vfio_ccw) is not another volume: the
    device number is compared instead of refusing."""
    g = guest("hostdev-vfio-ccw.xml")
    uuid = next(d for d in g.devices if d.passthrough).source
    uid = "IBM.750000000DXP71.5c00.3f"
    src = MigrationHost("a", devices=_volume("a", uuid, "0.0.0023", "0.0.5c3f", uid))
    base = _volume("b", "00000000-0000-0000-0000-0000000000bb", "0.0.0101", "0.0.7701", uid)[1:]
    alias = _volume("b", "00000000-0000-0000-0000-0000000000cc", "0.0.0102", "0.0.77a1", uid)[1:]
    alias = (alias[0], replace(alias[1], facts=(*alias[1].facts, Fact("alias", "1", "udev"))))
    check = assess(g, MigrationOptions(unsafe=True), replace(DEST, devices=(*base, *alias)), src)
    (finding,) = [f for f in check.findings if f.code == "equivalent"]
    assert f"volume {uid} as 0.0.7701 on subchannel 0.0.0101" in finding.text and "77a1" not in finding.text

    other = _volume("b", "00000000-0000-0000-0000-0000000000dd", "0.0.0103", "0.0.7800", "IBM.750000000DXP71.7800.00")
    offline = (HostDevice(HostDeviceKind.CSS, "css_0_0_0104", "0.0.0104",
                          facts=(Fact("dev_busid", "0.0.5c3f", "udev"),)),
               HostDevice(HostDeviceKind.CCW, "ccw_0_0_5c3f", "0.0.5c3f", driver="dasd-eckd",
                          facts=(Fact("online", "0", "udev"), Fact("uid", "", "udev"))))
    check = assess(g, MigrationOptions(unsafe=True), replace(DEST, devices=(*other[1:], *offline)), src)
    (finding,) = [f for f in check.findings if f.code == "equivalent"]
    assert "reaches no DASD volume" not in finding.text
    assert "device number 0.0.5c3f (1 of the destination's DASDs say no uid" in finding.text

    there = (*_volume("b", uuid, "0.0.0105", "0.0.5c3f", "")[:2],)  # vfio_ccw holds it: no ccw device there
    same = assess(g, MigrationOptions(unsafe=True), replace(DEST, devices=there), src)
    assert same.ok and "device number 0.0.5c3f (no uid known there)" in next(
        f.text for f in same.findings if f.code == "equivalent")


def test_an_mdev_missing_on_the_source_names_nothing_behind_it() -> None:
    """Its empty parent matches no subchannel: no DASD is named, none is advised offline."""
    g = guest("hostdev-vfio-ccw.xml")
    uuid = next(d for d in g.devices if d.passthrough).source
    unrelated = _volume("a", "00000000-0000-0000-0000-0000000000aa", "0.0.0010", "0.0.5c00",
                        "IBM.750000000DXP71.5c00.00")
    src = MigrationHost("a", devices=(replace(unrelated[0], parent=""), *unrelated[1:],
                                  HostDevice(HostDeviceKind.CSS, "", "0.0.0000",
                                             facts=(Fact("dev_busid", "0.0.5c01", "udev"),))))
    dest = replace(DEST, devices=_volume("b", "00000000-0000-0000-0000-0000000000bb", "0.0.0101", "0.0.5c00",
                                         "IBM.750000000DXP71.5c00.00"))
    (finding,) = [f for f in assess(g, MigrationOptions(unsafe=True), dest, src).findings if f.code == "equivalent"]
    assert finding.severity == "blocker" and f"has no mdev {uuid}" in finding.text
    assert "0.0.5c0" not in finding.text and "offline" not in finding.text


def test_vfio_ccw_names_the_dasd_subchannel_when_the_mdev_is_missing() -> None:
    g = guest("hostdev-vfio-ccw.xml")
    uuid = next(d for d in g.devices if d.passthrough).source
    src_css = HostDevice(HostDeviceKind.CSS, "css_0_0_0023", "0.0.0023",
                         facts=(Fact("channel_dev_addr", "0.0.5c3f", "libvirt"),))
    src_mdev = HostDevice(HostDeviceKind.MDEV, "mdev_x", uuid, parent="css_0_0_0023")
    dest_css = HostDevice(HostDeviceKind.CSS, "css_0_0_0101", "0.0.0101",
                          facts=(Fact("channel_dev_addr", "0.0.5c3f", "libvirt"),),
                          mdev_types=(MdevType("vfio_ccw-io", available=1),))
    src = MigrationHost("a", devices=(src_css, src_mdev))
    check = assess(g, MigrationOptions(unsafe=True), replace(DEST, devices=(dest_css,)), src)
    (finding,) = [f for f in check.findings if f.code == "equivalent"]
    assert finding.severity == "blocker" and "0.0.5c3f" in finding.text and "0.0.0101" in finding.text
    gone = assess(g, MigrationOptions(unsafe=True), DEST, src)
    assert "not reachable" in next(f for f in gone.findings if f.code == "equivalent").text


def test_vfio_ap_moves_with_its_guest() -> None:
    """vfio-ap.rst: detach before the migration, attach an mdev with the same APQNs on the target after."""
    check = assess(guest("hostdev-vfio-ap.xml"), MigrationOptions(unsafe=True), DEST)
    assert [d.kind.value for d in check.to_move] == ["mdev-vfio-ap"]
    assert ("note", "passthrough") in codes(check) and ("blocker", "vfio-ap") not in codes(check)


def test_refuse_mode_makes_passthrough_a_blocker() -> None:
    check = assess(guest("hostdev-vfio-ccw.xml"), MigrationOptions(passthrough="refuse", unsafe=True),
                   DEST)
    assert ("blocker", "passthrough") in codes(check) and not check.to_move


def test_zpci_function_is_matched_by_its_host_uid_not_the_guests_virtual_one() -> None:
    g = guest("hostdev-zpci.xml")
    moved = [d for d in g.devices if d.passthrough]
    assert moved
    source = moved[0].source
    unique = (Fact("uid", "0x42", "udev"), Fact("uid_is_unique", "1", "udev"))
    src = MigrationHost("a", devices=(HostDevice(HostDeviceKind.PCI, "x", source, facts=unique),))
    there = HostDevice(HostDeviceKind.PCI, "pci_0009_00_00_0", "0009:00:00.0", facts=unique)
    assert assess(g, MigrationOptions(unsafe=True), replace(DEST, devices=(there,)), src).ok
    other = replace(there, facts=(Fact("uid", "0x43", "udev"), Fact("uid_is_unique", "1", "udev")))
    check = assess(g, MigrationOptions(unsafe=True), replace(DEST, devices=(other,)), src)
    assert "host zPCI uid 0x42" in check.blockers[0].text
    # the same uid written as libvirt writes it (`0x%.4x`) is the same function
    padded = replace(there, facts=(Fact("uid", "0x0042", "libvirt"), Fact("uid_is_unique", "1", "udev")))
    assert assess(g, MigrationOptions(unsafe=True), replace(DEST, devices=(padded,)), src).ok


def test_guest_checks_clash_machine_unreachable_and_state() -> None:
    g = guest("hostdev-zpci.xml", GuestState.SHUTOFF)
    dest = replace(DEST, domains=((g.name, "00000000-0000-0000-0000-000000000001", True),),
                   machine_error="the machine 'x' is not supported")
    found = {f.code for f in assess(g, MigrationOptions(unsafe=True), dest).blockers}
    assert {"not-running", "clash", "machine"} <= found
    assert "unreachable" in {f.code for f in assess(g, MigrationOptions(), unreachable("u", "refused")).blockers}


def test_extra_devices_and_unknown_names() -> None:
    g = guest("hostdev-zpci.xml")
    disks = [d for d in g.devices if d.target]
    options = MigrationOptions(extra_detach=(disks[0].target, "nosuch"), unsafe=True)
    check = assess(g, options, replace(DEST, devices=None))
    assert disks[0] in check.to_move
    assert ("blocker", "detach") in codes(check)


def test_vfio_ap_with_the_same_uuid_but_unknown_apqns_is_not_equivalent() -> None:
    g = guest("hostdev-vfio-ap.xml")
    uuid = next(d for d in g.devices if d.passthrough).source
    there = HostDevice(HostDeviceKind.MDEV, "mdev_b", uuid, facts=(Fact("ap_queues", "0x07.0x0038", "udev"),))
    for src in (None, MigrationHost("a", devices=())):
        check = assess(g, MigrationOptions(unsafe=True), replace(DEST, devices=(there,)), src)
        assert any(f.code == "equivalent" and "unknown" in f.text for f in check.blockers), check.findings
    mine = replace(there, name="mdev_a")
    assert assess(g, MigrationOptions(unsafe=True), replace(DEST, devices=(there,)),
                  MigrationHost("a", devices=(mine,))).ok
