"""Whether a destination fits a guest (`ztui.ops.migrate.fit`): its disks' volumes there by identity and
under that host's names, its interfaces, CPU, memory, Secure Execution, pass-through devices free there;
the migration XML that carries the new names; `where` and the evacuation plan built on it. Pure: the two
LPARs' facts come from the simulated hosts, written through the zsysfs writers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import libvirt
import pytest

from ztui.host.index import VolumeInfo
from ztui.host.inventory import Inventory, build_inventory
from ztui.lab.guests import BootSpec
from ztui.lab.zguests import ZDisk, ZGuest, z_domain_xml
from ztui.lab.zhost import DESCRIPTION, TWIN_DESCRIPTION, Description, z_host_facts
from ztui.libvirtxml.domain import guest_from_element, parse_domain
from ztui.libvirtxml.rewrite import rewrite_sources
from ztui.model import (
    DeviceKind,
    DeviceUse,
    Guest,
    GuestState,
    HostDevice,
    HostDeviceKind,
    IdentityKind,
    SecureExecutionForm,
    VolumeIdentity,
)
from ztui.ops.migrate.evacuate import _choose
from ztui.ops.migrate.fit import (
    CpuVerdict,
    HostFit,
    host_findings,
    interface_findings,
    passthrough_free_findings,
    volume_findings,
)
from ztui.ops.migrate.plan import MigrationOptions, Rewrite, migrate_params, plan_steps, renamed_xml, virsh_migrate
from ztui.ops.migrate.preflight import Preflight, assess
from ztui.ops.migrate.read import MigrationHost
from ztui.ops.migrate.where import Readiness, placement_of
from ztui.ops.safety.known_hosts import KnownHost

Z, Y = "qemu+unix:///system?socket=/z", "qemu+unix:///system?socket=/y"
LAB = Path("/lab")


def inventory(desc: Description, uri: str = Z) -> Inventory:
    facts = z_host_facts(desc)
    return build_inventory(facts.devices, local=True, system=facts.system, uri=uri)


@pytest.fixture(scope="module")
def z() -> Inventory:
    return inventory(DESCRIPTION)


@pytest.fixture(scope="module")
def y() -> Inventory:
    return inventory(TWIN_DESCRIPTION, Y)


def zguest(*disks: ZDisk, interfaces: tuple[tuple[str, str], ...] = ()) -> Guest:
    spec = ZGuest("zlnx42", running=True, disks=disks, interfaces=interfaces)
    xml = z_domain_xml(spec, BootSpec(Path("/k")), LAB)
    return replace(guest_from_element(ET.fromstring(xml)), state=GuestState.RUNNING, uuid="zx-uuid")


BY_PATH = "/dev/disk/by-path/ccw-0.0.5c05"
MAPPER = "/dev/mapper/36005076303ffc5620000000000001001"
BY_ID = "/dev/disk/by-id/ccw-IBM.750000000DXP71.5c00.02"


def test_disks_are_found_by_identity_and_renamed_where_the_name_differs(z: Inventory, y: Inventory) -> None:
    g = zguest(ZDisk("vda", BY_PATH, 0), ZDisk("vdb", MAPPER, 1), ZDisk("vdc", BY_ID, 2),
               ZDisk("vdd", "/dev/disk/by-path/ccw-0.0.5c01-part1", 3))
    places = volume_findings(g, MigrationOptions(), z, y)
    assert places.judged == places.shared == {"vda", "vdb", "vdc", "vdd"}
    assert [(r.device, r.old, r.new) for r in places.rewrites] == [
        ("vda", BY_PATH, "/dev/disk/by-path/ccw-0.0.6c05"),
        ("vdd", "/dev/disk/by-path/ccw-0.0.5c01-part1", "/dev/disk/by-path/ccw-0.0.6c01-part1")]
    assert places.rewrites[0].volume == VolumeIdentity(IdentityKind.DASD, "IBM.750000000DXP71.5c00.05")
    assert all(f.severity == "note" for f in places.findings)


def test_a_volume_the_destination_does_not_see_blocks_unless_it_cannot_tell(z: Inventory) -> None:
    g = zguest(ZDisk("vda", BY_PATH, 0), ZDisk("vdb", MAPPER, 1))
    x86 = build_inventory((), local=True, uri="qemu:///system")  # udev says it all: no DASD, no LUN
    places = volume_findings(g, MigrationOptions(), z, x86)
    assert [(f.device, f.severity, f.step) for f in places.findings] == [("vda", "blocker", ""),
                                                                         ("vdb", "blocker", "")]
    assert "DASD IBM.750000000DXP71.5c00.05 is not visible on the destination" in places.findings[0].text
    # a remote Z host known from libvirt alone: ccw devices without uids; whether it sees the DASD is unknown
    facts = z_host_facts(TWIN_DESCRIPTION)
    remote = build_inventory((), tuple(replace(d, facts=tuple(f for f in d.facts if f.key != "uid"), source="libvirt")
                                       for d in facts.devices if d.kind.value in ("ccw", "css")), uri="qemu+ssh://y/")
    assert "vda" not in volume_findings(g, MigrationOptions(), z, remote).judged  # the path rules judge it


def test_interfaces_are_resolved_on_the_destination(z: Inventory, y: Inventory) -> None:
    g = zguest(interfaces=(("direct", "encf600"), ("bridge", "br-hsi")))
    on_z = interface_findings(g, z)  # zlab-z runs encf600 in layer 3
    (blocker,) = [f for f in on_z if f.severity == "blocker"]
    assert "encf600" in blocker.text and "needs a layer-2 card" in blocker.text
    assert all(f.severity == "note" for f in interface_findings(g, y))  # zlab-y: layer 2, and the bridge
    bare = inventory(replace(TWIN_DESCRIPTION, bridges=()))
    assert any("bridge not found" in f.text for f in interface_findings(g, bare) if f.severity == "blocker")


def test_cpu_memory_and_secure_execution(y: Inventory) -> None:
    g = replace(zguest(), memory_kib=4 << 20)
    found = host_findings(g, HostFit(CpuVerdict.INCOMPATIBLE, "gen16a", 1 << 30), y)
    assert [(f.code, f.severity) for f in found] == [("cpu", "blocker"), ("memory", "blocker")]
    unknown = host_findings(g, HostFit(CpuVerdict.UNKNOWN, "does not support reporting CPU model", 8 << 30), y)
    assert [(f.code, f.severity) for f in unknown] == [("cpu", "note"), ("memory", "note")]
    assert "CPU not compared: does not support" in unknown[0].text
    se = replace(g, secure_execution_form=SecureExecutionForm.LAUNCH_SECURITY)
    assert host_findings(se, HostFit(), y)[-1].severity == "note"  # zlab-y: prot_virt_host 1
    plain = build_inventory((HostDevice(HostDeviceKind.SYSTEM, "host", "host"),), local=True)  # no prot_virt
    assert host_findings(se, HostFit(), plain)[-1].severity == "blocker"


def test_pass_through_equivalents_must_be_free_there(z: Inventory) -> None:
    g = parse_domain(z_domain_xml(ZGuest("zlnx04", False, (), pci=("0001:00:00.0", "0002:00:00.0")),
                                  BootSpec(Path("/k")), LAB))
    moved = [d for d in g.devices if d.passthrough]
    taken = {"pci:0002:00:00.0": (DeviceUse("pci:0002:00:00.0", "lnx99", "", "", DeviceKind.HOSTDEV_PCI, True, True),)}
    found = passthrough_free_findings(moved, z, z, taken)
    texts = sorted(f.text for f in found)
    assert len(texts) == 2 and "lnx99 runs there with it" in texts[1]
    assert "interface eno1 is up" in texts[0]  # the RoCE function the host itself uses


def test_assess_with_both_inventories_renames_and_needs_no_choice(z: Inventory, y: Inventory) -> None:
    g = zguest(ZDisk("vda", BY_PATH, 0), ZDisk("vdb", MAPPER, 1))
    dest = MigrationHost(Y, inventory=y, devices=y.devices, networks=(), machine_error="")
    check = assess(g, MigrationOptions(), dest, MigrationHost(Z, inventory=z, devices=z.devices))
    assert check.ok, check.blockers
    assert [(r.device, r.new) for r in check.rewrites] == [("vda", "/dev/disk/by-path/ccw-0.0.6c05")]
    assert not any(f.code == "local-disk" for f in check.findings)


def test_images_on_storage_proven_shared_run_with_unsafe() -> None:
    image = "/srv/lab/g-vda.qcow2"
    vol = VolumeInfo(image, "lab", "g-vda.qcow2", "dir", pool_target="/srv/lab", shared_at="directory 8:1 inode 9")
    here, there = (build_inventory((), local=True, volumes=(vol,), uri=u) for u in (Z, Y))
    g = replace(parse_domain(f"<domain type='qemu'><name>g</name><uuid>00000000-0000-0000-0000-000000000001</uuid>"
                             f"<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                             f"<source file='{image}'/><target dev='vda' bus='virtio'/></disk></devices></domain>"),
                state=GuestState.RUNNING)
    check = assess(g, MigrationOptions(), MigrationHost(Y, inventory=there, devices=(), networks=()),
                   MigrationHost(Z, inventory=here, devices=()))
    assert check.ok and check.options is not None and check.options.unsafe
    elsewhere = build_inventory((), local=True, volumes=(replace(vol, shared_at="directory 8:1 inode 10"),), uri=Y)
    refused = assess(g, MigrationOptions(), MigrationHost(Y, inventory=elsewhere, devices=(), networks=()),
                     MigrationHost(Z, inventory=here, devices=()))
    assert [f.code for f in refused.blockers] == ["local-disk"]  # not proven: the user chooses


# --- the migration XML ---------------------------------------------------------------------------------------


DOMAIN = """<domain type='qemu'><name>g</name><devices>
<disk type='block' device='disk'><source dev='/dev/disk/by-path/ccw-0.0.5c05'/><target dev='vda' bus='virtio'/></disk>
<disk type='block' device='disk'><source dev='/dev/mapper/3600'/><target dev='vdb' bus='virtio'/></disk>
<hostdev mode='subsystem' type='mdev' model='vfio-ccw'><source><address uuid='9C8F0FE3-0c6b-4a2c-8a3c-1b2b3c4d5e6f'/>
</source></hostdev></devices></domain>"""


def test_the_destination_gets_its_names_in_the_xml() -> None:
    new = rewrite_sources(DOMAIN, {"/dev/disk/by-path/ccw-0.0.5c05": "/dev/disk/by-path/ccw-0.0.6c05"},
                          {"9c8f0fe3-0c6b-4a2c-8a3c-1b2b3c4d5e6f": "11111111-2222-3333-4444-555555555555"})
    root = ET.fromstring(new)
    assert [d.find("source").get("dev") for d in root.iter("disk")] == [  # type: ignore[union-attr]
        "/dev/disk/by-path/ccw-0.0.6c05", "/dev/mapper/3600"]
    assert root.find("devices/hostdev/source/address").get("uuid") == "11111111-2222-3333-4444-555555555555"  # type: ignore[union-attr]
    assert rewrite_sources(DOMAIN, {"/nowhere": "/x"}) == DOMAIN  # nothing to change: the text as it was
    device = "<disk type='block'><source dev='/dev/disk/by-path/ccw-0.0.5c05'/><target dev='vdc'/></disk>"
    rewrites = (Rewrite("vdc", "/dev/disk/by-path/ccw-0.0.5c05", "/dev/disk/by-path/ccw-0.0.6c05"),)
    assert "ccw-0.0.6c05" in renamed_xml(device, rewrites)


def test_the_plan_and_the_virsh_command_carry_the_renames() -> None:
    rewrites = (Rewrite("vda", "/dev/disk/by-path/ccw-0.0.5c05", "/dev/disk/by-path/ccw-0.0.6c05",
                        VolumeIdentity(IdentityKind.DASD, "IBM.750000000DXP71.5c00.05")),)
    options = MigrationOptions(persistent=True)
    steps = plan_steps("g", Z, Y, options, (), rewrites)
    assert [s.action for s in steps] == ["rename", "migrate"]
    assert "ccw-0.0.6c05 on the destination (DASD IBM.750000000DXP71.5c00.05)" in steps[0].text
    assert "dumpxml --migratable g > g-destination.xml" in steps[0].virsh
    command = virsh_migrate(Z, "g", Y, options, renamed=True)
    assert command.endswith("--xml g-destination.xml --persistent-xml g-definition.xml")
    params = migrate_params(Y, options, "<persist/>", "<dest/>")
    assert params[libvirt.VIR_MIGRATE_PARAM_DEST_XML] == "<dest/>"
    assert params[libvirt.VIR_MIGRATE_PARAM_PERSIST_XML] == "<persist/>"


# --- where, and the evacuation plan ---------------------------------------------------------------------------


def _check(*findings: tuple[str, str, str], free: int | None = None) -> Preflight:
    from ztui.ops.migrate.findings import Code, Finding, Severity

    return Preflight(tuple(Finding(Severity(s), "why", Code(c), step=step) for s, c, step in findings), (),
                     free_memory=free)


def test_readiness_from_the_preflight() -> None:
    host = KnownHost("qemu:///y", name="y")
    assert placement_of(host, _check(("note", "cpu", "")), True).readiness is Readiness.READY
    steps = placement_of(host, _check(("blocker", "local-disk", "--copy-storage")), True)
    assert steps.readiness is Readiness.AFTER_STEPS and steps.steps == ("--copy-storage",)
    no = placement_of(host, _check(("blocker", "local-disk", "--copy-storage"), ("blocker", "volume", "")), True)
    assert no.readiness is Readiness.NO and len(no.reasons) == 2
    shut_off = placement_of(host, _check(("blocker", "not-running", "")), False)
    assert shut_off.readiness is Readiness.READY and "--offline" in shut_off.steps[-1]


def test_the_evacuation_spreads_by_free_memory_and_leaves_who_cannot_go() -> None:
    def ready(uri: str, free: int) -> object:
        return placement_of(KnownHost(uri, name=uri), _check(free=free), True)

    gib = 1 << 20  # KiB
    answers = [("big", 4 * gib, [ready("a", 6 << 30), ready("b", 5 << 30)]),
               ("small", 2 * gib, [ready("a", 6 << 30), ready("b", 5 << 30)]),
               ("nowhere", gib, [placement_of(KnownHost("c", name="c"), _check(("blocker", "volume", "")), True)])]
    moves = {m.guest: m for m in _choose(answers)}  # type: ignore[arg-type]
    assert moves["big"].destination.uri == "a"  # type: ignore[union-attr]
    assert moves["small"].destination.uri == "b"  # type: ignore[union-attr]  # a has 2 GiB left, b 5
    assert not moves["nowhere"].can_go and moves["nowhere"].blockers == ("c: no — why",)
