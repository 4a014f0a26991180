"""The pure parts of "one guest, one running copy": which hosts ztui knows, what two copies share, what a
lock manager setting says, what a migration leaves behind and how it is named."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import libvirt
import pytest

from tests.conftest import domain_fixture
from ztui.libvirtxml.domain import parse_domain
from ztui.model import GuestState
from ztui.ops.migrate.locate import Copy, Presence
from ztui.ops.migrate.report import MigrationReport, leftover_commands
from ztui.ops.safety import known_hosts as known
from ztui.ops.safety.known_hosts import HostOrigin, KnownHost, host_named, known_hosts
from ztui.ops.safety.lock_manager import LockManager, LockState, configured, lock_advice
from ztui.ops.safety.other_copies import CopyCheck, OtherCopy, shared_devices

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
    ("lock_manager = 'lockd'  # virconf takes single quotes too\n", LockManager.LOCKD),
])
def test_qemu_conf_lock_manager(text: str, manager: LockManager) -> None:
    assert configured(text) is manager


@pytest.mark.parametrize(("manager", "conf", "reaches"), [
    (LockManager.LOCKD, "", False),  # direct locks on /dev nodes: each host its own
    (LockManager.LOCKD, 'file_lockspace_dir = "/nfs/lockd/files"\n', True),
    (LockManager.LOCKD, 'file_lockspace_dir = "/nfs/lockd/files"\nauto_disk_leases = 0\n', False),
    (LockManager.SANLOCK, "", False),  # sanlock's auto_disk_leases defaults to 0
    (LockManager.SANLOCK, "auto_disk_leases = 1\nhost_id = 3\n", True),
])
def test_a_lock_manager_guards_shared_block_devices_only_where_its_locks_reach_the_other_hosts(
        manager: LockManager, conf: str, reaches: bool) -> None:
    from ztui.ops.safety.lock_manager import reach

    state = LockState(manager, reach(manager, conf))
    assert state.guards is reaches
    advice = lock_advice("zlab-y", state)
    assert (advice == "") is reaches
    if not reaches:
        assert advice.startswith(f"zlab-y: libvirt there uses {manager.value}, but ")
        assert ("file_lockspace_dir" if manager is LockManager.LOCKD and not conf else "auto_disk_leases") in advice


def test_lock_advice_says_what_to_configure_or_that_it_cannot_be_known() -> None:
    assert lock_advice("z", LockState(LockManager.LOCKD)) == ""
    none = lock_advice("z", LockState(LockManager.NONE))
    assert 'lock_manager = "lockd"' in none and "file_lockspace_dir" in none  # lockd alone: no lock across hosts
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


def test_hosts_that_do_not_answer_are_waited_for_once_all_together_and_never_count_as_clear() -> None:
    """Three hosts whose daemon accepts the connection and then says nothing (a hung libvirtd, a firewall
    that swallows packets): the check waits one timeout for all of them, not one each, and says it could
    not ask them — never that the guest runs nowhere else."""
    import socket
    import time

    from ztui.ops.safety.other_copies import look_elsewhere

    guest = parse_domain(domain_fixture("dasd-fcp-controllers.xml").read_text())
    silent = [socket.socket() for _ in range(3)]
    try:
        for sock in silent:
            sock.bind(("127.0.0.1", 0))
            sock.listen(8)  # the kernel completes the handshake; nobody ever reads or answers
        hosts = [KnownHost(f"qemu+tcp://127.0.0.1:{s.getsockname()[1]}/system") for s in silent]
        here = KnownHost("test:///default")
        started = time.monotonic()
        check = look_elsewhere(guest, here, [here, *hosts], timeout=1.0)
        elapsed = time.monotonic() - started
    finally:
        for sock in silent:
            sock.close()  # the connections waiting in its queue are reset: the abandoned threads end
    assert not check.clear and not check.running
    assert [c.host for c in check.unanswered] == hosts
    assert all("no answer within 1 s" in c.error for c in check.unanswered)
    assert elapsed < 2.5, f"{elapsed:.1f} s: each host waited for in turn"


def _test_host(path: Path, runstate: int) -> str:
    """A test-driver host defining guest `g` (one UUID on every such host) in `runstate`; its URI."""
    path.write_text(f"""<node xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
  <domain type='test'><name>g</name><uuid>5c6a1b40-8f0e-4a53-9d2e-2b9e1f0c7a11</uuid>
    <memory unit='KiB'>65536</memory><os><type arch='s390x' machine='s390-ccw-virtio'>hvm</type></os>
    <devices><disk type='block' device='disk'><source dev='/dev/disk/by-path/ccw-0.0.5c05'/>
      <target dev='vda' bus='virtio'/></disk></devices>
    <test:runstate>{runstate}</test:runstate></domain>
</node>""")
    return f"test://{path}"


def test_a_confirmation_covers_only_the_hosts_it_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The TUI asks, the user says yes, the start runs later: it goes ahead only when the hosts then say
    nothing the question did not (a host that did not answer then and runs the guest now asks again)."""
    from ztui.libvirt.link import HostLink
    from ztui.ops.lifecycle import Action, plan, start_one_copy

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("ZTUI_LAB_DIR", str(tmp_path / "no-lab"))
    here = _test_host(tmp_path / "a.xml", libvirt.VIR_DOMAIN_SHUTOFF)
    there = _test_host(tmp_path / "b.xml", libvirt.VIR_DOMAIN_RUNNING)
    conn = libvirt.open(here)
    try:
        dom = conn.lookupByName("g")
        planned = plan(Action.START, here, "g", GuestState.SHUTOFF)
        link = HostLink(here, conn)
        refused = start_one_copy(link, dom, planned, session=[there], via="test")
        assert refused.result is None and [c.host.uri for c in refused.check.running] == [there]
        assert "vda /dev/disk/by-path/ccw-0.0.5c05" in refused.check.reason() and not dom.isActive()
        silent = replace(refused.check, running=(), unanswered=(replace(refused.check.running[0], error="timeout"),))
        asked_about_less = start_one_copy(link, dom, planned, session=[there], accepted=silent, via="test")
        assert asked_about_less.result is None and not dom.isActive()
        confirmed = start_one_copy(link, dom, planned, session=[there], accepted=refused.check, via="test")
        assert confirmed.result is not None and confirmed.result.ok and dom.isActive()
        assert "already runs on" in confirmed.forced
    finally:
        conn.close()


def test_a_configuration_that_cannot_be_read_is_unknown_never_none(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """qemu.conf (or the lock manager's own file) that cannot be read says nothing either way: the advice
    says it is unknown and why, with the path as the daemon has it."""
    from ztui.ops.safety import lock_manager
    from ztui.ops.safety.lock_manager import lock_state

    etc = tmp_path / "etc" / "libvirt"
    etc.mkdir(parents=True)
    monkeypatch.setattr(lock_manager, "daemon_root", lambda uri: str(tmp_path))
    assert lock_state("qemu:///system").manager is LockManager.NONE  # no qemu.conf: libvirt's default
    (etc / "qemu.conf").mkdir()  # there, but not a file anyone can read
    state = lock_state("qemu:///system")
    assert state.manager is LockManager.UNKNOWN and state.why.startswith("/etc/libvirt/qemu.conf cannot be read")
    (etc / "qemu.conf").rmdir()
    (etc / "qemu.conf").write_text('lock_manager = "lockd"\n')
    (etc / "qemu-lockd.conf").mkdir()
    state = lock_state("qemu:///system")
    assert state.manager is LockManager.UNKNOWN and state.why.startswith("/etc/libvirt/qemu-lockd.conf cannot")
    (etc / "qemu-lockd.conf").rmdir()
    (etc / "qemu-lockd.conf").write_text('file_lockspace_dir = "/nfs/lockd"\n')
    assert lock_state("qemu:///system").guards


def test_saved_hosts_that_cannot_be_read_are_a_host_that_did_not_answer(monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    """A broken saved-hosts config must not make "runs nowhere else" true: its hosts could not be asked."""
    from ztui.ops.safety.other_copies import look_elsewhere

    monkeypatch.setenv("ZTUI_LAB_DIR", str(tmp_path / "nolab"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "ztui").mkdir()
    (tmp_path / "ztui" / "config.toml").write_text("[hosts.lpar1\nuri = ")
    hosts = known_hosts(["test:///default"])
    assert [h.origin for h in hosts] == [HostOrigin.SESSION, HostOrigin.SAVED] and hosts[1].unreadable
    guest = parse_domain(domain_fixture("dasd-fcp-controllers.xml").read_text())
    check = look_elsewhere(guest, hosts[0], hosts, timeout=5)
    assert not check.clear and check.unanswered[0].host is hosts[1]
    assert "could not ask the saved hosts" in check.reason() and "config.toml" in check.reason()
