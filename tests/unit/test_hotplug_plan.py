"""Attach and detach plans, without libvirt: every validation rule, the XML, defaults and virsh commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from ztui.facts import is_local_uri
from ztui.libvirtxml.domain import parse_device_xml, parse_domain
from ztui.model import DeviceKind, Guest, PciAddress
from ztui.ops.attach.detach_plan import plan_detach
from ztui.ops.attach.images import image_format
from ztui.ops.attach.plan import AttachRequest, BadRequest, GuestFacts, next_target, parse_size, plan_attach
from ztui.ops.attach.probe import BlockInfo, HostProbe, Lookup, PciInfo
from ztui.ops.attach.virsh import virsh_commands, virsh_detach

GUEST = """<domain type='qemu'><name>{name}</name><uuid>{uuid}</uuid>
<os><type arch='{arch}' machine='{machine}'>hvm</type></os><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='{image}'/>
  <target dev='vda' bus='virtio'/><alias name='virtio-disk0'/>
  <address type='ccw' cssid='0xfe' ssid='0x0' devno='0x0000'/></disk>
<interface type='user'><mac address='52:54:00:00:00:01'/><model type='virtio'/><alias name='net0'/>
  <address type='ccw' cssid='0xfe' ssid='0x0' devno='0x0010'/></interface>
{extra}
</devices></domain>"""

SCSI = "<controller type='scsi' index='0' model='virtio-scsi'><alias name='scsi0'/></controller>"
MDEV = "e1b5c2a4-3b47-4ed8-a1a9-7d6f6f1c7a10"


def guest(name: str = "g1", *, image: str = "/img/g1.qcow2", extra: str = SCSI, arch: str = "s390x",
          uuid: str = "00000000-0000-0000-0000-000000000001") -> Guest:
    machine = "s390-ccw-virtio" if arch == "s390x" else "pc"
    return parse_domain(GUEST.format(name=name, uuid=uuid, image=image, extra=extra, arch=arch, machine=machine))


def facts(g: Guest | None = None, *, active: bool = True, persistent: bool = True,
          others: tuple[Guest, ...] = ()) -> GuestFacts:
    g = g or guest()
    return GuestFacts(guest=g, config=g if persistent else None, active=active, others_running=others)


class FakeProbe(HostProbe):
    """A host with one network, one bridge of each kind, one interface, one mdev of each type, a PCI function."""

    def __init__(self, blocks: dict[str, BlockInfo] | None = None) -> None:
        super().__init__(None, local=True)
        self.blocks = blocks or {}

    def network_problem(self, name: str) -> str | None:
        return None if name == "default" else f"libvirt network '{name}' does not exist on this host"

    def bridge_kind(self, name: str) -> str | None:
        return {"br0": "linux", "ovsbr0": "openvswitch"}.get(name, "missing")

    def interface_exists(self, name: str) -> bool | None:
        return name == "encbd00"

    def mdev_type(self, uuid: str) -> str | None:
        return {MDEV: "vfio_ccw-io", "a" * 8 + "-aaaa-aaaa-aaaa-" + "a" * 12: "vfio_ap-passthrough"}.get(uuid)

    def block_device(self, path: str) -> Lookup[BlockInfo]:
        found = self.blocks.get(path)
        return Lookup(found) if found is not None else Lookup(problem=f"{path} does not exist on this host")

    def pci_function(self, address: PciAddress) -> Lookup[PciInfo]:
        if (address.bus, address.slot) == (0, 1):
            return Lookup(PciInfo("0000:00:01.0", "virtio-pci", None))
        return Lookup(problem="PCI function does not exist on this host")


HERE = HostProbe(None)
"""This machine, without a connection: its files are examined (and nothing else)."""


@pytest.fixture
def image(tmp_path: Path) -> str:
    path = tmp_path / "data.img"
    path.write_bytes(b"\0" * 4096)
    return str(path)


def req(kind: str, source: str, **kw: object) -> AttachRequest:
    return AttachRequest("g1", kind, source, **kw)  # type: ignore[arg-type]


def test_existing_image_gets_next_target_its_format_and_live_by_default(image: str, tmp_path: Path) -> None:
    plan = plan_attach(req("disk", image), facts())
    assert (plan.live, plan.config) == (True, False)
    assert any("live only" in n for n in plan.notes)
    device = parse_device_xml(plan.xml)
    assert device.target == "vdb" and device.source == image and device.detail("format") == "raw"
    assert device.address is None  # libvirt picks the devno
    qcow = tmp_path / "q.qcow2"
    qcow.write_bytes(b"QFI\xfb" + b"\0" * 100)
    assert image_format(str(qcow)) == "qcow2"


def test_shut_off_guest_defaults_to_config_and_refuses_live(image: str) -> None:
    plan = plan_attach(req("disk", image), facts(active=False))
    assert (plan.live, plan.config) == (False, True)
    with pytest.raises(BadRequest, match="not running"):
        plan_attach(req("disk", image, live=True), facts(active=False))
    with pytest.raises(BadRequest, match="transient"):
        plan_attach(req("disk", image, config=True), facts(persistent=False))


def test_new_image(tmp_path: Path) -> None:
    path = str(tmp_path / "new.qcow2")
    plan = plan_attach(req("disk", path, size=64 << 20), facts())
    assert plan.create_image == (path, 64 << 20, "qcow2")
    assert parse_device_xml(plan.xml).detail("format") == "qcow2"
    commands = virsh_commands("qemu:///system", plan)
    assert commands[0] == f"qemu-img create -q -f qcow2 {path} 67108864"
    assert commands[-1] == "virsh -c qemu:///system attach-device g1 device.xml --live"
    with pytest.raises(BadRequest, match="directory"):
        plan_attach(req("disk", str(tmp_path / "no" / "x.raw"), size=1), facts(), HERE)


@pytest.mark.parametrize(("request_kw", "message"), [
    ({"devno": "0.0.0000"}, "devno 0.0.0000 is already used"),
    ({"devno": "0.0.0010"}, "devno 0.0.0010 is already used"),
    ({"devno": "0.0.10000"}, "not a ccw bus-ID"),
    ({"devno": "0.4.0001"}, "not a ccw bus-ID"),
    ({"target": "vda"}, "target vda is already used"),
    ({"target": "sdb"}, "does not name a vdX"),
    ({"live": False, "config": False}, "nothing to change"),
])
def test_validation_errors(image: str, request_kw: dict[str, object], message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        plan_attach(req("disk", image, **request_kw), facts())


def test_file_errors(tmp_path: Path, image: str) -> None:
    with pytest.raises(BadRequest, match="does not exist"):
        plan_attach(req("disk", str(tmp_path / "missing.img")), facts(), HERE)
    with pytest.raises(BadRequest, match="already exists"):
        plan_attach(req("disk", image, size=1 << 20), facts(), HERE)
    with pytest.raises(BadRequest, match="not a regular file"):
        plan_attach(req("disk", str(tmp_path)), facts(), HERE)
    with pytest.raises(BadRequest, match="--size only goes with --disk"):
        plan_attach(req("net", "default", size=1), facts(), HERE)


def test_a_host_system_file_is_no_image() -> None:
    """`/etc/passwd` exists, is a regular file and (as root) writable: still not an image to hand a guest."""
    with pytest.raises(BadRequest, match=r"/etc/passwd is a host system file under /etc, not a disk image"):
        plan_attach(req("disk", "/etc/passwd"), facts())
    with pytest.raises(BadRequest, match="host system file under /boot"):
        plan_attach(req("disk", "/boot/new.qcow2", size=1 << 20), facts())


def test_image_used_by_another_running_guest_or_by_itself(image: str) -> None:
    other = guest("g2", image=image, uuid="00000000-0000-0000-0000-000000000002")
    with pytest.raises(BadRequest, match=r"already used by running guest g2 \(vda\)"):
        plan_attach(req("disk", image), facts(others=(other,)))
    with pytest.raises(BadRequest, match="already attached to g1"):
        plan_attach(req("disk", image), facts(guest(image=image)))


def test_devno_is_for_s390_only(image: str) -> None:
    x86 = guest(arch="x86_64", extra="")
    with pytest.raises(BadRequest, match="no channel subsystem"):
        plan_attach(req("disk", image, devno="0.0.0042"), facts(x86))
    plan = plan_attach(req("disk", image, devno="0.0.0042"), facts())
    assert parse_device_xml(plan.xml).busid == "0.0.0042"


def test_lun_controller_and_scsi_check() -> None:
    scsi = BlockInfo("/dev/sdc", "/dev/sdc", "8:32", scsi=True)
    loop = BlockInfo("/dev/loop3", "/dev/loop3", "7:3", scsi=False)
    probe = FakeProbe({"/dev/sdc": scsi, "/dev/loop3": loop})
    plan = plan_attach(req("lun", "/dev/sdc"), facts(), probe)
    device = parse_device_xml(plan.xml)
    assert device.kind is DeviceKind.LUN and device.target == "sda" and device.bus == "scsi"
    assert not plan.controller_xml
    plan = plan_attach(req("lun", "loop3"), facts(guest(extra="")), probe)
    assert "virtio-scsi" in plan.controller_xml and any("no virtio-scsi controller" in n for n in plan.notes)
    assert parse_device_xml(plan.xml).kind is DeviceKind.DISK  # not SCSI: a SCSI disk, no pass-through
    with pytest.raises(BadRequest, match="does not exist on this host"):
        plan_attach(req("block", "/dev/nope"), facts(), probe)
    with pytest.raises(BadRequest, match="does not apply to a SCSI LUN"):
        plan_attach(req("lun", "/dev/sdc", devno="0.0.0042"), facts(), probe)


def test_interfaces() -> None:
    probe = FakeProbe()
    net = parse_device_xml(plan_attach(req("net", "default"), facts(), probe).xml)
    assert net.kind is DeviceKind.NET_NETWORK and net.source == "default" and net.model == "virtio"
    assert parse_device_xml(plan_attach(req("bridge", "br0"), facts(), probe).xml).kind is DeviceKind.NET_BRIDGE
    assert parse_device_xml(plan_attach(req("bridge", "ovsbr0"), facts(), probe).xml).kind is DeviceKind.NET_OVS
    direct = parse_device_xml(plan_attach(req("macvtap", "encbd00", devno="0.0.0042"), facts(), probe).xml)
    assert direct.kind is DeviceKind.NET_DIRECT and direct.busid == "0.0.0042"
    for kind, source, message in (("net", "nope", "does not exist"), ("bridge", "br9", "no bridge 'br9'"),
                                  ("macvtap", "eth9", "no network interface 'eth9'")):
        with pytest.raises(BadRequest, match=message):
            plan_attach(req(kind, source), facts(), probe)


def test_mdev_vfio_ccw_and_vfio_ap_are_hotplugged_one_vfio_ap_per_guest() -> None:
    probe = FakeProbe()
    plan = plan_attach(req("mdev", MDEV.upper()), facts(), probe)
    assert parse_device_xml(plan.xml).kind is DeviceKind.MDEV_VFIO_CCW and plan.live
    ap = "a" * 8 + "-aaaa-aaaa-aaaa-" + "a" * 12
    plan = plan_attach(req("mdev", ap), facts(), probe)
    assert parse_device_xml(plan.xml).kind is DeviceKind.MDEV_VFIO_AP
    assert (plan.live, plan.config) == (True, False)
    assert plan_attach(req("mdev", ap, live=True), facts(), probe).live
    second = guest("g1", extra=("<hostdev mode='subsystem' type='mdev' model='vfio-ap'><source>"
                                "<address uuid='bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'/></source></hostdev>"))
    with pytest.raises(BadRequest, match="already has a vfio-ap device"):
        plan_attach(req("mdev", ap), facts(second), probe)
    with pytest.raises(BadRequest, match="no mdev"):
        plan_attach(req("mdev", "e1b5c2a4-3b47-4ed8-a1a9-7d6f6f1c7a11"), facts(), probe)
    with pytest.raises(BadRequest, match="not an mdev UUID"):
        plan_attach(req("mdev", "nope"), facts(), probe)
    holder = guest("g2", uuid="00000000-0000-0000-0000-000000000002", extra=(
        "<hostdev mode='subsystem' type='mdev' model='vfio-ccw'><source>"
        f"<address uuid='{MDEV}'/></source></hostdev>"))
    with pytest.raises(BadRequest, match="already used by running guest g2"):
        plan_attach(req("mdev", MDEV), facts(others=(holder,)), probe)


def test_pci() -> None:
    probe = FakeProbe()
    plan = plan_attach(req("pci", "00:01.0"), facts(), probe)
    device = parse_device_xml(plan.xml)
    assert device.kind is DeviceKind.HOSTDEV_PCI and device.source == "0000:00:01.0"
    assert any("no IOMMU group" in n for n in plan.notes)
    with pytest.raises(BadRequest, match="does not exist"):
        plan_attach(req("pci", "0000:07:00.0"), facts(), probe)
    with pytest.raises(BadRequest, match="not a PCI address"):
        plan_attach(req("pci", "zz"), facts(), probe)


def test_detach_plan_by_target_alias_busid() -> None:
    f = facts()
    for name in ("vda", "virtio-disk0", "0.0.0000", "52:54:00:00:00:01"):
        plan = plan_detach(f, name)
        assert (plan.live, plan.config) == (True, False)
    assert plan_detach(f, "vda", config=True).config
    assert plan_detach(facts(active=False), "vda").config
    with pytest.raises(BadRequest, match="has no device named vdz"):
        plan_detach(f, "vdz")
    live_only = GuestFacts(guest=guest(extra=SCSI + "<disk type='file' device='disk'><source file='/x.img'/>"
                                             "<target dev='vdb' bus='virtio'/><alias name='virtio-disk1'/></disk>"),
                           config=guest(), active=True)
    with pytest.raises(BadRequest, match="not in the persistent config"):
        plan_detach(live_only, "vdb", config=True)
    assert virsh_detach("qemu:///system", "g1", True, True) == \
        "virsh -c qemu:///system detach-device g1 device.xml --live --config"


def test_small_helpers() -> None:
    assert next_target({"vda", "vdb"}, "vd") == "vdc"
    assert next_target({f"vd{c}" for c in "abcdefghijklmnopqrstuvwxyz"}, "vd") == "vdaa"
    assert parse_size("64M") == 64 << 20 and parse_size("1.5G") == 3 << 29 and parse_size("512") == 512
    for bad in ("lots", "-1M", "0", "nan"):
        with pytest.raises(BadRequest):
            parse_size(bad)
    assert is_local_uri("qemu+unix:///system?socket=/x") and not is_local_uri("qemu+ssh://root@kvm02/system")
