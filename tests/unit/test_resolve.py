"""The resolver, inventory merging, usage and readiness on synthetic and libvirt-fixture devices (pure)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import DOMAIN_FIXTURES, domain_fixture, nodedev_fixture
from ztui.host.files import mount_of, parse_mountinfo
from ztui.host.index import FileInfo, FileKind, merge_devices
from ztui.host.inventory import build_inventory
from ztui.host.resolve import fcp_lun_from_linux, paths_to_examine, resolve_device, resolve_guest, resolve_host
from ztui.host.system import Mount, SystemUse
from ztui.host.usage import conflicts, eligibility, users_of
from ztui.libvirtxml.domain import parse_device_xml, parse_domain
from ztui.model import Fact, Guest, GuestState, Host, HostDevice, HostDeviceKind, NetworkInfo


def dev(kind: HostDeviceKind, ident: str, sysfs: str = "", driver: str = "", source: str = "udev",
        **facts: str) -> HostDevice:
    return HostDevice(kind=kind, name=ident.rsplit("/", 1)[-1], id=ident, driver=driver, sysfs_path=sysfs,
                      devnodes=(ident,) if kind is HostDeviceKind.BLOCK else (),
                      facts=tuple(Fact(k, v, source) for k, v in facts.items()), source=source)


CSS = dev(HostDeviceKind.CSS, "0.0.0010", "/sys/devices/css0/0.0.0010", "io_subchannel", chpids="05 00")
DASD = dev(HostDeviceKind.CCW, "0.0.5c3f", "/sys/devices/css0/0.0.0010/0.0.5c3f", "dasd-eckd",
           online="1", devtype="3390/0c", cutype="3990/e9", role="dasd", alias="0")
DASDA = HostDevice(kind=HostDeviceKind.BLOCK, name="dasda", id="/dev/dasda",
                   sysfs_path="/sys/devices/css0/0.0.0010/0.0.5c3f/block/dasda",
                   devnodes=("/dev/dasda", "/dev/disk/by-path/ccw-0.0.5c3f"),
                   facts=(Fact("devtype", "disk", "udev"), Fact("majmin", "94:0", "udev")), source="udev")
DASDA1 = dev(HostDeviceKind.BLOCK, "/dev/dasda1", "/sys/devices/css0/0.0.0010/0.0.5c3f/block/dasda/dasda1",
             devtype="partition", majmin="94:1")
LOCAL = build_inventory([CSS, DASD, DASDA, DASDA1])


def disk(source: str, kind: str = "block", extra: str = "") -> str:
    attr = {"block": "dev", "file": "file"}[kind]
    return (f"<disk type='{kind}' device='disk'><source {attr}='{source}'/>{extra}"
            "<target dev='vda' bus='virtio'/></disk>")


def ids(steps: tuple[object, ...]) -> list[tuple[str, str]]:
    return [(s.kind, s.id) for s in steps]  # type: ignore[attr-defined]


def test_dasd_by_path_chain() -> None:
    steps = resolve_device(parse_device_xml(disk("/dev/disk/by-path/ccw-0.0.5c3f")), LOCAL)
    assert ids(steps) == [("block", "/dev/dasda"), ("dasd", "0.0.5c3f"), ("css", "0.0.0010")]
    assert steps[0].exclusive and steps[1].exclusive and not any(s.warning for s in steps)


def test_file_on_a_dasd_partition() -> None:
    inv = LOCAL.with_files([FileInfo("/var/lib/libvirt/images/a.qcow2", True, kind=FileKind.FILE, size=2 << 30,
                                     mount_point="/var/lib/libvirt", fs_type="xfs", mount_source="/dev/dasda1",
                                     majmin="94:1")])
    steps = resolve_device(parse_device_xml(disk("/var/lib/libvirt/images/a.qcow2", "file")), inv)
    assert ids(steps) == [("file", "/var/lib/libvirt/images/a.qcow2"), ("mount", "/var/lib/libvirt"),
                          ("partition", "/dev/dasda1"), ("block", "/dev/dasda"), ("dasd", "0.0.5c3f"),
                          ("css", "0.0.0010")]
    assert steps[0].exclusive and not steps[2].exclusive  # the file system is shared by every image on it


def test_missing_things_are_warnings() -> None:
    inv = LOCAL.with_files([FileInfo("/gone.img", False, error="No such file or directory")])
    (step,) = resolve_device(parse_device_xml(disk("/gone.img", "file")), inv)
    assert "missing" in (step.warning or "")
    (step,) = resolve_device(parse_device_xml(disk("/dev/sdz")), LOCAL)
    assert step.warning == "not found on the host"
    steps = resolve_device(parse_device_xml(disk("/dev/disk/by-path/ccw-0.0.9999")), LOCAL)
    assert steps[-1].id == "0.0.9999" and steps[-1].warning
    mdev = parse_device_xml("<hostdev mode='subsystem' type='mdev' model='vfio-ccw'><source>"
                            "<address uuid='11111111-2222-3333-4444-555555555555'/></source></hostdev>")
    (step,) = resolve_device(mdev, LOCAL)
    assert step.kind == "mdev" and "not started" in (step.warning or "")


def test_no_inventory_no_warnings() -> None:
    """Saved XML without a connection: chains stop at the XML's own facts, quietly."""
    empty = build_inventory()
    steps = resolve_device(parse_device_xml(disk("/dev/sdz")), empty)
    assert [s.warning for s in steps] == [None]


def test_remote_host_from_libvirt_node_devices() -> None:
    from ztui.libvirtxml.nodedev import parse_nodedev

    stems = ["mdev_6f2c9d41_8b3a_4e7f_a015_c4d8e2b9f760_0_0_0052", "css_0_0_0052_vfio_ccw", "css_0_0_0010",
             "ccw_0_0_5c3f", "ap_matrix", "ap_05_002a", "ap_card05", "ccwgroup_0_0_bd00",
             "mdev_2b8d4f61_0e7c_4a39_95d2_c1f6a3e8b047"]
    inv = build_inventory(libvirt=[parse_nodedev(nodedev_fixture(s).read_text()) for s in stems])
    guest = parse_domain(domain_fixture("hostdev-vfio-ccw.xml").read_text())
    assert ids(resolve_device(guest.devices[0], inv)) == [("mdev", "6f2c9d41-8b3a-4e7f-a015-c4d8e2b9f760"),
                                                          ("css", "0.0.0052"), ("ccw", "0.0.5c41")]
    ap = parse_domain(domain_fixture("hostdev-vfio-ap.xml").read_text()).devices[0]
    steps = resolve_device(ap, inv)
    assert ids(steps) == [("mdev", "2b8d4f61-0e7c-4a39-95d2-c1f6a3e8b047"), ("ap-matrix", "matrix"),
                          ("ap-card", "card05"), ("ap-queue", "05.002a")]  # from the mdev's assign_* attrs


def test_a_qeth_card_libvirt_alone_knows_is_online_or_offline_by_its_group_state() -> None:
    """libvirt's ccwgroup `<state>` is the group's online or offline, not qeth's `state` (`UP (LAN ONLINE)`,
    `SOFTSETUP`): an online card has no warning, an offline one says so with its command."""
    from ztui.libvirtxml.nodedev import parse_nodedev

    macvtap = "<interface type='direct'><source dev='encbd00' mode='bridge'/><model type='virtio'/></interface>"
    for state, warning in (("online", None), ("offline", "card is offline (chzdev -e qeth 0.0.bd00)")):
        group = nodedev_fixture("ccwgroup_0_0_bd00").read_text().replace("<state>online<", f"<state>{state}<")
        inv = build_inventory(libvirt=[parse_nodedev(group), parse_nodedev(nodedev_fixture("net_encbd00").read_text())],
                              local=False)
        (qeth,) = [s for s in resolve_device(parse_device_xml(macvtap), inv) if s.kind == "qeth"]
        assert qeth.warning == warning


def test_merge_keeps_both_sources() -> None:
    lv = HostDevice(kind=HostDeviceKind.CSS, name="css_0_0_0010", id="0.0.0010",
                    facts=(Fact("channel_dev_addr", "0.0.5c3f", "libvirt"),), xml="<device/>")
    (merged,) = merge_devices([CSS], [lv])
    assert merged.name == "css_0_0_0010" and merged.driver == "io_subchannel"
    assert {f.source for f in merged.facts} == {"udev", "libvirt"}
    assert merged.source == "udev+libvirt"
    storage = HostDevice(kind=HostDeviceKind.STORAGE, name="storage_x", id="/dev/dasda")
    assert len(merge_devices([DASDA], [storage])) == 1


def test_inventory_updates_are_new_inventories() -> None:
    offline = dev(HostDeviceKind.CCW, "0.0.5c3f", DASD.sysfs_path, "dasd-eckd", online="0", role="dasd")
    inv = LOCAL.with_device(offline)
    assert inv.get(HostDeviceKind.CCW, "0.0.5c3f") is offline
    assert LOCAL.get(HostDeviceKind.CCW, "0.0.5c3f") is DASD
    assert inv.without_device("ccw:0.0.5c3f").get(HostDeviceKind.CCW, "0.0.5c3f") is None


def guest(name: str, state: GuestState, *xml: str) -> Guest:
    return Guest(name=name, uuid=name, state=state, devices=tuple(parse_device_xml(x) for x in xml))


def test_users_and_conflicts() -> None:
    d = disk("/dev/dasda")
    host = Host(uri="qemu:///system", guests=(guest("a", GuestState.RUNNING, d), guest("b", GuestState.RUNNING, d),
                                              guest("c", GuestState.SHUTOFF, d)))
    host = resolve_host(host, LOCAL)
    users = users_of([host])
    assert sorted(u.guest for u in users["ccw:0.0.5c3f"]) == ["a", "b", "c"]
    assert set(conflicts(users)) >= {"block:/dev/dasda", "ccw:0.0.5c3f"}
    shared = disk("/dev/dasda", extra="<shareable/>")
    ok = resolve_host(Host(uri=None, guests=(guest("a", GuestState.RUNNING, shared),
                                             guest("b", GuestState.RUNNING, shared))), LOCAL)
    assert conflicts(users_of([ok])) == {}


def test_network_and_bridge() -> None:
    br = dev(HostDeviceKind.NET, "br0", "/sys/devices/virtual/net/br0", bridge="yes", bridge_ports="eno1,vnet0",
             virtual="yes")
    eno1 = dev(HostDeviceKind.NET, "eno1", "/sys/devices/pci0000:00/0000:00:19.0/net/eno1")
    pci = dev(HostDeviceKind.PCI, "0000:00:19.0", "/sys/devices/pci0000:00/0000:00:19.0", "e1000e")
    inv = build_inventory([br, eno1, pci], networks=[NetworkInfo("lan", bridge="br0", forward_mode="bridge")])
    nic = parse_device_xml("<interface type='network'><source network='lan'/><mac address='52:54:00:00:00:01'/>"
                           "</interface>")
    assert ids(resolve_device(nic, inv)) == [("network", "lan"), ("bridge", "br0"), ("net", "eno1"),
                                             ("pci", "0000:00:19.0")]
    nowhere = parse_device_xml("<interface type='network'><source network='nope'/></interface>")
    assert resolve_device(nowhere, inv)[0].warning == "no such libvirt network"


def test_eligibility() -> None:
    assert eligibility(DASD) is None
    booted = build_inventory([CSS, DASD, DASDA, DASDA1], system=SystemUse((Mount("/", "ext4", "/dev/vda1", "252:1"),)))
    css = eligibility(CSS, booted, {})
    assert css is not None and not css.ready and "vfio_ccw" in css.missing[0]
    # what was not read is not free: no guests known, no mount table read
    assert eligibility(CSS, booted).missing == ("cannot tell whether a guest uses 0.0.0010: the host's guests "  # type: ignore[union-attr]
                                                "were not read",)
    assert "mount table was not read" in eligibility(CSS, LOCAL, {}).missing[0]  # type: ignore[union-attr]
    queue = dev(HostDeviceKind.AP_QUEUE, "07.0038", driver="vfio_ap")
    assert eligibility(queue) is not None and eligibility(queue).ready  # type: ignore[union-attr]


def test_fcp_lun_mapping() -> None:
    assert fcp_lun_from_linux(1073758209) == "0x4001400000000000"
    assert fcp_lun_from_linux(0) == "0x0000000000000000"


def test_mountinfo() -> None:
    text = ("22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
            "40 22 94:1 / /var/lib/libvirt\\040images rw - xfs /dev/dasda1 rw\n"
            "garbage line\n")
    mounts = parse_mountinfo(text)
    assert [m.mount_point for m in mounts] == ["/", "/var/lib/libvirt images"]
    found = mount_of("/var/lib/libvirt images/a.img", mounts)
    assert found is not None and found.source == "/dev/dasda1"
    assert mount_of("/etc/passwd", mounts).fs_type == "ext4"  # type: ignore[union-attr]


def test_paths_to_examine_and_resolve_guest() -> None:
    g = guest("a", GuestState.RUNNING, disk("/img/a.qcow2", "file"), disk("/dev/dasda"))
    assert paths_to_examine(g) == ["/img/a.qcow2"]
    resolved = resolve_guest(g, LOCAL)
    assert resolved.devices[1].backing and resolved.devices[0].backing[0].kind == "file"


def test_every_domain_fixture_resolves_without_error() -> None:
    from ztui.libvirtxml.common import XmlError
    from ztui.libvirtxml.domain import parse_domain

    assert DOMAIN_FIXTURES
    for path in DOMAIN_FIXTURES:
        try:
            g = parse_domain(Path(path).read_bytes())
        except XmlError:
            continue
        resolve_guest(g, LOCAL)
        resolve_guest(g, build_inventory())


@given(st.lists(st.tuples(st.sampled_from(list(HostDeviceKind)), st.text(max_size=12),
                          st.sampled_from(["", "/sys/devices/a", "/sys/devices/a/b", "/sys/devices/a/b/c"]),
                          st.text(max_size=8)), max_size=8),
       st.sampled_from([disk("/dev/x"), disk("/a", "file"),
                        "<interface type='direct'><source dev='a'/></interface>",
                        "<hostdev mode='subsystem' type='mdev' model='vfio-ap'><source><address uuid='a'/>"
                        "</source></hostdev>",
                        "<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/>"
                        "<address bus='0' target='0' unit='0'/></source></hostdev>"]))
def test_odd_inventories_never_raise(devices: list[tuple[HostDeviceKind, str, str, str]], xml: str) -> None:
    inv = build_inventory([HostDevice(kind=k, name=i, id=i, sysfs_path=p, parent=par) for k, i, p, par in devices])
    resolve_device(parse_device_xml(xml), inv)
