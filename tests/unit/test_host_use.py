"""The host's own use of a device (`Inventory.host_use`), worked out from what its kernel says — mountinfo,
/proc/swaps, holders, the dump and IPL device — and asked by every report, suggestion and check."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ztui.host.hostuse import HostUseKind
from ztui.host.inventory import Inventory, build_inventory
from ztui.host.resolve import resolve_host
from ztui.host.system import Mount, Swap, SystemUse, parse_swaps
from ztui.host.usage import available, eligibility, users_of
from ztui.lab.guests import BootSpec
from ztui.lab.zguests import ZDisk, ZGuest, z_domain_xml
from ztui.lab.zhost import free_dasds, z_host_facts
from ztui.libvirtxml.domain import guest_from_element
from ztui.model import Fact, Host, HostDevice, HostDeviceKind
from ztui.report.hostdevs import inventory_json


@pytest.fixture(scope="module")
def inv() -> Inventory:
    facts = z_host_facts()
    return build_inventory(facts.devices, local=True, system=facts.system)


def use(inv: Inventory, kind: HostDeviceKind, ident: str) -> list[tuple[str, str, str]]:
    dev = inv.get(kind, ident)
    assert dev is not None, ident
    return [(r.kind.value, r.device, r.detail) for r in inv.host_use(dev).reasons]


def test_the_simulated_z16s_root_swap_lvm_and_dump_volumes_are_the_hosts(inv: Inventory) -> None:
    root = use(inv, HostDeviceKind.CCW, "0.0.5c00")
    assert ("mount", "/dev/dasda1", "/") in root and ("swap", "/dev/dasda2", "") in root
    assert ("ipl", "0.0.5c00", "") in root
    assert use(inv, HostDeviceKind.BLOCK, "/dev/dasda1") == [("mount", "/dev/dasda1", "/"), ("ipl", "0.0.5c00", "")]
    assert ("mount", "/dev/dasda1", "/") in use(inv, HostDeviceKind.CSS, "0.0.0000")  # its subchannel too
    assert use(inv, HostDeviceKind.CCW, "0.0.5c0a") == [("lvm", "/dev/dasdm1", "vg_data-lv_home")]
    assert use(inv, HostDeviceKind.BLOCK, "/dev/dm-4") == [("mount", "/dev/dm-4", "/home")]
    assert use(inv, HostDeviceKind.CCW, "0.0.5c0b") == [("dump", "0.0.5c0b", "dump_type ccw")]
    assert use(inv, HostDeviceKind.BLOCK, "/dev/dasdn") == [("dump", "0.0.5c0b", "dump_type ccw")]
    assert use(inv, HostDeviceKind.PCI, "0001:00:00.0") == [("interface", "0001:00:00.0", "eno1")]
    # the paths of a multipath map are the host's multipath's; the map itself is free for a guest
    assert [k for k, _, _ in use(inv, HostDeviceKind.BLOCK, "/dev/sda")] == ["multipath"]
    assert use(inv, HostDeviceKind.BLOCK, "/dev/dm-0") == []
    assert use(inv, HostDeviceKind.CCW, "0.0.5c06") == []


def test_free_is_free_of_guests_and_of_the_host(inv: Inventory) -> None:
    dasds = [d for d in inv.of_kind(HostDeviceKind.CCW) if d.driver.startswith("dasd")]
    free = sorted(d.id for d in dasds if available(d, inv, ()))
    # no guest is resolved here, so the lab guests' DASDs count as free too; never the host's, an alias,
    # an offline or an unformatted volume
    assert not set(free) & {"0.0.5c00", "0.0.5c0a", "0.0.5c0b", "0.0.5cfe", "0.0.5c20", "0.0.5c0f"}
    assert set(free_dasds()) <= set(free)


def test_hostdevs_marks_the_dasd_behind_the_root_file_system(inv: Inventory) -> None:
    groups = inventory_json(inv, {}, {})
    devices = {d["key"]: d for g in groups for d in g["devices"]}
    root = devices["ccw:0.0.5c00"]
    assert root["free"] is False and "/dev/dasda1 is mounted on /" in [r["text"] for r in root["host_use"]]
    assert devices["ccw:0.0.5c07"]["free"] is True and devices["ccw:0.0.5c07"]["host_use"] == []
    assert devices["css:0.0.0000"]["eligibility"]["missing"][0].startswith("the host itself uses 0.0.5c00")


def test_a_guest_on_the_hosts_own_volume_is_warned_one_on_a_multipath_map_is_not(inv: Inventory) -> None:
    spec = ZGuest("zx", running=True, disks=(ZDisk("vda", "/dev/disk/by-path/ccw-0.0.5c00", 0),
                                             ZDisk("vdb", "/dev/mapper/36005076303ffc5620000000000001000", 1),
                                             ZDisk("vdc", "/dev/disk/by-path/ccw-0.0.5c07", 2)))
    guest = guest_from_element(ET.fromstring(z_domain_xml(spec, BootSpec(Path("/k")), Path("/lab"))))
    host = resolve_host(Host(uri=None, guests=(guest,)), inv)
    vda, vdb, vdc = host.guests[0].devices[:3]
    assert vda.backing[0].warning and "the host itself uses it: /dev/dasda1 is mounted on /" in vda.backing[0].warning
    assert not any(s.warning for s in vdb.backing)
    assert not any(s.host_use for s in vdb.backing)  # the multipath map above its paths is what the guest uses
    assert not any(s.warning or s.host_use for s in vdc.backing)
    users = users_of([host], inv)
    assert not available(inv.get(HostDeviceKind.CCW, "0.0.5c07"), inv, users.get("ccw:0.0.5c07", ()))  # type: ignore[arg-type]


def test_mounts_by_source_when_the_device_number_is_virtual() -> None:
    """btrfs and others report an anonymous device (0:NN) in mountinfo: the source path names it."""
    disk = HostDevice(HostDeviceKind.BLOCK, "vdb", "/dev/vdb", devnodes=("/dev/vdb",),
                      facts=(Fact("majmin", "252:16", "udev"), Fact("devtype", "disk", "udev")))
    inv = build_inventory((disk,), local=True, system=SystemUse((Mount("/srv", "btrfs", "/dev/vdb", "0:45"),)))
    assert [r.kind for r in inv.host_use(disk).reasons] == [HostUseKind.MOUNT]
    assert inv.host_use(disk).text == "/dev/vdb is mounted on /srv"


def test_proc_swaps() -> None:
    text = ("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
            "/dev/dasda2                             partition\t1048572\t\t0\t\t-2\n"
            "/var/swap\\040file                       file\t\t524284\t\t0\t\t-3\n"
            "garbage\n")
    assert parse_swaps(text) == [Swap("/dev/dasda2", "partition"), Swap("/var/swap file", "file")]


def test_eligibility_refuses_what_the_host_uses() -> None:
    pci = HostDevice(HostDeviceKind.PCI, "0001:00:00.0", "0001:00:00.0", driver="mlx5_core", iommu_group=1,
                     sysfs_path="/sys/devices/pci0001:00/0001:00:00.0")
    eno = HostDevice(HostDeviceKind.NET, "eno1", "eno1", sysfs_path="/sys/devices/pci0001:00/0001:00:00.0/net/eno1",
                     facts=(Fact("operstate", "up", "udev"),))
    elig = eligibility(pci, build_inventory((pci, eno), local=True))
    assert elig is not None
    assert elig.missing[0] == "the host itself uses 0001:00:00.0: its interface eno1 is up on the host"
