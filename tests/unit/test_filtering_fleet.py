"""The `/` filter and the fleet model, on parsed fixtures (pure: no libvirt, no UI)."""

from __future__ import annotations

from dataclasses import replace

from tests.conftest import domain_fixture
from ztui.fleet import Fleet
from ztui.libvirtxml.domain import parse_domain
from ztui.model import BackingStep, GuestState, Host, StepKind
from ztui.report.filtering import match_guest


def _guest(name: str, fixture: str):  # type: ignore[no-untyped-def]
    guest = parse_domain(domain_fixture(fixture).read_text(), state=GuestState.RUNNING)
    return replace(guest, name=name, uuid=f"uuid-{name}")


def test_busid_in_a_backing_chain_narrows_to_that_guest() -> None:
    lnx01 = _guest("lnx01", "s390x-headless.xml")
    disk = replace(lnx01.devices[0], backing=(BackingStep(StepKind.BLOCK, "/dev/dasdf"),
                                               BackingStep(StepKind.DASD, "0.0.5c3f", "3390/0c")))
    lnx01 = replace(lnx01, devices=(disk, *lnx01.devices[1:]))
    lnx02 = _guest("lnx02", "s390x-headless.xml")
    assert match_guest(lnx02, "0.0.5c3f") is None
    match = match_guest(lnx01, "0.0.5C3F")  # case does not matter
    assert match is not None and not match.by_guest and match.devices == frozenset({0})


def test_guest_name_uuid_target_and_vfio_mdev() -> None:
    guest = _guest("lnx03", "hostdev-vfio-ccw.xml")
    assert match_guest(guest, "lnx0") is not None and match_guest(guest, "lnx0").by_guest  # type: ignore[union-attr]
    assert match_guest(guest, "uuid-lnx03") is not None
    assert match_guest(guest, "6f2c9d41").devices == frozenset({0})  # type: ignore[union-attr]
    assert match_guest(guest, "") is not None
    assert match_guest(guest, "nothing-like-this") is None


def test_ccw_address_matches() -> None:
    guest = _guest("lnx04", "ccw-addresses.xml")
    match = match_guest(guest, "0.2.f00f")
    assert match is not None and match.devices == frozenset({3})


def test_fleet_follows_updates() -> None:
    a = _guest("b-guest", "s390x-headless.xml")
    b = _guest("a-guest", "s390x-virtio-devices.xml")
    fleet = Fleet(["test:///x"])
    change = fleet.host_up("test:///x", Host(uri="test:///x", hostname="h", guests=(a, b)))
    assert change.what == "host"
    assert [g.name for g in fleet.hosts["test:///x"].guests.values()] == ["a-guest", "b-guest"]
    c = _guest("0-first", "s390x-headless.xml")
    assert fleet.guest_updated("test:///x", c).what == "guest"
    assert next(iter(fleet.hosts["test:///x"].guests.values())).name == "0-first"
    paused = replace(a, state=GuestState.PAUSED)
    fleet.guest_updated("test:///x", paused)
    assert fleet.guest("test:///x", a.uuid) == paused
    assert fleet.guest_gone("test:///x", a.uuid).what == "gone"
    assert fleet.guest("test:///x", a.uuid) is None
    down = fleet.host_down("test:///x", "daemon gone", 1.0)
    assert down.what == "state" and not fleet.hosts["test:///x"].connected
    assert len(fleet.snapshot("test:///x").guests) == 2  # the last known guests stay visible
