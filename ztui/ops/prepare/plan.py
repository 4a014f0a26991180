"""Plans for preparing a host device for pass-through, and for undoing it, read from the local sysfs.

The order is the one the kernel and IBM document (kernel Documentation/arch/s390/vfio-ccw.rst and
vfio-ap.rst, KVM on Z "Preparing VFIO pass-through devices"):

* vfio-ccw: the ECKD DASD is set offline (`chccwdev -d`), its subchannel's driver is overridden to
  `vfio_ccw` and re-probed (`driverctl -b css set-override`, which also keeps the override across
  reboots), then a `vfio_ccw-io` mdev is defined, started and marked for autostart through libvirt's
  node-device API (`virsh nodedev-define/-start/-autostart`; mdevctl underneath).
* vfio-ap: each adapter whose queues a host crypto driver holds is released to vfio_ap (`apmask`), then a
  `vfio_ap-passthrough` mdev with the matrix is defined, started and marked for autostart.
* PCI: libvirt binds a function to vfio-pci itself when the hostdev is `managed='yes'`; binding by hand
  is only for unmanaged use.

Every refusal is known here, before anything is written: an unknown bus-ID, anything but a base ECKD DASD
for vfio-ccw (a QDIO subchannel — FCP, OSA, HiperSockets —, an FBA DASD, a tape, a PAV alias: the kernel's
vfio-ccw.rst), and whatever `ztui.host.release.release_refusal` keeps with the host — a device the host
itself or a guest uses, a PAV alias, an APQN another mdev holds, a device whose facts could not be read.
That rule is the one every printed command follows too (the readiness advice, the preflight's advice).
Steps already done (a DASD already offline, a subchannel already on vfio_ccw) are left out, so a
plan can be run again after an interruption and does only what is missing.
"""

from __future__ import annotations

import re
import uuid as uuidlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ztui.facts import F, carried_busid, kernel_number, mdev_ap_matrix, vfio_ccw_problem
from ztui.host.inventory import Inventory
from ztui.host.release import Users, release_refusal
from ztui.host.sysfs import Sysfs
from ztui.libvirtxml.devices import SpecError, parse_busid, parse_pci
from ztui.libvirtxml.mdev import (
    AP_MATRIX_NODEDEV,
    VFIO_AP_TYPE,
    VFIO_CCW_TYPE,
    ap_matrix_attrs,
    css_nodedev_name,
    mdev_nodedev_xml,
)
from ztui.model import HostDevice, HostDeviceKind, device_key, format_pci
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
from ztui.zsysfs import CcwDevice, Subchannel

#: where driverctl keeps its overrides, one file `<bus>-<device>` holding the driver's name
DRIVERCTL_DIR = "/etc/driverctl.d"
#: the attributes of a ccw device that tell what it is (its driver, types, DASD discipline and alias)
_CCW_FACTS = (F.CUTYPE, F.DEVTYPE, F.ONLINE, F.DISCIPLINE, F.ALIAS, F.UID)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class HostView:
    """What a plan needs to know besides sysfs: the host's inventory and which of its guests use which host
    device (`uses`, by device key as `ztui.host.usage.users_of` gives it) — what `release_refusal` judges
    by; None for either means not read, and nothing is then taken from the host — and where driverctl
    keeps its files."""

    sysfs: Sysfs
    inventory: Inventory | None = None
    uses: Users | None = None
    driverctl_dir: str = DRIVERCTL_DIR

    def guests_of(self, kind: HostDeviceKind, ident: str) -> list[str]:
        """The guests that use a device (an mdev to give back, a PCI function); PrepRefused when the host's
        guests were not read."""
        if self.uses is None:
            raise PrepRefused(f"cannot tell whether a guest uses {ident}: the host's guests were not read")
        return sorted({u.guest for u in self.uses.get(device_key(kind, ident), ())})

    def refuse_release(self, dev: HostDevice) -> None:
        """PrepRefused with the reason when `release_refusal` keeps `dev` with the host or a guest."""
        refused = release_refusal(dev, self.inventory, self.uses)
        if refused is not None:
            raise PrepRefused(refused.text)

    def record(self, kind: HostDeviceKind, ident: str) -> HostDevice:
        """The inventory's record of a device sysfs shows (PrepRefused when the inventory lacks it: what the
        host does with it is then unknown)."""
        dev = self.inventory.get(kind, ident) if self.inventory is not None else None
        if dev is None:
            raise PrepRefused(f"cannot tell whether {ident} is free: it is not among the host's devices as read")
        return dev


def mdev_nodedev(uuid: str, parent: str) -> str:
    """libvirt's node-device name of an mdev (`mdev_<uuid>_<parent>`, dashes as underscores)."""
    return f"mdev_{uuid.replace('-', '_')}_{parent}"


def _mdev_steps(uuid: str, parent: str, type_id: str, attrs: Sequence[tuple[str, str]], where: str) -> list[Step]:
    name = mdev_nodedev(uuid, parent)
    xml = mdev_nodedev_xml(parent, type_id, uuid, attrs)
    undefine = Step(f"undefine mdev {uuid}", f"virsh nodedev-undefine {name}", Action.NODEDEV_UNDEFINE,
                    proofs=(Proof(ProofKind.MDEV_GONE, uuid),), file=uuid, nodedev=name)
    destroy = Step(f"stop mdev {uuid}", f"virsh nodedev-destroy {name}", Action.NODEDEV_DESTROY, file=uuid,
                   nodedev=name)
    return [
        Step(f"define a {type_id} mdev {uuid} on {where}", f"virsh nodedev-define mdev-{uuid}.xml",
             Action.NODEDEV_DEFINE, file=uuid, text=xml, undo=(undefine,), nodedev=name),
        Step(f"start mdev {uuid}", f"virsh nodedev-start {name}", Action.NODEDEV_START, file=uuid,
             proofs=(Proof(ProofKind.MDEV_ACTIVE, uuid),), undo=(destroy,), nodedev=name),
        Step(f"start mdev {uuid} with the host", f"virsh nodedev-autostart {name}", Action.NODEDEV_AUTOSTART,
             file=uuid, proofs=(Proof(ProofKind.MDEV_AUTOSTART, uuid),), nodedev=name),
    ]


def _mdev_removal(uuid: str, name: str) -> list[Step]:
    return [Step(f"stop mdev {uuid}", f"virsh nodedev-destroy {name}", Action.NODEDEV_DESTROY, file=uuid,
                 nodedev=name),
            Step(f"undefine mdev {uuid}", f"virsh nodedev-undefine {name}", Action.NODEDEV_UNDEFINE, file=uuid,
                 nodedev=name, proofs=(Proof(ProofKind.MDEV_GONE, uuid),))]


def _override_steps(bus: str, dev: str, current: str, wanted: str, view: HostView) -> list[Step]:
    """driver_override, unbind, drivers_probe (what `driverctl set-override` does), then its saved file."""
    base = f"bus/{bus}/devices/{dev}"
    writes = [Write(f"{base}/driver_override", wanted)]
    if current:
        writes.append(Write(f"{base}/driver/unbind", dev))
    writes.append(Write(f"bus/{bus}/drivers_probe", dev))
    back = [Write(f"{base}/driver_override", ""), Write(f"{base}/driver/unbind", dev),
            Write(f"bus/{bus}/drivers_probe", dev)]
    restore = Step(f"give {dev} back to {current or 'its default driver'}",
                   f"driverctl -b {bus} unset-override {dev}", writes=tuple(back),
                   proofs=((Proof(ProofKind.DRIVER, f"{base}/driver", current),) if current else ()))
    saved = f"{view.driverctl_dir}/{bus}-{dev}"
    return [
        Step(f"bind {dev} to {wanted}", f"driverctl -b {bus} set-override {dev} {wanted}", writes=tuple(writes),
             proofs=(Proof(ProofKind.DRIVER, f"{base}/driver", wanted),), undo=(restore,)),
        Step(f"keep {dev} on {wanted} across reboots", f"(saved by driverctl as {saved})", Action.WRITE_FILE,
             file=saved, text=wanted + "\n", proofs=(Proof(ProofKind.FILE, saved, wanted + "\n"),),
             undo=(Step(f"forget the saved override of {dev}", f"(driverctl removes {saved})",
                        Action.REMOVE_FILE, file=saved, proofs=(Proof(ProofKind.FILE, saved, ""),)),)),
    ]


# --- vfio-ccw ----------------------------------------------------------------------------------------------


def _busid(text: str) -> str:
    try:
        return parse_busid(text).text
    except SpecError as exc:
        raise PrepRefused(str(exc)) from None


def subchannel_of(view: HostView, busid: str) -> str:
    """The subchannel that carries device `busid`: its `dev_busid` names it even when the ccw device is
    gone (a subchannel on vfio_ccw has no ccw device), else the ccw device's parent directory."""
    ccw = f"bus/ccw/devices/{busid}"
    if view.sysfs.exists(ccw):
        return view.sysfs.device_dir(ccw).rstrip("/").split("/")[-2]
    for sub in view.sysfs.children("bus/css/devices"):
        if carried_busid(_css_record(view, sub, (F.DEV_BUSID,))) == busid:
            return sub
    raise PrepRefused(f"no ccw device {busid} on this host")


def _ccw_record(view: HostView, busid: str, driver: str, keys: Sequence[str] = _CCW_FACTS) -> HostDevice:
    """The ccw device as sysfs shows it now, in the kernel's words (what `vfio_ccw_problem` judges)."""
    return view.sysfs.record(HostDeviceKind.CCW, busid, f"bus/ccw/devices/{busid}", keys, driver)


def _css_record(view: HostView, sub: str, keys: Sequence[str]) -> HostDevice:
    """The subchannel as sysfs shows it now, in the kernel's words."""
    return view.sysfs.record(HostDeviceKind.CSS, sub, f"bus/css/devices/{sub}", keys)


def _mdevs_on(view: HostView, subchannel: str) -> list[str]:
    return [c for c in view.sysfs.children(f"bus/css/devices/{subchannel}") if _UUID.match(c)]


def plan_vfio_ccw(view: HostView, busid_text: str, uuid: str | None = None) -> PrepPlan:
    """An ECKD DASD `busid` → a started vfio_ccw-io mdev on its subchannel, or PrepRefused."""
    busid = _busid(busid_text)
    sysfs = view.sysfs
    sub = subchannel_of(view, busid)
    css = f"bus/css/devices/{sub}"
    ccw = f"bus/ccw/devices/{busid}"
    sub_driver = sysfs.link_name(f"{css}/driver")
    subchannel = _css_record(view, sub, (F.SCH_TYPE,))
    # a type not read is left to the kernel: vfio_ccw binds I/O subchannels only, and the proof sees it
    if subchannel.fact(F.SCH_TYPE) and Subchannel.type.read(subchannel.fact(F.SCH_TYPE)) != 0:
        raise PrepRefused(f"subchannel {sub} is not an I/O subchannel (type {subchannel.fact(F.SCH_TYPE)})")
    steps: list[Step] = []
    if sub_driver != "vfio_ccw":
        if not sysfs.exists(ccw):
            raise PrepRefused(f"subchannel {sub} of {busid} has no ccw device and is bound to "
                              f"{sub_driver or 'no driver'}")
        device = _ccw_record(view, busid, sysfs.link_name(f"{ccw}/driver"))
        known = view.inventory.of_kind(HostDeviceKind.CCW) if view.inventory is not None else ()
        refused = vfio_ccw_problem(device, known,
                                   lambda base: release_refusal(base, view.inventory, view.uses) is None)
        if refused:
            raise PrepRefused(refused)
        view.refuse_release(device)
        if CcwDevice.online.read(device.fact(F.ONLINE)):
            steps.append(Step(f"set {busid} offline", f"chccwdev -d {busid}",
                              writes=(Write(f"{ccw}/online", "0"),),
                              proofs=(Proof(ProofKind.ATTRIBUTE, f"{ccw}/online", "0"),),
                              undo=(Step(f"set {busid} online", f"chccwdev -e {busid}",
                                         writes=(Write(f"{ccw}/online", "1"),),
                                         proofs=(Proof(ProofKind.ATTRIBUTE, f"{ccw}/online", "1"),)),)))
        steps += _override_steps("css", sub, sub_driver, "vfio_ccw", view)
    existing = _mdevs_on(view, sub)
    notes: list[str] = []
    if existing:
        uuid = existing[0]
        notes.append(f"subchannel {sub} already has mdev {uuid}")
    else:
        uuid = _new_uuid(uuid)
        steps += _mdev_steps(uuid, css_nodedev_name(sub), VFIO_CCW_TYPE, (), f"subchannel {sub}")
    return PrepPlan(PrepKind.VFIO_CCW, Direction.PREPARE, busid, tuple(steps),
                    result=f"mdev {uuid} on subchannel {sub}: ztui attach GUEST --mdev {uuid}",
                    notes=tuple(notes), mdev_uuid=uuid, touches=(busid, sub))


def unplan_vfio_ccw(view: HostView, busid_text: str) -> PrepPlan:
    """The undo of `plan_vfio_ccw`: the subchannel's mdevs removed, its driver given back, the DASD online."""
    busid = _busid(busid_text)
    sysfs = view.sysfs
    sub = subchannel_of(view, busid)
    css = f"bus/css/devices/{sub}"
    steps: list[Step] = []
    for uuid in _mdevs_on(view, sub):
        users = view.guests_of(HostDeviceKind.MDEV, uuid)
        if users:
            raise PrepRefused(f"mdev {uuid} on {sub} is used by guest {', '.join(users)}; detach it first")
        name = mdev_nodedev(uuid, css_nodedev_name(sub))
        steps += _mdev_removal(uuid, name)
    saved = f"{view.driverctl_dir}/css-{sub}"
    subchannel = _css_record(view, sub, (F.DRIVER_OVERRIDE,))
    # an override that is set, or that cannot be read, is given back
    overridden = subchannel.has_fact(F.DRIVER_OVERRIDE) and \
        Subchannel.driver_override.read(subchannel.fact(F.DRIVER_OVERRIDE)) != ""
    if sysfs.link_name(f"{css}/driver") == "vfio_ccw" or overridden:
        steps.append(Step(f"give {sub} back to io_subchannel", f"driverctl -b css unset-override {sub}",
                          writes=(Write(f"{css}/driver_override", ""), Write(f"{css}/driver/unbind", sub),
                                  Write("bus/css/drivers_probe", sub)),
                          proofs=(Proof(ProofKind.DRIVER, f"{css}/driver", "io_subchannel"),)))
    steps.append(Step(f"forget the saved override of {sub}", f"(driverctl removes {saved})", Action.REMOVE_FILE,
                      file=saved, proofs=(Proof(ProofKind.FILE, saved, ""),)))
    ccw = f"bus/ccw/devices/{busid}"
    if CcwDevice.online.read(_ccw_record(view, busid, "", (F.ONLINE,)).fact(F.ONLINE)) is not True:
        steps.append(Step(f"set {busid} online", f"chccwdev -e {busid}", writes=(Write(f"{ccw}/online", "1"),),
                          proofs=(Proof(ProofKind.ATTRIBUTE, f"{ccw}/online", "1"),)))
    return PrepPlan(PrepKind.VFIO_CCW, Direction.UNPREPARE, busid, tuple(steps),
                    result=f"{busid} is a host DASD again (subchannel {sub} on io_subchannel)",
                    touches=(busid, sub))


# --- vfio-ap -----------------------------------------------------------------------------------------------


def parse_ap_numbers(values: Iterable[str], what: str, limit: int) -> list[int]:
    """Adapter or domain numbers as the kernel reads them (`kernel_number`), comma lists allowed."""
    out: list[int] = []
    for value in values:
        for part in value.split(","):
            number = kernel_number(part)
            if number is None:
                raise PrepRefused(f"{what} '{part.strip()}' is not a number (0x.. hex or decimal)")
            if not 0 <= number < limit:
                raise PrepRefused(f"{what} {part.strip()} is out of range (0 to {limit - 1})")
            if number not in out:
                out.append(number)
    return out


def plan_vfio_ap(view: HostView, adapters: Sequence[int], domains: Sequence[int],
                 control_domains: Sequence[int] = (), uuid: str | None = None) -> PrepPlan:
    """Adapters x usage domains (+ control domains) → a started vfio_ap-passthrough mdev, or PrepRefused."""
    if not adapters or not domains:
        raise PrepRefused("a vfio-ap matrix needs at least one adapter and one usage domain")
    sysfs = view.sysfs
    matrix = "devices/vfio_ap/matrix"
    if not sysfs.exists(matrix):
        raise PrepRefused("no vfio_ap matrix device on this host: load the vfio_ap module (modprobe vfio_ap)")
    if not sysfs.exists("bus/ap/apmask"):
        raise PrepRefused("the AP bus has no /sys/bus/ap/apmask: this kernel cannot hand queues to vfio_ap")
    steps: list[Step] = []
    notes: list[str] = []
    for a in adapters:
        release = False
        for d in domains:
            queue = f"bus/ap/devices/{a:02x}.{d:04x}"
            if not sysfs.exists(queue):
                raise PrepRefused(f"APQN {a:02x}.{d:04x} does not exist on this host (lszcrypt)")
            view.refuse_release(view.record(HostDeviceKind.AP_QUEUE, f"{a:02x}.{d:04x}"))
            if sysfs.link_name(f"{queue}/driver") != "vfio_ap":
                release = True
        if release:
            others = [q for q in sysfs.children("bus/ap/devices")
                      if q.startswith(f"{a:02x}.") and int(q.split(".")[1], 16) not in domains
                      and sysfs.link_name(f"bus/ap/devices/{q}/driver") not in ("", "vfio_ap")]
            if others:
                notes.append(f"adapter {a:02x} goes to vfio_ap whole: the host also loses queue(s) "
                             + ", ".join(others))
            current = {sysfs.link_name(f"bus/ap/devices/{a:02x}.{d:04x}/driver") for d in domains} - {"vfio_ap"}
            back = sorted(current)[0] if current else ""
            steps.append(_release_adapter(a, domains, back))
    uuid = _new_uuid(uuid)
    target = matrix_text(adapters, domains, control_domains)
    steps += _mdev_steps(uuid, AP_MATRIX_NODEDEV, VFIO_AP_TYPE, ap_matrix_attrs(adapters, domains, control_domains),
                         f"the AP matrix {target}")
    return PrepPlan(PrepKind.VFIO_AP, Direction.PREPARE, target, tuple(steps),
                    result=f"mdev {uuid} with {target}: ztui attach GUEST --mdev {uuid}",
                    notes=tuple(notes), mdev_uuid=uuid,
                    touches=tuple(f"{a:02x}.{d:04x}" for a in adapters for d in domains))


def _release_adapter(adapter: int, domains: Sequence[int], back: str) -> Step:
    """Clearing the adapter's bit in `/sys/bus/ap/apmask` hands its queues to vfio_ap (vfio-ap.rst)."""
    queues = [f"bus/ap/devices/{adapter:02x}.{d:04x}/driver" for d in domains]
    give_back = Step(f"give adapter {adapter:02x} back to the host", f"echo +0x{adapter:02x} > /sys/bus/ap/apmask",
                     writes=(Write("bus/ap/apmask", f"+0x{adapter:02x}"),),
                     proofs=tuple(Proof(ProofKind.DRIVER, q, back) for q in queues) if back else ())
    return Step(f"release adapter {adapter:02x} from the host's crypto driver to vfio_ap",
                f"echo -0x{adapter:02x} > /sys/bus/ap/apmask", writes=(Write("bus/ap/apmask", f"-0x{adapter:02x}"),),
                proofs=tuple(Proof(ProofKind.DRIVER, q, "vfio_ap") for q in queues), undo=(give_back,))


def matrix_text(adapters: Sequence[int], domains: Sequence[int], control: Sequence[int] = ()) -> str:
    text = ("adapters " + ",".join(f"{a:02x}" for a in adapters)
            + " x domains " + ",".join(f"{d:04x}" for d in domains))
    return text + (" + control " + ",".join(f"{d:04x}" for d in control) if control else "")


def unplan_vfio_ap(view: HostView, uuid: str) -> PrepPlan:
    """The undo of `plan_vfio_ap` for one mdev: stopped and undefined. Its adapters stay with vfio_ap (giving
    one back takes every queue of it from vfio_ap); the notes name the command for each adapter no other
    mdev or guest holds a queue of, and why each other one stays."""
    uuid = uuid.strip().lower()
    if not _UUID.match(uuid):
        raise PrepRefused(f"'{uuid}' is not an mdev UUID")
    users = view.guests_of(HostDeviceKind.MDEV, uuid)
    if users:
        raise PrepRefused(f"mdev {uuid} is used by guest {', '.join(users)}; detach it first")
    steps = tuple(_mdev_removal(uuid, mdev_nodedev(uuid, AP_MATRIX_NODEDEV)))
    return PrepPlan(PrepKind.VFIO_AP, Direction.UNPREPARE, uuid, steps, result=f"mdev {uuid} is gone",
                    notes=_give_back_notes(view, uuid), mdev_uuid=uuid, touches=(uuid,))


def _give_back_notes(view: HostView, uuid: str) -> tuple[str, ...]:
    """For each adapter of the mdev: the `apmask` command that gives it back to the host, when no queue of it
    on vfio_ap is kept by `release_refusal` once this mdev is gone; else why it stays."""
    mdev = view.inventory.get(HostDeviceKind.MDEV, uuid) if view.inventory is not None else None
    if view.inventory is None or mdev is None:
        return ("the adapters stay with vfio_ap (which adapters the mdev has is not known here)",)
    rest = view.inventory.without_device(mdev.key)
    notes = []
    for adapter in sorted(mdev_ap_matrix(mdev).adapters):
        queues = [q for q in rest.of_kind(HostDeviceKind.AP_QUEUE)
                  if q.id.startswith(f"{adapter:02x}.") and q.driver == "vfio_ap"]
        refused = next((r for q in queues if (r := release_refusal(q, rest, view.uses)) is not None), None)
        notes.append(f"adapter {adapter:02x} stays with vfio_ap: {refused.text}" if refused is not None else
                     f"adapter {adapter:02x} stays with vfio_ap; echo +0x{adapter:02x} > /sys/bus/ap/apmask gives "
                     "it back to the host")
    return tuple(notes) or ("the mdev has no adapter assigned",)


# --- PCI ---------------------------------------------------------------------------------------------------


def plan_pci(view: HostView, addr_text: str, *, unmanaged: bool) -> PrepPlan:
    """A PCI (zPCI) function: nothing to do for `managed='yes'` (libvirt binds vfio-pci itself at attach);
    with `unmanaged`, bound to vfio-pci now (and kept so across reboots)."""
    addr = _pci_addr(addr_text)
    base = f"bus/pci/devices/{addr}"
    if not view.sysfs.exists(base):
        raise PrepRefused(f"no PCI function {addr} on this host")
    driver = view.sysfs.link_name(f"{base}/driver")
    if driver != "vfio-pci":  # one on vfio-pci is no longer the host's
        view.refuse_release(view.record(HostDeviceKind.PCI, addr))
    if not unmanaged:
        return PrepPlan(PrepKind.PCI, Direction.PREPARE, addr, (),
                        result=f"attach it with managed='yes' (ztui attach GUEST --pci {addr}): libvirt binds it "
                               "to vfio-pci at attach and gives it back at detach",
                        notes=(f"now bound to {driver or 'no driver'}; nothing needs to change",), touches=(addr,))
    steps = [] if driver == "vfio-pci" else _override_steps("pci", addr, driver, "vfio-pci", view)
    return PrepPlan(PrepKind.PCI, Direction.PREPARE, addr, tuple(steps),
                    result=f"{addr} on vfio-pci: attach it with managed='no'", touches=(addr,))


def unplan_pci(view: HostView, addr_text: str) -> PrepPlan:
    addr = _pci_addr(addr_text)
    base = f"bus/pci/devices/{addr}"
    if not view.sysfs.exists(base):
        raise PrepRefused(f"no PCI function {addr} on this host")
    users = view.guests_of(HostDeviceKind.PCI, addr)
    if users:
        raise PrepRefused(f"{addr} is used by guest {', '.join(users)}; detach it first")
    saved = f"{view.driverctl_dir}/pci-{addr}"
    steps = [Step(f"give {addr} back to its default driver", f"driverctl unset-override {addr}",
                  writes=(Write(f"{base}/driver_override", ""), Write(f"{base}/driver/unbind", addr),
                          Write("bus/pci/drivers_probe", addr))),
             Step(f"forget the saved override of {addr}", f"(driverctl removes {saved})", Action.REMOVE_FILE,
                  file=saved, proofs=(Proof(ProofKind.FILE, saved, ""),))]
    if view.sysfs.link_name(f"{base}/driver") != "vfio-pci":
        steps = steps[1:]
    return PrepPlan(PrepKind.PCI, Direction.UNPREPARE, addr, tuple(steps),
                    result=f"{addr} is back with the host", touches=(addr,))


def _pci_addr(text: str) -> str:
    try:
        pci = parse_pci(text)
    except SpecError as exc:
        raise PrepRefused(str(exc)) from None
    return format_pci(pci.domain, pci.bus, pci.slot, pci.function)


def _new_uuid(uuid: str | None) -> str:
    if uuid is None:
        return str(uuidlib.uuid4())
    text = uuid.strip().lower()
    if not _UUID.match(text):
        raise PrepRefused(f"'{uuid}' is not a UUID")
    return text
