"""Host checks an attach asks before changing anything, on a sysfs tree written for each case."""

from __future__ import annotations

from pathlib import Path

from ztui.host.files import read_mounts
from ztui.libvirtxml.network import parse_network
from ztui.ops.attach.probe import BlockInfo, HostProbe


def _disk(sysfs: Path, name: str, majmin: str, partitions: dict[str, str]) -> Path:
    block = sysfs / "dev" / "block" / majmin
    block.mkdir(parents=True)
    (block / "dev").write_text(majmin + "\n")
    for part, part_majmin in partitions.items():
        (block / part).mkdir()
        (block / part / "partition").write_text(part[-1] + "\n")
        (block / part / "dev").write_text(part_majmin + "\n")
        (sysfs / "class" / "block" / part / "holders").mkdir(parents=True)
    (sysfs / "class" / "block" / name / "holders").mkdir(parents=True)
    return block


def test_partitions_of_a_whole_disk_are_read_from_sysfs(tmp_path: Path) -> None:
    block = _disk(tmp_path, "sdc", "8:32", {"sdc1": "8:33", "sdc2": "8:34"})
    (block / "queue").mkdir()  # a subdirectory that is no partition
    assert HostProbe.partitions(block) == (("sdc1", "8:33"), ("sdc2", "8:34"))


def test_a_disk_is_busy_when_one_of_its_partitions_is_mounted(tmp_path: Path) -> None:
    mounted = next(m.majmin for m in read_mounts() if m.majmin)  # a file system this machine has mounted
    _disk(tmp_path, "sdc", "259:9999", {"sdc1": mounted})
    probe = HostProbe(None, local=True, sysfs=str(tmp_path))
    info = BlockInfo("/dev/sdc", "/dev/sdc", "259:9999", scsi=True, partitions=(("sdc1", mounted),))
    busy = probe.block_busy(info)
    assert busy is not None and busy.startswith("/dev/sdc is in use on this host: /dev/sdc1 is mounted on ")
    # the same disk without that partition is free
    assert probe.block_busy(BlockInfo("/dev/sdc", "/dev/sdc", "259:9999", scsi=True)) is None


def test_a_disk_is_busy_when_one_of_its_partitions_is_held(tmp_path: Path) -> None:
    _disk(tmp_path, "sdc", "250:32", {"sdc1": "250:33"})
    (tmp_path / "class" / "block" / "sdc1" / "holders" / "dm-3").mkdir()
    probe = HostProbe(None, local=True, sysfs=str(tmp_path))
    info = BlockInfo("/dev/sdc", "/dev/sdc", "250:32", scsi=True, partitions=(("sdc1", "250:33"),))
    assert probe.block_busy(info) == ("/dev/sdc is in use on this host: /dev/sdc1 is held by dm-3 "
                                      "(use that device instead)")
    (tmp_path / "class" / "block" / "dm-3" / "dm").mkdir(parents=True)
    (tmp_path / "class" / "block" / "dm-3" / "dm" / "uuid").write_text("LVM-abcdef\n")
    (tmp_path / "class" / "block" / "dm-3" / "dm" / "name").write_text("vg0-lv_data\n")
    assert probe.block_busy(info) == ("/dev/sdc is in use on this host: /dev/sdc1 is an LVM physical volume (of "
                                      "vg0-lv_data) (use that device instead)")


def test_network_xml_reader() -> None:
    nat = parse_network("<network><name>default</name><forward mode='nat'/><bridge name='virbr0'/></network>")
    assert nat is not None and (nat.name, nat.bridge, nat.forward_mode) == ("default", "virbr0", "nat")
    macvtap = parse_network("<network><name>z</name><forward mode='bridge'><interface dev='encbd00'/>"
                            "<interface dev='encbe00'/></forward></network>", active=False)
    assert macvtap is not None and macvtap.forward_devs == ("encbd00", "encbe00") and macvtap.active is False
    sriov = parse_network("<network><name>vf</name><forward mode='hostdev'><pf dev='eth3'/></forward></network>")
    assert sriov is not None and sriov.forward_devs == ("eth3",)
    isolated = parse_network("<network><name>iso</name><bridge name='virbr9'/></network>")
    assert isolated is not None and isolated.forward_mode == ""
    assert parse_network("<network") is None
