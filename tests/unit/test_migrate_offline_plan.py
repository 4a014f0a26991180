"""Offline migration before anything changes: flags, parameters, the virsh command, the plan and the
preflight's judgement. Pure: no daemon."""

from __future__ import annotations

import libvirt

from ztui.libvirtxml.domain import parse_domain
from ztui.model import GuestState
from ztui.ops.migrate.plan import MigrationOptions, migrate_flags, migrate_params, plan_steps, virsh_migrate
from ztui.ops.migrate.preflight import assess
from ztui.ops.migrate.read import MigrationHost, unreachable
from ztui.ops.migrate.report import MigrationReport

SRC, DEST_URI = "qemu+ssh://a/system", "qemu+ssh://b/system"
DOMAIN = """<domain type='kvm'><name>g</name><uuid>8b1d32a5-8c2b-4e0c-9a57-1f6f3f0a9c11</uuid>
<os><type arch='s390x' machine='s390-ccw-virtio'>hvm</type></os><devices>
<disk type='file' device='disk'><source file='/var/lib/libvirt/images/g.qcow2'/><target dev='vda' bus='virtio'/></disk>
<hostdev mode='subsystem' type='mdev' model='vfio-ap'><source><address uuid='c3a1f4a0-1b2c-4d5e-8f90-0a1b2c3d4e5f'/>
</source></hostdev>
</devices></domain>"""
DEST = MigrationHost(DEST_URI, networks=("default",), machine_error="")
OFFLINE = MigrationOptions(offline=True, persistent=True)


def guest(state: GuestState = GuestState.SHUTOFF, persistent: bool = True):  # type: ignore[no-untyped-def]
    return parse_domain(DOMAIN, state=state, persistent=persistent)


def test_flags_are_offline_persistent_peer_to_peer_never_live() -> None:
    flags = migrate_flags(OFFLINE)
    assert flags & libvirt.VIR_MIGRATE_OFFLINE and flags & libvirt.VIR_MIGRATE_PERSIST_DEST
    assert flags & libvirt.VIR_MIGRATE_PEER2PEER and not flags & libvirt.VIR_MIGRATE_LIVE
    assert not flags & libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
    assert migrate_flags(MigrationOptions(offline=True, undefine_source=True)) & libvirt.VIR_MIGRATE_UNDEFINE_SOURCE


def test_no_data_stream_address_offline() -> None:
    assert migrate_params(DEST_URI, OFFLINE) == {}
    assert migrate_params(DEST_URI, OFFLINE, "<domain/>") == {libvirt.VIR_MIGRATE_PARAM_PERSIST_XML: "<domain/>"}


def test_virsh_and_plan() -> None:
    options = MigrationOptions(offline=True, undefine_source=True)
    assert virsh_migrate(SRC, "g", DEST_URI, options) == \
        f"virsh -c {SRC} migrate --offline --persistent --p2p g {DEST_URI} --undefinesource"
    (step,) = plan_steps("g", SRC, DEST_URI, options, ())
    assert step.action == "migrate" and "nothing is started" in step.text and "undefined on the source" in step.text


def test_a_shut_off_persistent_guest_passes_and_its_devices_stay_in_the_definition() -> None:
    check = assess(guest(), OFFLINE, DEST)
    assert check.ok, check.findings
    assert check.to_move == ()  # vfio-ap blocks only live migration: offline it simply moves with the definition
    codes = {(f.severity, f.code) for f in check.findings}
    assert ("note", "local-disk") in codes and ("note", "offline") in codes


def test_running_transient_copy_storage_and_unreachable_are_blockers() -> None:
    def blockers(check) -> set[str]:  # type: ignore[no-untyped-def]
        return {f.code for f in check.blockers}

    assert blockers(assess(guest(GuestState.RUNNING), OFFLINE, DEST)) == {"running"}
    assert blockers(assess(guest(persistent=False), OFFLINE, DEST)) == {"transient"}
    assert blockers(assess(guest(), MigrationOptions(offline=True, copy_storage=True), DEST)) == {"copy-storage"}
    assert "unreachable" in blockers(assess(guest(), OFFLINE, unreachable(DEST_URI, "no route")))
    other = MigrationHost(DEST_URI, domains=(("g", "00000000-0000-0000-0000-000000000001", False),))
    assert blockers(assess(guest(), OFFLINE, other)) == {"clash"}


def test_an_offline_report_is_ok_when_the_destination_defines_it_shut_off() -> None:
    done = MigrationReport("g", DEST_URI, True, "", 0.1, source=SRC, destination=DEST_URI, state="shut off",
                           offline=True)
    assert done.ok and done.to_json()["offline"] is True
    assert not MigrationReport("g", DEST_URI, True, "", 0.1, source=SRC, destination=DEST_URI, state="running",
                               offline=True).ok
