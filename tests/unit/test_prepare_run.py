"""The preparation runner: every step proven by a re-read, undone in reverse when a later step fails.

The host side is a directory laid out like sysfs; the node-device side is `Mdevctl` below, which keeps
defined/active/autostart per UUID the way mdevctl does for libvirt. libvirt's own node-device driver
needs a real s390 subchannel or AP matrix to define an mdev, which no machine here has, so the path
through libvirt is tested under umockdev against the test driver (tests/host/test_prepare.py) and the
runner's success path here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ztui.host.inventory import Inventory, build_inventory
from ztui.host.sysfs import Sysfs
from ztui.host.system import Mount, SystemUse
from ztui.libvirtxml.mdev import mdev_nodedev_xml
from ztui.model import Fact, Host, HostDevice, HostDeviceKind
from ztui.ops.prepare.plan import HostView, plan_vfio_ccw
from ztui.ops.prepare.run import MdevState, PrepFailed, run_plan
from ztui.ops.prepare.steps import (
    Action,
    Direction,
    PrepKind,
    PrepPlan,
    PrepRefused,
    Proof,
    ProofKind,
    Step,
    Write,
)

UUID = "1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"


class Mdevctl:
    """Defined, active and autostart state per mdev UUID, as mdevctl keeps it; a refusal can be set."""

    def __init__(self, refuse_start: bool = False) -> None:
        self.state_of: dict[str, tuple[MdevState, bool]] = {}
        self.refuse_start = refuse_start
        self.calls: list[str] = []

    def define(self, xml: str) -> str:
        self.calls.append("define")
        assert f"<uuid>{UUID}</uuid>" in xml
        self.state_of[UUID] = (MdevState.DEFINED, False)
        return f"mdev_{UUID.replace('-', '_')}_css_0_0_0010"

    def start(self, name: str) -> None:
        self.calls.append(f"start {name}")
        if self.refuse_start:
            raise PrepFailed("libvirt could not start it: no vfio_ccw-io instance available")
        self.state_of[UUID] = (MdevState.ACTIVE, self.state_of[UUID][1])

    def set_autostart(self, name: str, on: bool) -> None:
        self.calls.append(f"autostart {name}")
        self.state_of[UUID] = (self.state_of[UUID][0], on)

    def destroy(self, name: str) -> None:
        self.calls.append(f"destroy {name}")
        self.state_of[UUID] = (MdevState.DEFINED, self.state_of[UUID][1])

    def undefine(self, name: str) -> None:
        self.calls.append(f"undefine {name}")
        del self.state_of[UUID]

    def state(self, uuid: str) -> tuple[MdevState, bool]:
        return self.state_of.get(uuid, (MdevState.GONE, False))


def _attr(root: Path, rel: str, value: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value + "\n")


@pytest.fixture
def sysfs(tmp_path: Path) -> Sysfs:
    """A DASD 0.0.5c3f on subchannel 0.0.0010, online, with the links a kernel would have; binding is
    done by the test's 'kernel' (the runner's proofs must see it)."""
    root = tmp_path / "sys"
    sub = root / "devices/css0/0.0.0010"
    _attr(root, "devices/css0/0.0.0010/type", "0")
    _attr(root, "devices/css0/0.0.0010/driver_override", "(null)")
    _attr(root, "devices/css0/0.0.0010/0.0.5c3f/online", "1")
    _attr(root, "devices/css0/0.0.0010/0.0.5c3f/cutype", "3990/e9")
    _attr(root, "devices/css0/0.0.0010/0.0.5c3f/alias", "0")
    for drv in ("bus/css/drivers/io_subchannel", "bus/css/drivers/vfio_ccw", "bus/ccw/drivers/dasd-eckd"):
        (root / drv).mkdir(parents=True)
    (root / "bus/css/devices").mkdir(parents=True)
    (root / "bus/ccw/devices").mkdir(parents=True)
    os.symlink("../../../devices/css0/0.0.0010", root / "bus/css/devices/0.0.0010")
    os.symlink("../../../devices/css0/0.0.0010/0.0.5c3f", root / "bus/ccw/devices/0.0.5c3f")
    os.symlink("../../../bus/css/drivers/io_subchannel", sub / "driver")
    os.symlink("../../../../bus/ccw/drivers/dasd-eckd", sub / "0.0.5c3f/driver")
    (root / "bus/css/drivers_probe").write_text("")
    for drv in ("io_subchannel", "vfio_ccw"):
        (root / f"bus/css/drivers/{drv}/unbind").write_text("")
    return Sysfs(str(root))


class Kernel(Sysfs):
    """The sysfs above, with the kernel's answer to unbind and drivers_probe applied at once."""

    def write(self, rel: str, value: str) -> None:
        super().write(rel, value)
        if rel.endswith("/unbind"):
            os.unlink(self.path(f"bus/css/devices/{value}/driver"))
        elif rel == "bus/css/drivers_probe":
            override = self.read(f"bus/css/devices/{value}/driver_override") or ""
            driver = override if override not in ("", "(null)") else "io_subchannel"
            os.symlink(f"../../../bus/css/drivers/{driver}", self.path(f"bus/css/devices/{value}/driver"))


def _inventory() -> Inventory:
    """What udev would read of that sysfs, and a host whose root is on another disk: 0.0.5c3f is free."""
    base = "/sys/devices/css0/0.0.0010"
    css = HostDevice(HostDeviceKind.CSS, "0.0.0010", "0.0.0010", driver="io_subchannel", sysfs_path=base,
                     facts=(Fact("dev_busid", "0.0.5c3f", "udev"),))
    ccw = HostDevice(HostDeviceKind.CCW, "0.0.5c3f", "0.0.5c3f", driver="dasd-eckd", sysfs_path=f"{base}/0.0.5c3f",
                     facts=(Fact("online", "1", "udev"), Fact("alias", "0", "udev")))
    disk = HostDevice(HostDeviceKind.BLOCK, "dasda", "/dev/dasda", sysfs_path=f"{base}/0.0.5c3f/block/dasda",
                      facts=(Fact("majmin", "94:0", "udev"),))
    return build_inventory((css, ccw, disk), local=True, system=SystemUse((Mount("/", "ext4", "/dev/vda1", "252:1"),)))


def _view(sysfs: Sysfs, tmp_path: Path) -> HostView:
    return HostView(Kernel(sysfs.root), _inventory(), {}, driverctl_dir=str(tmp_path / "driverctl.d"))


def test_a_plan_runs_to_a_started_autostarting_mdev(sysfs: Sysfs, tmp_path: Path) -> None:
    view = _view(sysfs, tmp_path)
    plan = plan_vfio_ccw(view, "0.0.5c3f", UUID)
    nodedevs = Mdevctl()
    journal: list[str] = []

    class Journal:
        def step(self, name: str, **_facts: object) -> None:
            journal.append(name)

    result = run_plan(plan, view.sysfs, nodedevs, Journal())
    assert result.ok, result.error
    assert view.sysfs.read("bus/ccw/devices/0.0.5c3f/online") == "0"
    assert view.sysfs.link_name("bus/css/devices/0.0.0010/driver") == "vfio_ccw"
    assert (tmp_path / "driverctl.d" / "css-0.0.0010").read_text() == "vfio_ccw\n"
    assert nodedevs.state(UUID) == (MdevState.ACTIVE, True)
    assert journal == ["1:sysfs", "2:sysfs", "3:write-file", "4:nodedev-define", "5:nodedev-start",
                       "6:nodedev-autostart"]


def test_a_failed_step_undoes_every_step_before_it_in_reverse(sysfs: Sysfs, tmp_path: Path) -> None:
    view = _view(sysfs, tmp_path)
    nodedevs = Mdevctl(refuse_start=True)
    result = run_plan(plan_vfio_ccw(view, "0.0.5c3f", UUID), view.sysfs, nodedevs)
    assert not result.ok and "no vfio_ccw-io instance" in result.error
    assert result.not_undone == []
    assert nodedevs.state(UUID) == (MdevState.GONE, False)  # defined, then undefined again
    assert view.sysfs.link_name("bus/css/devices/0.0.0010/driver") == "io_subchannel"
    assert view.sysfs.read("bus/css/devices/0.0.0010/driver_override") == ""
    assert view.sysfs.read("bus/ccw/devices/0.0.5c3f/online") == "1"
    assert not (tmp_path / "driverctl.d" / "css-0.0.0010").exists()


def test_a_plan_reads_sysfs_in_the_kernels_words_and_says_a_misread_once(sysfs: Sysfs, tmp_path: Path,
                                                                        caplog: pytest.LogCaptureFixture,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A subchannel type the kernel does not write (`%01x`) is not taken for an I/O subchannel, and the
    misread is logged once, as a walk of the host logs it."""
    sub = sysfs.record(HostDeviceKind.CSS, "0.0.0010", "bus/css/devices/0.0.0010",
                       ("type", "dev_busid", "driver_override"))
    assert [(f.key, f.value, f.source) for f in sub.facts] == [("type", "0", "udev"),
                                                               ("driver_override", "(null)", "udev")]
    _attr(Path(sysfs.root), "devices/css0/0.0.0010/type", "00")
    caplog.set_level("WARNING", logger="ztui.zsysfs")
    monkeypatch.setattr("ztui.zsysfs._SAID", set())  # said once per process: none said yet here
    for _ in range(2):
        with pytest.raises(PrepRefused, match=r"not an I/O subchannel \(type 00\)"):
            plan_vfio_ccw(_view(sysfs, tmp_path), "0.0.5c3f", UUID)
    assert len([r for r in caplog.records if "css 0.0.0010 type reads '00'" in r.getMessage()]) == 1


def test_a_step_whose_proof_fails_is_not_counted_done(sysfs: Sysfs, tmp_path: Path) -> None:
    """A kernel that accepts the writes but never binds (vfio_ccw not loaded): the proof catches it."""
    plan = plan_vfio_ccw(_view(sysfs, tmp_path), "0.0.5c3f", UUID)  # planned on the kernel-less sysfs
    result = run_plan(plan, sysfs, Mdevctl())
    assert not result.ok and "not vfio_ccw" in result.error
    assert [s.title for s in result.done] == ["set 0.0.5c3f offline"]
    assert sysfs.read("bus/ccw/devices/0.0.5c3f/online") == "1"  # and that one was undone


def test_an_interrupt_between_steps_undoes_what_was_done_and_is_raised(sysfs: Sysfs, tmp_path: Path) -> None:
    view = _view(sysfs, tmp_path)

    def stop_after_binding(step: Step) -> None:
        if step.command.startswith("driverctl"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_plan(plan_vfio_ccw(view, "0.0.5c3f", UUID), view.sysfs, Mdevctl(), between=stop_after_binding)
    assert view.sysfs.link_name("bus/css/devices/0.0.0010/driver") == "io_subchannel"
    assert view.sysfs.read("bus/ccw/devices/0.0.5c3f/online") == "1"


def test_a_plan_reads_as_the_commands_it_runs() -> None:
    step = Step("set 0.0.5c3f offline", "chccwdev -d 0.0.5c3f", writes=(Write("bus/ccw/devices/0.0.5c3f/online", "0"),),
                proofs=(Proof(ProofKind.ATTRIBUTE, "bus/ccw/devices/0.0.5c3f/online", "0"),))
    xml = mdev_nodedev_xml("css_0_0_0010", "vfio_ccw-io", UUID)
    define = Step("define", "virsh nodedev-define m.xml", Action.NODEDEV_DEFINE, file=UUID, text=xml)
    plan = PrepPlan(PrepKind.VFIO_CCW, Direction.PREPARE, "0.0.5c3f", (step, define), result="mdev")
    assert plan.text().splitlines()[:4] == ["prepare vfio-ccw 0.0.5c3f", "1. set 0.0.5c3f offline",
                                            "   chccwdev -d 0.0.5c3f",
                                            "     echo 0 > /sys/bus/ccw/devices/0.0.5c3f/online"]
    assert plan.as_json()["steps"][1]["xml"] == xml  # type: ignore[index]


@pytest.mark.parametrize(("kind", "ident", "driver", "facts", "expected"), [
    ("ccw", "0.0.5c3f", "dasd-eckd", {}, ("vfio-ccw", "0.0.5c3f", False)),
    ("ccw", "0.0.1700", "zfcp", {}, None),  # an FCP channel is never prepared for vfio-ccw
    ("css", "0.0.0010", "vfio_ccw", {"dev_busid": "0.0.5c3f"}, ("vfio-ccw", "0.0.5c3f", True)),
    ("css", "0.0.0011", "io_subchannel", {"dev_busid": "none"}, None),
    ("pci", "0001:00:00.0", "vfio-pci", {}, ("pci", "0001:00:00.0", True)),
    ("ap_queue", "0c.0038", "cex4queue", {}, ("vfio-ap", "", False)),
    ("mdev", UUID, "vfio_ap_mdev", {"mdev_type": "vfio_ap-passthrough"}, ("vfio-ap", UUID, True)),
    ("block", "/dev/dasda", "", {}, None),
])
def test_the_p_key_asks_for_what_the_device_is(kind: str, ident: str, driver: str, facts: dict[str, str],
                                               expected: tuple[str, str, bool] | None) -> None:
    from ztui.ops.prepare.request import request_for

    request = request_for(kind, ident, driver, facts)
    assert (None if request is None else (request.kind.value, request.target, request.undo)) == expected
    if kind == "ap_queue":
        assert request is not None and (request.adapters, request.domains) == ((0x0C,), (0x38,))


def test_the_attach_dialog_offers_a_free_dasd_prepared_first_on_this_machine_only() -> None:
    from ztui.host.inventory import build_inventory
    from ztui.model import Fact, HostDevice, HostDeviceKind
    from ztui.ops.attach.candidates import PREPARE_PREFIX, attach_candidates

    def ccw(busid: str, alias: str) -> HostDevice:
        return HostDevice(HostDeviceKind.CCW, busid, busid, driver="dasd-eckd",
                          facts=(Fact("alias", alias, "udev"), Fact("devtype", "3390/0c", "udev"),
                                 Fact("online", "0", "udev")))

    devices = (ccw("0.0.5d00", "0"), ccw("0.0.5dfe", "1"))
    booted = SystemUse((Mount("/", "ext4", "/dev/vda1", "252:1"),))
    uri = "test:///default"
    here = attach_candidates(build_inventory(devices, local=True, uri=uri, system=booted), Host(uri=uri))
    assert [c.value for c in here["mdev"]] == [f"{PREPARE_PREFIX}0.0.5d00"]  # never the PAV alias
    # without the guests (no snapshot yet) nothing is offered for preparing: a guest may use it
    assert "mdev" not in attach_candidates(build_inventory(devices, local=True, uri=uri, system=booted), None)
    remote = attach_candidates(build_inventory(devices, local=True, uri="qemu+ssh://z1/system"), None)
    assert "mdev" not in remote


def test_vfio_ccw_is_offered_for_what_it_prepares_an_eckd_dasd() -> None:
    """The kernel's vfio-ccw.rst takes ECKD DASD only and the plan refuses a tape: no help offers one."""
    from ztui.cli import manpage
    from ztui.ops.prepare import plan, request

    text = manpage.page().replace("\\-", "-")
    assert "an ECKD DASD → a vfio_ccw-io mdev" in text
    assert not any("tape" in line for line in text.splitlines() if "vfio_ccw-io" in line or "bus-ID, e.g." in line)
    assert "or tape" not in (plan.__doc__ or "") + (request.__doc__ or "")
