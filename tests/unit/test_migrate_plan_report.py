"""Migration options → libvirt flags, parameters, virsh commands, the plan; progress and the end report."""

from __future__ import annotations

import threading

import libvirt

from ztui.model import DeviceKind, GuestDevice
from ztui.ops.migrate.plan import (
    MigrationOptions,
    migrate_flags,
    migrate_params,
    migration_uri,
    plan_steps,
    virsh_migrate,
)
from ztui.ops.migrate.report import (
    DeviceFate,
    MigrationReport,
    completed_text,
    percent,
    progress_of,
    progress_text,
)
from ztui.ops.migrate.run import MigrationControl

LOCAL = "qemu+unix:///system?socket=/run/b/libvirt-sock"


def test_the_migration_uri_is_always_given() -> None:
    assert migration_uri(LOCAL) == "tcp://127.0.0.1"
    assert migration_uri("qemu+ssh://root@kvm02/system") == "tcp://kvm02"
    params = migrate_params(LOCAL, MigrationOptions(bandwidth_mib=8))
    assert params[libvirt.VIR_MIGRATE_PARAM_URI] == "tcp://127.0.0.1"
    assert params[libvirt.VIR_MIGRATE_PARAM_LISTEN_ADDRESS] == "127.0.0.1"
    assert params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] == 8
    remote = migrate_params("qemu+ssh://kvm02/system", MigrationOptions(persistent=True), "<domain/>")
    assert libvirt.VIR_MIGRATE_PARAM_LISTEN_ADDRESS not in remote
    assert remote[libvirt.VIR_MIGRATE_PARAM_PERSIST_XML] == "<domain/>"


def test_flags_and_virsh_agree() -> None:
    options = MigrationOptions(unsafe=True, persistent=True, postcopy=True, auto_converge=True)
    flags = migrate_flags(options)
    for flag in (libvirt.VIR_MIGRATE_LIVE, libvirt.VIR_MIGRATE_PEER2PEER, libvirt.VIR_MIGRATE_UNSAFE,
                 libvirt.VIR_MIGRATE_PERSIST_DEST, libvirt.VIR_MIGRATE_POSTCOPY, libvirt.VIR_MIGRATE_AUTO_CONVERGE):
        assert flags & flag
    command = virsh_migrate("qemu:///system", "lnx01", "qemu+ssh://kvm02/system", options)
    for word in ("--live", "--p2p", "--unsafe", "--persistent", "--postcopy", "--auto-converge",
                 "--migrateuri tcp://kvm02"):
        assert word in command


def test_plan_detaches_migrates_attaches() -> None:
    dev = GuestDevice(DeviceKind.MDEV_VFIO_CCW, "<hostdev/>", alias="hostdev0", source="uuid-1")
    steps = plan_steps("lnx01", "qemu:///system", LOCAL, MigrationOptions(max_downtime_ms=50), (dev,))
    assert [s.action for s in steps] == ["detach", "migrate", "downtime", "attach"]
    assert "detach-device" in steps[0].virsh and "attach-device" in steps[-1].virsh and LOCAL in steps[-1].virsh


def test_progress_figures() -> None:
    stats = {"type": 2, "time_elapsed": 1500, "data_total": 200 << 20, "data_processed": 50 << 20,
             "data_remaining": 150 << 20, "memory_bps": 8 << 20, "memory_dirty_rate": 3, "memory_iteration": 1}
    step = progress_of(stats)
    assert step["type"] == "progress" and not step["completed"] and step["iteration"] == 1
    assert percent(step) == 25.0 and percent({"data_total": 0}) is None
    assert "25.0%" in progress_text(step) and "8.0 MiB/s" in progress_text(step)


def test_progress_in_the_users_units_when_zero_pages_are_skipped() -> None:
    """An idle guest: most of its memory is zero pages, counted as done but never sent. The figures must
    add up (done + left = total), in units that show small amounts (not `0 MiB`)."""
    stats = {"time_elapsed": 300, "data_total": 256 << 20, "data_processed": 300 << 10,
             "data_remaining": 121 << 20, "memory_bps": 40 << 20, "memory_dirty_rate": 256,
             "memory_page_size": 4096, "memory_iteration": 1}
    text = progress_text(progress_of(stats))
    assert text.startswith(" 52.7% ") and "135 MiB of 256 MiB done" in text and "121 MiB left" in text
    assert "300 KiB sent" in text and "40.0 MiB/s" in text and "dirty 1.0 MiB/s" in text
    done = progress_of({**stats, "data_remaining": 0, "data_processed": 700 << 10, "downtime": 15},
                       completed=True)
    assert completed_text(done) == "100.0% completed: 256 MiB migrated (700 KiB sent) in 0.3 s, downtime 15 ms"


def test_report_is_ok_only_with_every_device_on_the_destination() -> None:
    fate = DeviceFate("vdm", "<disk/>", "destination", host=LOCAL)
    good = MigrationReport("g", LOCAL, True, "ok", 1.0, (fate,), "qemu:///system", LOCAL, "running")
    assert good.ok and good.to_json()["devices"][0]["state"] == "destination"
    lost = DeviceFate("vdm", "<disk/>", "lost", "refused", "virsh -c X attach-device g vdm.xml --live", LOCAL)
    bad = MigrationReport("g", LOCAL, True, "1 lost", 1.0, (lost,), "qemu:///system", LOCAL, "running")
    assert not bad.ok and bad.lost == (lost,)
    assert any("attach-device" in line and "<disk/>" in line for line in bad.lines())
    back = MigrationReport("g", "qemu:///system", False, "rolled back", 1.0, (), "qemu:///system", LOCAL, "running")
    assert not back.ok


def test_control_is_an_event_that_can_also_ask_for_postcopy() -> None:
    control = MigrationControl()
    control.switch_to_postcopy()
    assert control.postcopy.is_set() and not control.is_set()
    threading.Thread(target=control.abort).start()
    assert control.wait(5)
