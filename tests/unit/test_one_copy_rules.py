"""The pure parts of "one guest, one running copy": which hosts ztui knows, what two copies share, what a
lock manager setting says, what a migration leaves behind and how it is named."""

from __future__ import annotations

from dataclasses import replace

import libvirt
import pytest

from tests.conftest import domain_fixture
from ztui.libvirtxml.domain import parse_domain
from ztui.model import GuestState
from ztui.ops import known_hosts as known
from ztui.ops.known_hosts import HostOrigin, KnownHost, host_named, known_hosts
from ztui.ops.lock_manager import LockManager, LockState, configured, lock_advice
from ztui.ops.migrate_locate import Copy, Presence
from ztui.ops.migrate_report import MigrationReport, leftover_commands
from ztui.ops.other_copies import CopyCheck, OtherCopy, shared_devices

LAB_Y = KnownHost("qemu+unix:///system?socket=/lab/y", HostOrigin.LAB, "zlab-y", ("qemu+tcp://127.0.0.1:1/system",))


def test_known_hosts_are_the_session_then_the_lab_each_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(known, "_lab_hosts", lambda: (LAB_Y, KnownHost("unix:z", HostOrigin.LAB, "zlab-z")))
    hosts = known_hosts(["qemu+tcp://127.0.0.1:1/system", "qemu:///system", "qemu:///system"])
    assert [h.uri for h in hosts] == ["qemu+tcp://127.0.0.1:1/system", "qemu:///system", "unix:z"]
    assert hosts[0].name == "zlab-y" and hosts[0].reaches(LAB_Y.uri)  # the lab host the session named by tcp
    assert hosts[0].origin is HostOrigin.SESSION and hosts[2].origin is HostOrigin.LAB
    assert host_named(hosts, LAB_Y.uri) is hosts[0] and host_named(hosts, "test:///x").uri == "test:///x"


def test_no_running_lab_adds_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("ZTUI_LAB_DIR", str(tmp_path))
    assert known_hosts(["qemu:///system"]) == (KnownHost("qemu:///system"),)


def test_two_copies_share_their_writable_disks_not_the_read_only_ones() -> None:
    guest = parse_domain(domain_fixture("dasd-fcp-controllers.xml").read_text())
    writable = [d for d in guest.devices if d.kind.value in ("disk", "lun") and d.source
                and d.detail("readonly") != "yes"]
    assert len(writable) == 5, "the fixture has five writable disks and LUNs"
    both = shared_devices(guest, guest)
    assert both == tuple(f"{d.display_name} {d.source}" for d in writable)
    other = replace(guest, devices=tuple(d for d in guest.devices if d is not writable[0]))
    assert f"{writable[0].display_name} {writable[0].source}" not in shared_devices(guest, other)
    assert shared_devices(guest, None) == both  # the other copy unreadable: every writable disk counts


def test_the_reason_names_where_it_runs_what_both_write_and_who_did_not_answer() -> None:
    guest = parse_domain(domain_fixture("dasd-fcp-controllers.xml").read_text())

    running = OtherCopy(LAB_Y, "zlab-y", GuestState.RUNNING, guest)
    silent = OtherCopy(KnownHost("qemu+ssh://far/system"), "qemu+ssh://far/system", error="no route to host")
    check = CopyCheck(guest, "zlab-z", (running,), (silent,))
    text = check.reason()
    assert not check.clear and f"{guest.name} already runs on zlab-y (running)" in text
    assert "a second copy on zlab-z would write the same devices" in text
    assert "could not ask qemu+ssh://far/system (no route to host)" in text
    assert CopyCheck(guest, "zlab-z").clear


@pytest.mark.parametrize(("text", "manager"), [
    ("", LockManager.NONE),
    ('#lock_manager = "lockd"\n', LockManager.NONE),
    ('lock_manager = "lockd"\n', LockManager.LOCKD),
    ('  lock_manager="sanlock"\n', LockManager.SANLOCK),
    ('lock_manager = "lockd"\nlock_manager = "nop"\n', LockManager.NONE),
])
def test_qemu_conf_lock_manager(text: str, manager: LockManager) -> None:
    assert configured(text) is manager


def test_lock_advice_says_what_to_configure_or_that_it_cannot_be_known() -> None:
    assert lock_advice("z", LockState(LockManager.LOCKD)) == ""
    assert 'lock_manager = "lockd"' in lock_advice("z", LockState(LockManager.NONE))
    unknown = lock_advice("far", LockState(LockManager.UNKNOWN, "its qemu.conf cannot be read over libvirt"))
    assert unknown.startswith("far: whether libvirt there has a lock manager is unknown") and "virtlockd" in unknown


def test_a_kept_definition_is_not_absent_and_not_a_failure() -> None:
    kept = Copy("a", Presence.ABSENT, persistent=True)
    assert kept.defined_only and kept.describe() == "defined, shut off"
    assert Copy("a", Presence.ABSENT).describe() == "absent"
    running = Copy("b", Presence.ACTIVE, libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_MIGRATED)
    report = MigrationReport("g", "b", True, "g runs on b", 1.0, source="a", destination="b", state="running",
                             source_copy=kept.describe(), destination_copy=running.describe(),
                             leftover=leftover_commands("g", "a", "b", dest_persistent=True))
    assert report.ok and report.to_json()["leftover"] == ["virsh -c a undefine g"]
    assert any("a keeps g's definition (shut off)" in line for line in report.lines())


def test_a_transient_destination_gets_the_definition_before_the_source_loses_it() -> None:
    commands = leftover_commands("my guest", "qemu:///system", "qemu+ssh://b/system", dest_persistent=False)
    # defined as it runs there: another LPAR may name its disks otherwise than the source's definition does
    assert commands == ("virsh -c qemu+ssh://b/system dumpxml --inactive 'my guest' > 'my guest.xml'",
                        "virsh -c qemu+ssh://b/system define 'my guest.xml'",
                        "virsh -c qemu:///system undefine 'my guest'")
