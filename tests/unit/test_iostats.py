"""Live I/O arithmetic (`ztui.ops.iostats`): which devices are read, rates between two reads. Pure."""

from __future__ import annotations

from ztui.libvirtxml.domain import parse_domain
from ztui.model import GuestState
from ztui.ops.iostats import IoCounters, IoKind, IoSample, IoSource, human_rate, io_sources, rates

DOMAIN = """<domain type='kvm'><name>g</name><uuid>8b1d32a5-8c2b-4e0c-9a57-1f6f3f0a9c11</uuid>
<devices>
<disk type='file' device='disk'><source file='/var/lib/libvirt/images/g.qcow2'/><target dev='vda' bus='virtio'/></disk>
<disk type='file' device='cdrom'><target dev='sda' bus='scsi'/></disk>
<interface type='network'><mac address='52:54:00:aa:bb:01'/><source network='default'/><target dev='vnet3'/>
<model type='virtio'/></interface>
<interface type='user'><mac address='52:54:00:aa:bb:02'/><model type='virtio'/></interface>
<memballoon model='virtio'/>
</devices></domain>"""


def test_every_disk_and_interface_of_a_guest_or_one_device() -> None:
    guest = parse_domain(DOMAIN, state=GuestState.RUNNING)
    found = io_sources(guest)
    assert [(s.kind, s.name, s.path) for s in found] == [
        (IoKind.BLOCK, "vda", "vda"), (IoKind.BLOCK, "sda", "sda"),
        (IoKind.NET, "52:54:00:aa:bb:01", "vnet3"),  # the host-side device when the live XML names it
        (IoKind.NET, "52:54:00:aa:bb:02", "52:54:00:aa:bb:02"),  # else the MAC
    ]
    balloon = next(d for d in guest.devices if d.kind.value == "balloon")
    assert io_sources(guest, balloon) == ()
    assert [s.name for s in io_sources(guest, guest.devices[0])] == ["vda"]


VDA = IoSource(IoKind.BLOCK, "vda", "vda")
NET = IoSource(IoKind.NET, "mac", "vnet0")


def test_rates_are_per_second_between_two_reads() -> None:
    first = IoSample(10.0, (IoCounters(VDA, (1000, 10, 0, 0)), IoCounters(NET, (500, 5, 100, 1))))
    second = IoSample(12.0, (IoCounters(VDA, (5096, 14, 2048, 2)), IoCounters(NET, (2548, 9, 100, 1))))
    by_name = {r.source.name: r for r in rates(first, second)}
    assert (by_name["vda"].in_bytes, by_name["vda"].in_ops, by_name["vda"].out_bytes, by_name["vda"].out_ops) == \
        (2048.0, 2.0, 1024.0, 1.0)
    assert (by_name["mac"].in_bytes, by_name["mac"].out_bytes) == (1024.0, 0.0)


def test_a_counter_that_went_back_counts_from_zero_and_new_devices_wait() -> None:
    first = IoSample(0.0, (IoCounters(VDA, (10_000, 100, 0, 0)),))
    second = IoSample(1.0, (IoCounters(VDA, (300, 3, 0, 0)), IoCounters(NET, (1, 1, 1, 1))))
    (rate,) = rates(first, second)
    assert rate.source == VDA and rate.in_bytes == 300 and rate.in_ops == 3
    assert rates(second, second) == ()  # no time passed: no rate


def test_human_rate() -> None:
    assert [human_rate(v) for v in (0, 1023, 1536, 5 * 1024 * 1024)] == ["0 B/s", "1023 B/s", "1.5 KiB/s",
                                                                          "5.0 MiB/s"]
