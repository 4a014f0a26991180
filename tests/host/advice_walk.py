"""Every command ztui can print for a person, gathered on one fake IBM Z host, for tests/host/test_advice.py.

Run under `umockdev-run -d tests/fixtures/advice/z-advice.umockdev`: the host's devices are read by the real
udev reader from attributes in the kernel's words. umockdev fakes /sys but not /proc, so the host's mount
table and swap areas are read by the same readers (`read_mounts`, `read_swaps`) from the fixture's
`z-advice.mountinfo` and `z-advice.swaps` instead of this machine's; its /sys/firmware (the IPL and dump
devices) is written into the testbed here, through the writers of `ztui.zsysfs`.

    python tests/host/advice_walk.py OUT.json [--misread]

OUT.json holds, for each place that prints for a person, what it printed: the hostdevs report (JSON and
text), the host devices view's lines and details pane, the tree's warnings and the guest devices' details
pane, the attach dialog's offers, `ztui attach --pci`'s plan, `ztui prepare`'s plan or refusal for every
DASD, PCI function and AP queue, and the migration preflight's findings with this host as the destination.
"""

from __future__ import annotations

import io
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "advice"
GUESTS = FIXTURES / "z-advice-guests.xml"
URI = f"test://{GUESTS}"

#: the guest that migrates here: a vfio-ccw mdev (UUID per scenario) and a vfio-ap mdev
MIGRATING = """<domain type='kvm'>
  <name>zmig</name>
  <uuid>5d1e0a2b-3c4d-4e5f-8a6b-7c8d9e0f1a99</uuid>
  <memory>1048576</memory>
  <os><type arch='s390x' machine='s390-ccw-virtio'>hvm</type></os>
  <devices>
    <hostdev mode='subsystem' type='mdev' model='vfio-ccw'>
      <source><address uuid='{ccw}'/></source>
    </hostdev>
    <hostdev mode='subsystem' type='mdev' model='vfio-ap'>
      <source><address uuid='{ap}'/></source>
    </hostdev>
  </devices>
</domain>"""
MIG_CCW = "0b5e1d2c-3a4f-4b6e-8c7d-1e2f3a4b5c6d"
MIG_AP = "0b5e1d2c-3a4f-4b6e-8c7d-1e2f3a4b5c6e"


def _testbed(misread: bool) -> None:
    """Files of the fake /sys that belong to no device: the host was IPLed from 0.0.6000 and dumps to 0.0.6004
    (arch/s390/kernel/ipl.c), the AP bus's masks give every adapter and domain to the host's drivers
    (drivers/s390/crypto/ap_bus.c: `0x%016lx` four times). With `misread`, two attributes a rule depends on
    are not in the kernel's words: the free DASD's `alias` and the vfio-ap mdev's `matrix`."""
    from ztui.zsysfs import Firmware

    sys_dir = Path(os.environ["UMOCKDEV_DIR"]) / "sys"
    every = "0x" + "f" * 64 + "\n"
    files = [("firmware/ipl/ipl_type", Firmware.ipl_type.file_text("ccw")),
             ("firmware/ipl/device", Firmware.ipl_device.file_text("0.0.6000")),
             ("firmware/dump/dump_type", Firmware.dump_type.file_text("ccw")),
             ("firmware/dump/ccw/device", Firmware.dump_device.file_text("0.0.6004")),
             ("bus/ap/apmask", every), ("bus/ap/aqmask", every)]
    if misread:
        files += [("devices/css0/0.0.0003/0.0.6002/alias", "yes\n"),
                  ("devices/vfio_ap/matrix/4b4c5e2a-7d62-4f5b-8d1e-0a1b2c3d4e5f/matrix", "0c:0038\n")]
    for rel, text in files:
        path = sys_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _own_tables() -> None:
    """The fake host's mount table and swap areas, read by ztui's readers from the fixture's files."""
    import ztui.host.facts_source as hostfacts
    import ztui.host.files as files
    from ztui.host.system import SystemUse

    def read_system_use() -> SystemUse:
        return SystemUse(tuple(files.read_mounts(str(FIXTURES / "z-advice.mountinfo"))),
                         tuple(files.read_swaps(str(FIXTURES / "z-advice.swaps"))))

    files.read_system_use = read_system_use
    hostfacts.read_system_use = read_system_use


def _text(renderable: Any) -> str:
    from rich.console import Console

    out = io.StringIO()
    Console(file=out, width=400, color_system=None, soft_wrap=True).print(renderable)
    return out.getvalue()


def main(out_path: str, misread: bool = False) -> int:
    _testbed(misread)
    _own_tables()
    import libvirt

    from ztui.cli.hostdevs import host_json, read_host_inventory
    from ztui.host.resolve import resolve_host
    from ztui.host.scan import LocalUdev
    from ztui.host.sysfs import Sysfs
    from ztui.host.usage import conflicts, users_of
    from ztui.libvirt.link import HostLink
    from ztui.libvirt.pipeline import scan_host
    from ztui.libvirt.reader import read_host
    from ztui.model import HostDeviceKind
    from ztui.ops.attach.candidates import attach_candidates
    from ztui.ops.prepare.plan import HostView
    from ztui.ops.prepare.request import PrepRequest, plan_for
    from ztui.ops.prepare.steps import PrepKind, PrepRefused
    from ztui.report.hostdevs import inventory_groups, render_text
    from ztui.ui.labels import hostdev_label
    from ztui.ui.widgets.details import device_details, hostdev_details

    doc: dict[str, Any] = {"texts": [], "device_texts": {}, "eligibility": {}, "candidates": {}, "plans": {},
                           "preflight": {}}

    def said(where: str, text: str) -> None:
        doc["texts"].append({"where": where, "text": text})

    # `ztui hostdevs`, its text, and the host devices view (its lines and its details pane)
    read = read_host_inventory(URI, True, LocalUdev([URI]))
    report = host_json(*read)
    for line in render_text(URI, report["groups"]).splitlines():
        said("hostdevs", line)
    users = users_of([read[0]], read[1])
    shown = {e.key: e for g in inventory_groups(read[1], users, conflicts(users)) for e in g.entries}
    for group in report["groups"]:
        for dev in group["devices"]:
            texts = [*(dev.get("eligibility") or {}).get("missing", ()), *dev.get("warnings", ()),
                     hostdev_label(shown[dev["key"]]).plain, _text(hostdev_details(shown[dev["key"]]))]
            doc["device_texts"][dev["key"]] = texts
            if dev.get("eligibility") is not None:
                doc["eligibility"][dev["key"]] = dev["eligibility"]
            for text in texts:
                said(f"host device {dev['key']}", text)

    conn = libvirt.open(URI)
    try:
        host = read_host(conn, URI)
        inv = scan_host(HostLink(URI, conn), host.guests)
        resolved = resolve_host(host, inv)
        users = users_of([resolved], inv)
        # the tree: every warning of every guest device's chain, and the guest device's details pane
        for guest in resolved.guests:
            for device in guest.devices:
                for warning in (*device.warnings, *(s.warning for s in device.backing if s.warning)):
                    said(f"tree {guest.name}", warning)
                said(f"details {guest.name}", _text(device_details(URI, guest, device)))
        # the attach dialog's offers
        for kind, offers in attach_candidates(inv, resolved).items():
            doc["candidates"][kind] = [c.value for c in offers]
            for offer in offers:
                said(f"attach offers {kind}", f"{offer.value} {offer.label}")
        # `ztui prepare` (and `p` in the host devices view) for every DASD, PCI function and AP queue
        view = HostView(Sysfs(), inv, users, driverctl_dir=str(Path(out_path).parent / "driverctl.d"))
        requests: dict[str, PrepRequest] = {}
        for dev in inv.of_kind(HostDeviceKind.CCW):
            requests[f"vfio-ccw {dev.id}"] = PrepRequest(PrepKind.VFIO_CCW, dev.id)
        for dev in inv.of_kind(HostDeviceKind.PCI):
            requests[f"pci {dev.id}"] = PrepRequest(PrepKind.PCI, dev.id)
            requests[f"pci {dev.id} --unmanaged"] = PrepRequest(PrepKind.PCI, dev.id, unmanaged=True)
        for dev in inv.of_kind(HostDeviceKind.AP_QUEUE):
            adapter, domain = (int(n, 16) for n in dev.id.split("."))
            requests[f"vfio-ap {dev.id}"] = PrepRequest(PrepKind.VFIO_AP, adapters=(adapter,), domains=(domain,))
        requests["unprepare vfio-ap 4b4c5e2a"] = PrepRequest(PrepKind.VFIO_AP, "4b4c5e2a-7d62-4f5b-8d1e-0a1b2c3d4e5f",
                                                            undo=True)
        for label, request in requests.items():
            try:
                plan = plan_for(view, request)
            except PrepRefused as exc:
                doc["plans"][label] = {"refused": str(exc)}
                said(f"prepare {label}", str(exc))
                continue
            doc["plans"][label] = {"commands": [s.command for s in plan.steps], "notes": list(plan.notes),
                                   "text": plan.text()}
            said(f"prepare {label}", plan.text())
        _attach_pci(conn, resolved, doc, said)
        _preflight(conn, doc, said)
    finally:
        conn.close()
    Path(out_path).write_text(json.dumps(doc, indent=1))
    return 0


def _attach_pci(conn: Any, host: Any, doc: dict[str, Any], said: Any) -> None:
    """`ztui attach zadv1 --pci ADDRESS` for every PCI function: libvirt binds a managed one to vfio-pci."""
    from ztui.host.scan import local_inventory
    from ztui.model import HostDeviceKind
    from ztui.ops.attach.plan import AttachRequest, BadRequest, GuestFacts, plan_attach
    from ztui.ops.attach.probe import HostProbe

    guest = next(g for g in host.guests if g.name == "zadv1")
    probe = HostProbe.for_connection(conn)
    doc["attach"] = {}
    for dev in local_inventory().of_kind(HostDeviceKind.PCI):
        try:
            plan = plan_attach(AttachRequest("zadv1", "pci", dev.id), GuestFacts(guest, guest, True), probe)
        except BadRequest as exc:
            doc["attach"][dev.id] = {"refused": str(exc)}
            said(f"attach --pci {dev.id}", str(exc))
            continue
        doc["attach"][dev.id] = {"notes": list(plan.notes)}
        for note in plan.notes:
            said(f"attach --pci {dev.id}", note)


def _preflight(conn: Any, doc: dict[str, Any], said: Any) -> None:
    """The preflight of a guest migrating here, its vfio-ccw mdev on each of this host's volumes in turn (the
    source is described by its node devices, as the preflight reads them)."""
    from ztui.libvirt.link import HostLink
    from ztui.libvirtxml.domain import parse_domain
    from ztui.model import Fact, GuestState, HostDevice, HostDeviceKind
    from ztui.ops.migrate.plan import MigrationOptions
    from ztui.ops.migrate.preflight import assess
    from ztui.ops.migrate.read import MigrationHost, read_migration_host

    def source(ccw_uuid: str, uid: str, busid: str = "0.0.5c3f", ap: str = "0c.0038\n0c.0039") -> MigrationHost:
        facts = (Fact("uid", uid, "udev"),) if uid else ()
        return MigrationHost("qemu+ssh://zsrc/system", devices=(
            HostDevice(HostDeviceKind.MDEV, "mdev_src", ccw_uuid, parent="css_0_0_0023"),
            HostDevice(HostDeviceKind.CSS, "css_0_0_0023", "0.0.0023",
                       facts=(Fact("channel_dev_addr", busid, "libvirt"),)),
            HostDevice(HostDeviceKind.CCW, "ccw_" + busid.replace(".", "_"), busid, driver="dasd-eckd", facts=facts),
            HostDevice(HostDeviceKind.MDEV, "mdev_src_ap", MIG_AP, parent="ap_matrix",
                       facts=(Fact("matrix", ap, "udev"),))))

    def guest(ccw_uuid: str) -> Any:
        return replace(parse_domain(MIGRATING.format(ccw=ccw_uuid, ap=MIG_AP)), state=GuestState.RUNNING)

    def volume(busid: str) -> str:
        return f"IBM.750000000DXP71.{busid[-4:-2]}00.{busid[-2:]}"

    scenarios = {f"volume of {b}": (MIG_CCW, source(MIG_CCW, volume(b))) for b in
                 ("0.0.6000", "0.0.6001", "0.0.6002", "0.0.6003", "0.0.6004")}
    scenarios["missing on the source"] = (MIG_CCW, MigrationHost("qemu+ssh://zsrc/system", devices=(
        HostDevice(HostDeviceKind.MDEV, "mdev_other", "00000000-0000-4000-8000-0000000000aa", parent=""),
        HostDevice(HostDeviceKind.CSS, "", "0.0.0000", facts=(Fact("dev_busid", "0.0.6000", "udev"),)))))
    other = "7e57ad11-ce5a-4b1e-9d2c-6a0b1c2d3e4f"  # zadv2's mdev here, on 0.0.6005
    scenarios["same UUID on another DASD"] = (other, source(other, volume("0.0.6002")))
    scenarios["same UUID, same volume, a guest has it"] = (other, source(other, "", busid="0.0.6005"))
    scenarios["free APQN"] = (MIG_CCW, source(MIG_CCW, volume("0.0.6002"), ap="0d.0005"))
    for name, (uuid, src) in scenarios.items():
        g = guest(uuid)
        dest = read_migration_host(HostLink(URI, conn), g, devices=True)
        check = assess(g, MigrationOptions(unsafe=True), dest, src)
        doc["preflight"][name] = [f.text for f in check.findings if f.code == "equivalent"]
        for finding in check.findings:
            said(f"preflight {name}", finding.text)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main(sys.argv[1], "--misread" in sys.argv[2:]))
