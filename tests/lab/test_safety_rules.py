"""Refused before anything changes, on the lab's real guests: a device libvirt cannot unplug, the boot
device moved around a migration, a `--copy-storage` onto the storage both hosts share. Each is exit 2 with
the reason, the guest keeps every device, and no journal entry is written."""

from __future__ import annotations

import json
from pathlib import Path

import libvirt

from tests.lab.support import Lab
from tests.lab.test_lifecycle import ztui

A, B = "zlab-a", "zlab-b"
GUEST = "lnxa01"


def devices(lab: Lab) -> str:
    conn = libvirt.open(lab.uris[A])
    try:
        return str(conn.lookupByName(GUEST).XMLDesc(0).split("<devices>")[1])
    finally:
        conn.close()


def no_journal(state: Path) -> bool:
    return not (state / "ztui" / "journal").exists() or not list((state / "ztui" / "journal").iterdir())


def test_detaching_the_root_pci_controller_is_bad_input_with_no_journal_entry(lab: Lab, tmp_path: Path) -> None:
    before = devices(lab)
    for name, words in (("pci0", "root PCI bus"), ("scsi0", "busy: sda"), ("sclp0", "SCLP console"),
                        ("balloon0", "balloon")):
        result = ztui("detach", GUEST, name, "-c", lab.uris[A], state=tmp_path)
        assert result.returncode == 2, result.stdout + result.stderr
        assert words in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr
    assert devices(lab) == before and no_journal(tmp_path)
    audit = [json.loads(line) for line in (tmp_path / "ztui" / "audit.jsonl").read_text().splitlines()]
    assert [(r["action"], r["result"]) for r in audit] == [("detach", "bad request")] * 4


def test_the_boot_device_of_a_guest_started_from_a_kernel_file_is_named_and_nothing_moves(lab: Lab,
                                                                                          tmp_path: Path) -> None:
    """lnxa01 names no boot device, so libvirt gave it <boot dev='hd'/>: vda. But it starts from the idle
    kernel file (<os><kernel>), not from vda, so moving vda is for the administrator to judge: a note that
    says so. The root PCI bus asked to move as well is refused, so nothing changes."""
    result = ztui("migrate", GUEST, "--to", lab.uris[B], "-c", lab.uris[A], "--unsafe", "--detach", "vda",
                  "--detach", "pci0", "--json", state=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    preflight = json.loads(result.stdout.splitlines()[0])
    (finding,) = [f for f in preflight["findings"] if f["code"] == "boot-device"]
    assert finding["severity"] == "note" and finding["device"] == "vda" and "kernel file" in finding["text"]
    assert any(f["code"] == "detach" and f["device"] == "pci0" and f["severity"] == "blocker"
               for f in preflight["findings"])
    assert "vda" in devices(lab) and no_journal(tmp_path)


def test_copy_storage_onto_shared_storage_is_refused_in_the_preflight(lab: Lab, tmp_path: Path) -> None:
    """The lab's images are on storage both hosts share: QEMU would copy each disk onto itself and fail
    with block-export-add "Block node is read-only" (reproduced by hand); the preflight says so first."""
    result = ztui("migrate", GUEST, "--to", lab.uris[B], "-c", lab.uris[A], "--copy-storage", "--json",
                  state=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    preflight = json.loads(result.stdout.splitlines()[0])
    copied = [f for f in preflight["findings"] if f["code"] == "copy-storage"]
    assert {f["device"] for f in copied} == {"vda", "vdb", "vdc", "sda"}
    assert all(f["severity"] == "blocker" and "onto itself" in f["text"] for f in copied)
    conn = libvirt.open(lab.uris[A])
    try:
        assert conn.lookupByName(GUEST).isActive()
    finally:
        conn.close()
    assert no_journal(tmp_path)


def test_a_start_refused_for_missing_storage_names_the_disk_and_what_is_behind_it(lab: Lab, tmp_path: Path) -> None:
    """zlnx03's LUN is in the simulated z16's facts but not in zlab-z's /dev: libvirt refuses, and ztui
    says which disk, which host device and what its own chain has behind it, before libvirt's words."""
    result = ztui("start", "zlnx03", "-c", lab.z_uri, state=tmp_path, lab=lab)
    assert result.returncode == 1, result.stdout + result.stderr
    line = result.stderr.splitlines()[-1]
    assert line.index("disk sda: its host device /dev/mapper/36005076303ffc5620000000000001002 is missing on "
                      "zlab-z") < line.index("libvirt: Cannot access storage file")
    assert "LUN 0x4001400200000000" in line and "FCP channel 0.0.1700" in line
