"""`ztui tree --json` split between two processes prints exactly what one process prints."""

from __future__ import annotations

import os
from typing import Any

import pytest

from ztui.cli import tree_split
from ztui.cli.tree import read_connected_hosts
from ztui.lab.testdriver import write_testdriver
from ztui.libvirt.link import HostLink
from ztui.libvirt.reader import FetchedGuest
from ztui.model import Host
from ztui.report.tree_json import host_json_compact

libvirt: Any = pytest.importorskip("libvirt", reason="libvirt-python is not installed")
GUESTS = 30


@pytest.fixture(scope="module")
def host_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("split") / "host.xml"
    write_testdriver(path, GUESTS)
    return f"test://{path}"


def one_process(uri: str, names: list[str]) -> str:
    (host,), errors = read_connected_hosts([uri], False, names)
    assert not errors and isinstance(host, Host)
    return host_json_compact(host)


def split(uri: str, names: list[str]) -> str:
    conn = libvirt.open(uri)
    try:
        return tree_split.host_json(HostLink(uri, conn), names, None)
    finally:
        conn.close()


@pytest.fixture
def always_split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tree_split, "SPLIT_FROM", 2)
    if len(os.sched_getaffinity(0)) < 2:
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})


@pytest.mark.usefixtures("always_split")
@pytest.mark.parametrize("names", [[], ["lnx003", "lnx001", "lnx020"]], ids=["all", "named"])
def test_two_processes_print_what_one_prints(host_uri: str, names: list[str]) -> None:
    assert tree_split.can_split(GUESTS)
    assert split(host_uri, names) == one_process(host_uri, names)


@pytest.mark.usefixtures("always_split")
def test_a_failing_child_leaves_the_whole_to_this_process(host_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    parent = os.getpid()
    resolve_part = tree_split._resolve_part

    def fails_in_the_child(records: Any, part: Any) -> Any:
        if os.getpid() != parent:
            raise RuntimeError("the child breaks")
        return resolve_part(records, part)

    monkeypatch.setattr(tree_split, "_resolve_part", fails_in_the_child)
    assert split(host_uri, []) == one_process(host_uri, [])


def test_small_hosts_are_done_in_one_process() -> None:
    assert not tree_split.can_split(tree_split.SPLIT_FROM - 1)


def test_a_half_whose_parsed_names_differ_from_libvirts_is_refused(host_uri: str) -> None:
    conn = libvirt.open(host_uri)
    try:
        dom = conn.listAllDomains(0)[0]
        fetched = FetchedGuest(dom.UUIDString(), "not-its-name", None, True, dom.XMLDesc(0))
    finally:
        conn.close()
    assert tree_split._resolve_part(None, [fetched]) is None  # type: ignore[arg-type]


@pytest.mark.usefixtures("always_split")
def test_no_second_process_to_be_had_leaves_the_whole_to_this_process(host_uri: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    before = len(os.listdir("/proc/self/fd"))
    assert split(host_uri, []) == one_process(host_uri, [])
    assert len(os.listdir("/proc/self/fd")) == before  # both ends of the pipe closed


SHARED_DISK = """<node>
  <device>
    <name>block_sdz</name>
    <path>/sys/devices/virtual/block/sdz</path>
    <parent>computer</parent>
    <capability type='storage'><block>/dev/sdz</block><drive_type>disk</drive_type><size>1073741824</size>
      <logical_block_size>512</logical_block_size><num_blocks>2097152</num_blocks></capability>
  </device>
{domains}
</node>"""

DOMAIN = """  <domain type='test'>
    <name>{name}</name><uuid>{uuid}</uuid><memory>524288</memory><vcpu>1</vcpu>
    <os><type arch='s390x' machine='s390-ccw-virtio'>hvm</type></os>
    <devices><disk type='block' device='disk'><source dev='/dev/{dev}'/><target dev='vda' bus='virtio'/></disk>
    </devices>
  </domain>"""


@pytest.mark.usefixtures("always_split")
@pytest.mark.parametrize(("devs", "warned"), [
    ({"g1": "sdz", "g2": "sdy", "g3": "sdx", "g4": "sdz"}, 2),  # one holder in each half
    ({"g1": "sdz", "g2": "sdz", "g3": "sdx", "g4": "sdz"}, 3),  # two in the first half, one in the second
], ids=["one-each", "two-and-one"])
def test_a_sharing_conflict_across_the_halves_is_warned_as_in_one_process(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch, devs: dict[str, str], warned: int) -> None:
    # guests of both halves write the same disk without <shareable/>
    domains = "\n".join(DOMAIN.format(name=n, uuid=f"00000000-0000-0000-0000-00000000000{i}", dev=d)
                        for i, (n, d) in enumerate(devs.items(), start=1))
    path = tmp_path / "shared.xml"
    path.write_text(SHARED_DISK.format(domains=domains))
    uri = f"test://{path}"
    whole = one_process(uri, [])
    encode = tree_split._encode

    def not_in_one_process(*args: Any) -> str:
        raise AssertionError("the halves were done again in one process")

    monkeypatch.setattr(tree_split, "_encode", not_in_one_process)
    text = split(uri, [])
    monkeypatch.setattr(tree_split, "_encode", encode)
    assert text == whole
    assert text.count("is also held by") == warned
