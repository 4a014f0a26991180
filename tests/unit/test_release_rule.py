"""The one rule for taking a device from the host (`ztui.host.release.release_refusal`): what it keeps, the
reason it gives, and that what could not be read is never free. The whole of it on a fake host in the
kernel's words, through every place that prints a command: tests/host/test_advice.py."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ztui.host.inventory import Inventory, build_inventory
from ztui.host.release import Keep, release_refusal
from ztui.host.system import Mount, SystemUse
from ztui.host.usage import eligibility
from ztui.model import DeviceKind, DeviceUse, Fact, HostDevice, HostDeviceKind
from ztui.ops.migrate.destination import vfio_ccw_setup
from ztui.ops.prepare.plan import HostView, unplan_vfio_ap

BOOTED = SystemUse((Mount("/", "ext4", "/dev/vda1", "252:1"),))
CSS = "/sys/devices/css0/0.0.0010"
HELD = "4b4c5e2a-7d62-4f5b-8d1e-0a1b2c3d4e5f"


def facts(**pairs: str) -> tuple[Fact, ...]:
    return tuple(Fact(k, v, "udev") for k, v in pairs.items())


def dasd_host(*extra: HostDevice, ccw: dict[str, str] | None = None, css: dict[str, str] | None = None,
              block: bool = True, system: SystemUse = BOOTED) -> Inventory:
    """Subchannel 0.0.0010 carrying ECKD DASD 0.0.5c3f (online, no alias) with its block device dasda."""
    devices = [HostDevice(HostDeviceKind.CSS, "0.0.0010", "0.0.0010", driver="io_subchannel", sysfs_path=CSS,
                          facts=facts(**{"type": "0", "dev_busid": "0.0.5c3f", **(css or {})})),
               HostDevice(HostDeviceKind.CCW, "0.0.5c3f", "0.0.5c3f", driver="dasd-eckd", sysfs_path=f"{CSS}/0.0.5c3f",
                          facts=facts(**{"online": "1", "alias": "0", "cutype": "3990/e9", **(ccw or {})}))]
    if block:
        devices.append(HostDevice(HostDeviceKind.BLOCK, "dasda", "/dev/dasda", sysfs_path=f"{CSS}/0.0.5c3f/block/dasda",
                                  facts=facts(majmin="94:0", devtype="disk")))
    return build_inventory((*devices, *extra), local=True, system=system)


def css_of(inv: Inventory) -> HostDevice:
    found = inv.get(HostDeviceKind.CSS, "0.0.0010")
    assert found is not None
    return found


def use(key: str, guest: str) -> DeviceUse:
    return DeviceUse(key, guest, "00000000-0000-4000-8000-000000000001", "vda", DeviceKind.DISK, True, True)


def test_a_free_dasd_may_be_released_and_its_subchannel_gets_the_steps() -> None:
    inv = dasd_host()
    assert release_refusal(css_of(inv), inv, {}) is None
    elig = eligibility(css_of(inv), inv, {})
    assert elig is not None and "chccwdev -d 0.0.5c3f" in elig.missing[0]


def test_what_was_not_read_is_never_free() -> None:
    inv = dasd_host()
    css = css_of(inv)
    cases = {
        "no inventory": release_refusal(css, None, {}),
        "no guests": release_refusal(css, inv, None),
        "no mount table": release_refusal(css, dasd_host(system=SystemUse()), {}),
        "alias in other words": release_refusal(css, dasd_host(ccw={"alias": "yes"}), {}),
        "no alias read": release_refusal(css, build_inventory((css, replace(
            inv.get(HostDeviceKind.CCW, "0.0.5c3f"), facts=facts(online="1"))), local=True, system=BOOTED), {}),  # type: ignore[arg-type]
        "online in other words": release_refusal(css, dasd_host(ccw={"online": "on"}), {}),
        "online without its block device": release_refusal(css, dasd_host(block=False), {}),
        "dev_busid in other words": release_refusal(
            css_of(dasd_host(css={"dev_busid": "5c3f"})), dasd_host(css={"dev_busid": "5c3f"}), {}),
        "carried device not read": release_refusal(css, build_inventory((css,), local=True, system=BOOTED), {}),
    }
    for name, refused in cases.items():
        assert refused is not None and refused.keep is Keep.UNKNOWN, name
        assert "cannot tell" in refused.text, (name, refused.text)
    elig = eligibility(css, inv, None)
    assert elig is not None and elig.missing == ("cannot tell whether a guest uses 0.0.0010: the host's guests were "
                                                 "not read",)
    # an offline DASD has no block device, and that is no doubt
    assert release_refusal(css, dasd_host(ccw={"online": "0"}, block=False), {}) is None


def test_the_host_firmware_in_other_words_leaves_the_ipl_and_dump_device_unknown() -> None:
    system = HostDevice(HostDeviceKind.SYSTEM, "host", "host", facts=facts(ipl_type="ccw", ipl_device="5c3f"))
    inv = dasd_host(system)
    refused = release_refusal(css_of(inv), inv, {})
    assert refused is not None and refused.text == ("cannot tell whether 0.0.0010 is the host's IPL device: "
                                                    "/sys/firmware/ipl/device reads '5c3f'")
    named = dasd_host(replace(system, facts=facts(ipl_type="ccw", ipl_device="0.0.5c3f")))
    assert release_refusal(css_of(named), named, {}).keep is Keep.HOST  # type: ignore[union-attr]


def test_a_subchannel_on_vfio_ccw_hides_its_dasd_from_the_host_but_not_from_its_guests() -> None:
    bound = HostDevice(HostDeviceKind.CSS, "0.0.0011", "0.0.0011", driver="vfio_ccw",
                       sysfs_path="/sys/devices/css0/0.0.0011", facts=facts(type="0", dev_busid="0.0.5c41"))
    mdev = HostDevice(HostDeviceKind.MDEV, "9c8f0fe3", "9c8f0fe3-0c6b-4a2c-8a3c-1b2b3c4d5e6f",
                      sysfs_path="/sys/devices/css0/0.0.0011/9c8f0fe3-0c6b-4a2c-8a3c-1b2b3c4d5e6f")
    remote = build_inventory((bound, mdev), local=False)  # no mount table: but nothing behind it is the host's
    assert release_refusal(bound, remote, {}) is None
    refused = release_refusal(bound, remote, {mdev.key: (use(mdev.key, "lnx01"),)})
    assert refused is not None and refused.text == "9c8f0fe3-0c6b-4a2c-8a3c-1b2b3c4d5e6f is used by guest lnx01"


def test_a_pci_function_goes_to_vfio_pci_with_its_iommu_group() -> None:
    def pci(addr: str, driver: str) -> HostDevice:
        return HostDevice(HostDeviceKind.PCI, addr, addr, driver=driver, iommu_group=7,
                          sysfs_path=f"/sys/devices/pci0000:00/{addr}", facts=facts(**{"class": "0x020000"}))

    nic, peer = pci("0000:00:01.0", "ixgbe"), pci("0000:00:01.1", "ixgbe")
    eth = HostDevice(HostDeviceKind.NET, "eth1", "eth1", sysfs_path=f"{peer.sysfs_path}/net/eth1",
                     facts=facts(operstate="up"))
    inv = build_inventory((nic, peer, eth), local=True, system=BOOTED)
    refused = release_refusal(nic, inv, {})
    assert refused is not None and refused.keep is Keep.HOST
    assert refused.text == ("0000:00:01.0 shares IOMMU group 7 with 0000:00:01.1, which goes with it: the host itself "
                            "uses 0000:00:01.1: its interface eth1 is up on the host")
    # already on vfio-pci: the peer that would have to follow is refused with its reason, not advised
    on_vfio = build_inventory((replace(nic, driver="vfio-pci"), peer, eth), local=True, system=BOOTED)
    elig = eligibility(replace(nic, driver="vfio-pci"), on_vfio, {})
    assert elig is not None and elig.missing == ("IOMMU group 7 also holds 0000:00:01.1, which would go along: the "
                                                 "host itself uses 0000:00:01.1: its interface eth1 is up on the host",)
    # an interface whose state does not say down is not taken for down
    dormant = build_inventory((nic, replace(eth, sysfs_path=f"{nic.sysfs_path}/net/eth1",
                                            facts=facts(operstate="dormant"))), local=True, system=BOOTED)
    assert release_refusal(nic, dormant, {}).keep is Keep.UNKNOWN  # type: ignore[union-attr]


def _ap_host(*mdevs: HostDevice) -> Inventory:
    queues = [HostDevice(HostDeviceKind.AP_QUEUE, q, q, driver=driver) for q, driver in
              (("0c.0038", "vfio_ap"), ("0c.0039", "vfio_ap"), ("0d.0005", "vfio_ap"))]
    return build_inventory((*queues, *mdevs), local=True)


def test_an_apqn_belongs_to_the_mdev_it_is_assigned_to() -> None:
    held = HostDevice(HostDeviceKind.MDEV, "4b4c", HELD, facts=facts(matrix="0c.0038\n"))
    inv = _ap_host(held)
    queue = inv.get(HostDeviceKind.AP_QUEUE, "0c.0038")
    assert queue is not None
    refused = release_refusal(queue, inv, {held.key: (use(held.key, "zdb"),)})
    assert refused is not None and refused.text == f"APQN 0c.0038 is already in mdev {HELD} (guest zdb)"
    assert release_refusal(inv.get(HostDeviceKind.AP_QUEUE, "0d.0005"), inv, {}) is None  # type: ignore[arg-type]
    garbled = _ap_host(replace(held, facts=facts(matrix="0c:0038\n")))
    assert release_refusal(garbled.get(HostDeviceKind.AP_QUEUE, "0d.0005"), garbled, {}).keep is Keep.UNKNOWN  # type: ignore[arg-type,union-attr]


def test_giving_an_mdevs_adapters_back_names_only_those_no_other_mdev_holds() -> None:
    mine = HostDevice(HostDeviceKind.MDEV, "a", "0b5e1d2c-3a4f-4b6e-8c7d-1e2f3a4b5c6e",
                      facts=facts(matrix="0c.0039\n0d.0005\n"))
    other = HostDevice(HostDeviceKind.MDEV, "b", HELD, facts=facts(matrix="0c.0038\n"))
    view = HostView(sysfs=None, inventory=_ap_host(mine, other), uses={})  # type: ignore[arg-type]
    plan = unplan_vfio_ap(view, mine.id)
    assert plan.notes == ("adapter 0c stays with vfio_ap: APQN 0c.0038 is already in mdev "
                          "4b4c5e2a-7d62-4f5b-8d1e-0a1b2c3d4e5f",
                          "adapter 0d stays with vfio_ap; echo +0x0d > /sys/bus/ap/apmask gives it back to the host")


def test_the_destinations_setup_is_judged_by_its_own_host() -> None:
    inv = dasd_host()
    assert "chccwdev -d 0.0.5c3f" in str(vfio_ccw_setup(css_of(inv), inv, {}))
    refused = vfio_ccw_setup(css_of(inv), inv, {"ccw:0.0.5c3f": (use("ccw:0.0.5c3f", "zlnx07"),)})
    assert str(refused) == "0.0.5c3f is used by guest zlnx07"
    remote = dasd_host(system=SystemUse())
    assert "mount table was not read" in str(vfio_ccw_setup(css_of(remote), remote, {}))


def test_a_managed_pci_attach_does_not_take_a_function_from_the_host() -> None:
    """libvirt binds a managed hostdev's function to vfio-pci at attach: one whose interface is up on the
    host is refused before anything changes, one that is free is attached."""
    from ztui.host.facts_source import FactsOrigin
    from ztui.host.facts_source import HostFacts as Snapshot
    from ztui.libvirtxml.domain import parse_domain
    from ztui.model import GuestState, PciAddress
    from ztui.ops.attach.plan import AttachRequest, BadRequest, GuestFacts, plan_attach
    from ztui.ops.attach.probe import HostProbe

    def pci(n: int, state: str) -> tuple[HostDevice, HostDevice]:
        path = f"/sys/devices/pci000{n}:00/000{n}:00:00.0"
        return (HostDevice(HostDeviceKind.PCI, f"000{n}:00:00.0", f"000{n}:00:00.0", driver="mlx5_core",
                           iommu_group=n, sysfs_path=path),
                HostDevice(HostDeviceKind.NET, f"ens{n}", f"ens{n}", sysfs_path=f"{path}/net/ens{n}",
                           facts=facts(operstate=state)))

    host = Snapshot(FactsOrigin.SIMULATED, devices=(*pci(1, "up"), *pci(2, "down")), mounts=BOOTED.mounts)
    probe = HostProbe(None, facts=host)
    assert probe.pci_function(PciAddress(0x2, 0, 0, 0)).problem == ""
    assert probe.pci_function(PciAddress(0x1, 0, 0, 0)).problem == (
        "the host itself uses 0001:00:00.0: its interface ens1 is up on the host: attached, libvirt would bind it to "
        "vfio-pci and take it from the host")
    guest = replace(parse_domain("<domain type='kvm'><name>g1</name><uuid>00000000-0000-4000-8000-0000000000a1</uuid>"
                                 "<memory>1048576</memory><os><type arch='s390x' machine='s390-ccw-virtio'>hvm</type>"
                                 "</os><devices/></domain>"), state=GuestState.RUNNING)
    here = GuestFacts(guest, guest, active=True)
    with pytest.raises(BadRequest, match="ens1 is up on the host"):
        plan_attach(AttachRequest("g1", "pci", "0001:00:00.0"), here, probe)
    assert "<hostdev" in plan_attach(AttachRequest("g1", "pci", "0002:00:00.0"), here, probe).xml


def test_finishing_a_vfio_ap_preparation_does_not_count_its_own_mdev_as_another(tmp_path: Path) -> None:
    """Interrupted after its mdev was defined, a vfio-ap preparation finds its APQNs in that very mdev: that is
    no reason to stop; another mdev holding them now is."""
    from ztui.host.sysfs import Sysfs
    from ztui.ops.prepare.plan import plan_vfio_ap
    from ztui.ops.prepare.recover import finish_refusal

    root = tmp_path / "sys"
    (root / "devices/vfio_ap/matrix").mkdir(parents=True)
    (root / "bus/ap/devices/0d.0005").mkdir(parents=True)
    (root / "bus/ap/drivers/vfio_ap").mkdir(parents=True)
    (root / "bus/ap/apmask").write_text("0x" + "f" * 64 + "\n")
    (root / "bus/ap/devices/0d.0005/driver").symlink_to(root / "bus/ap/drivers/vfio_ap")
    mine = "0b5e1d2c-3a4f-4b6e-8c7d-1e2f3a4b5c6e"
    plan = plan_vfio_ap(HostView(Sysfs(str(root)), _ap_host(), {}), (0x0D,), (0x05,), uuid=mine)
    own = HostDevice(HostDeviceKind.MDEV, "a", mine, facts=facts(matrix="0d.0005\n"))
    assert finish_refusal(plan, HostView(Sysfs(str(root)), _ap_host(own), {})) == ""
    other = replace(own, id=HELD)
    assert finish_refusal(plan, HostView(Sysfs(str(root)), _ap_host(other), {})) == \
        f"APQN 0d.0005 is already in mdev {HELD}"
