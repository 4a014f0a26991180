"""Reads spread over several connections and calls in flight give what one call after the other gives.

A host far away is read over extra connections, with its device records read beside the guests' XML and
every document parsed by the thread that fetched it (`ztui.libvirt.reader.spread_for`). The test driver
stands in for the daemon here: each `test://FILE` open is an instance of its own with the same guests, so
extra connections list the same domains under handles of their own, as a daemon's would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libvirt
import pytest

from ztui.lab.testdriver import write_testdriver
from ztui.libvirt import reader
from ztui.libvirt.hostrecords import read_host_records, read_networks, read_node_devices, read_pool_volumes
from ztui.libvirt.reader import (
    SpareConnection,
    Spread,
    close_spare,
    list_host,
    open_spare,
    read_guest,
    read_guests,
    spread_for,
)

FAR = Spread(connections=4, in_flight=5, overlap=True)


@pytest.fixture
def host_file(tmp_path: Path) -> Path:
    path = tmp_path / "host.xml"
    write_testdriver(path, 70)
    return path


@pytest.fixture
def conn(host_file: Path) -> Iterator[libvirt.virConnect]:
    opened = libvirt.open(f"test://{host_file}")
    yield opened
    opened.close()


def test_one_function_says_how_a_host_is_read() -> None:
    near = spread_for("test:///default", 1000)
    assert (near.connections, near.overlap) == (1, False)
    far = spread_for("qemu+tcp://lpar7.example.com/system", 1000)
    assert far.connections > 1 and far.in_flight > 5 and far.overlap
    few = spread_for("qemu+tcp://lpar7.example.com/system", 10)
    assert few.connections == 1 and few.overlap  # not worth a connection, still worth overlapping


def test_far_hosts_read_at_once_share_the_calls() -> None:
    far = "qemu+ssh://lpar{}.example.com/system"
    try:
        reader.read_at_once([far.format(1), "test:///default", "qemu:///system"])  # one far host: alone
        alone = spread_for(far.format(1), 1000)
        assert (alone.connections, alone.records_in_flight) == (4, 64)
        reader.read_at_once([far.format(i) for i in range(16)])
        each = spread_for(far.format(1), 1000)
        assert (each.connections, each.in_flight, each.records_in_flight) == (1, alone.in_flight, 16)
        assert spread_for("test:///default", 1000).records_in_flight == 1  # near: one by one
    finally:
        reader.read_at_once([])


def test_spread_reads_give_the_serial_reads_guests_in_the_same_order(conn: libvirt.virConnect,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    serial = read_guests(conn)
    monkeypatch.setattr(reader, "spread_for", lambda uri, guests: FAR)
    listing = list_host(conn)
    spare = open_spare(conn, FAR)
    try:
        assert len(spare) == FAR.connections - 1
        assert all(len(s.handles) == 70 for s in spare)
        assert read_guests(conn, listing=listing, spare=spare) == serial  # parsed by the fetching threads
        assert read_guests(conn) == serial  # the spare connections opened (and closed) by the read itself
    finally:
        close_spare(spare)
    assert [g.name for g in serial] == sorted(g.name for g in serial) and len(serial) == 70


def test_named_guests_keep_the_order_named_when_spread(conn: libvirt.virConnect,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    names = [d.name() for d in conn.listAllDomains(0)][::-1][:40]
    serial = read_guests(conn, names)
    monkeypatch.setattr(reader, "spread_for", lambda uri, guests: FAR)
    assert [g.name for g in read_guests(conn, names)] == names
    assert read_guests(conn, names) == serial


def test_an_extra_connection_that_fails_leaves_the_read_to_the_first(host_file: Path,
                                                                    conn: libvirt.virConnect,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    serial = read_guests(conn)
    monkeypatch.setattr(reader, "spread_for", lambda uri, guests: FAR)
    host_file.unlink()  # the first connection is open; no other can be opened now
    assert open_spare(conn, FAR) == []
    assert read_guests(conn) == serial


def test_an_extra_connection_that_cannot_list_is_read_through_the_first(conn: libvirt.virConnect,
                                                                        host_file: Path) -> None:
    dead = libvirt.open(f"test://{host_file}")
    dead.close()
    spare = [SpareConnection.listing(libvirt.open(f"test://{host_file}")), SpareConnection(dead, {})]
    try:
        domains = conn.listAllDomains(0)
        assert reader._fetch_spread(domains, spare, 5) == reader._fetch_on(domains)
    finally:
        close_spare(spare[:1])


def test_records_read_with_calls_in_flight_equal_those_read_one_by_one(conn: libvirt.virConnect) -> None:
    assert len(read_node_devices(conn)) > 100
    assert read_node_devices(conn, 5) == read_node_devices(conn)
    assert read_networks(conn, 5) == read_networks(conn)
    uri = conn.getURI()
    assert read_host_records(conn, uri, udev=(), in_flight=5) == read_host_records(conn, uri, udev=())


def test_pool_volumes_read_with_calls_in_flight_equal_those_read_one_by_one() -> None:
    pools = libvirt.open("test:///default")
    try:
        second = pools.storagePoolDefineXML("<pool type='dir'><name>second</name><target><path>/second</path>"
                                            "</target></pool>", 0)
        second.create(0)
        for pool in (pools.storagePoolLookupByName("default-pool"), second):
            for i in range(4):
                pool.createXML(f"<volume><name>v{i}.img</name><capacity>1048576</capacity></volume>", 0)
        serial = read_pool_volumes(pools)
        assert len(serial) == 8 and {v.pool for v in serial} == {"default-pool", "second"}
        assert read_pool_volumes(pools, 5) == serial
    finally:
        pools.close()


def test_a_guest_read_at_once_equals_one_read_call_by_call(conn: libvirt.virConnect) -> None:
    for dom in conn.listAllDomains(0)[:5]:
        assert read_guest(dom, at_once=True) == read_guest(dom)
    gone = conn.listAllDomains(0)[0]
    if gone.isActive():
        gone.destroy()
    if gone.isPersistent():
        gone.undefine()
    assert read_guest(gone, at_once=True) is None


def test_a_lifecycle_event_names_the_state_it_leaves_a_guest_in() -> None:
    from ztui.libvirt.session_events import lifecycle_state
    from ztui.model import GuestState

    assert lifecycle_state(libvirt.VIR_DOMAIN_EVENT_SUSPENDED, 0) is GuestState.PAUSED
    assert lifecycle_state(libvirt.VIR_DOMAIN_EVENT_RESUMED, 0) is GuestState.RUNNING
    assert lifecycle_state(libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED) is \
        GuestState.SHUTOFF
    assert lifecycle_state(libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_MIGRATED) is None
    assert lifecycle_state(libvirt.VIR_DOMAIN_EVENT_DEFINED, 0) is None


def _session_updates(uri: str, act: Any = None) -> list[Any]:
    """Every update a session sends for `uri` until its full read is in, and for a second after `act`."""
    from ztui.libvirt.session import HostSession
    from ztui.libvirt.session_updates import HostUp

    updates: list[Any] = []
    arrived = threading.Event()

    def sink(update: Any) -> None:
        updates.append(update)
        arrived.set()

    session = HostSession(uri, sink, udev=False)
    session.start()
    try:
        deadline = time.monotonic() + 20
        while not any(isinstance(u, HostUp) and any(g.devices for g in u.host.guests) for u in updates):
            assert time.monotonic() < deadline, "no full read"
            arrived.wait(0.05)
        if act is not None:
            conn = session.connection
            assert conn is not None
            act(conn)
            time.sleep(1.0)
    finally:
        session.stop()
    return updates


def test_a_far_session_shows_what_a_near_one_shows_and_states_from_events_first(
        host_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a far host's spread (extra connections, records beside the XML, registrations at once), the
    session's full read is the near one's; a lifecycle event's state is handed over before the re-read."""
    from ztui.libvirt import session as session_module
    from ztui.libvirt.session_updates import GuestUpdated, HostUp
    from ztui.model import GuestState

    uri = f"test://{host_file}"
    near = [u for u in _session_updates(uri) if isinstance(u, HostUp)][-1].host
    monkeypatch.setattr(reader, "spread_for", lambda uri, guests: FAR)
    monkeypatch.setattr(session_module, "spread_for", lambda uri, guests: FAR)
    monkeypatch.setattr(session_module, "SUMMARY_FIRST", 10)
    running: list[str] = []

    def pause_one(conn: libvirt.virConnect) -> None:
        dom = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_RUNNING)[0]
        running.append(dom.UUIDString())
        dom.suspend()

    updates = _session_updates(uri, pause_one)
    ups = [u for u in updates if isinstance(u, HostUp)]
    assert len(ups[0].host.guests) == 70 and not any(g.devices for g in ups[0].host.guests)  # the list first
    assert ups[-1].host.guests == near.guests
    paused = [u.guest for u in updates if isinstance(u, GuestUpdated) and u.guest.uuid == running[0]]
    assert [g.state for g in paused] == [GuestState.PAUSED, GuestState.PAUSED]  # the event's, then the read's
    before = next(g for g in near.guests if g.uuid == running[0])
    assert paused[0].devices == before.devices and paused[1] == paused[0]


def test_a_state_from_an_event_older_than_a_read_is_not_shown_over_it(conn: libvirt.virConnect,
                                                                       host_file: Path) -> None:
    """A read already queued when a lifecycle event comes sees what that event named and more: when the guest
    changed again before the read, the event's state (handed over after the read) must not undo it."""
    from ztui.libvirt.reader import read_guest
    from ztui.libvirt.session import HostSession
    from ztui.libvirt.session_jobs import Job
    from ztui.model import GuestState

    shown: list[Any] = []
    session = HostSession(f"test://{host_file}", shown.append)
    dom = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_RUNNING)[0]
    uuid = dom.UUIDString()
    guest = read_guest(dom)
    assert guest is not None and guest.state is GuestState.RUNNING
    session._conn = conn
    session._copy.raw[uuid] = session._copy.sent[uuid] = guest
    session.refresh_guest(uuid, dom)  # a device event: a read queued
    session._jobs.ask_state(uuid, GuestState.RUNNING)  # then a lifecycle event (its own read is the queued one)
    session.refresh_guest(uuid, dom)
    dom.destroy()  # the guest stops before the read; its own event is not dispatched yet
    while not session._jobs.empty():
        kind, arg = session._jobs.get()
        {Job.GUEST: session._read_guest, Job.STATE: session._state_seen}[kind](arg)
    assert session._copy.sent[uuid].state is GuestState.SHUTOFF
    assert shown[-1].guest.state is GuestState.SHUTOFF


def test_a_connection_whose_first_read_fails_is_let_go_before_the_next_try(host_file: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The first full read failing after the events were registered: that connection is deregistered and
    closed, and the next try reads the host over a new one."""
    from ztui.libvirt.eventloop import ensure_event_loop
    from ztui.libvirt.session import HostSession
    from ztui.libvirt.session_updates import HostDown, HostUp

    ensure_event_loop()  # as `HostSession.start` does
    session = HostSession(f"test://{host_file}", lambda update: None, udev=False)
    session._delays = (0.01,)
    failed: list[libvirt.virConnect] = []
    read_full = session._read_full

    def fails_once(conn: libvirt.virConnect, *args: Any, **kwargs: Any) -> Any:
        if not failed:
            failed.append(conn)
            raise libvirt.libvirtError("the daemon went away mid-read")
        return read_full(conn, *args, **kwargs)

    monkeypatch.setattr(session, "_read_full", fails_once)
    sent: list[Any] = []
    monkeypatch.setattr(session, "_sink", sent.append)
    session._connect_until_up()
    try:
        assert [type(u) for u in sent] == [HostDown, HostUp]
        assert session.connection is not None and session.connection is not failed[0]
        with pytest.raises(libvirt.libvirtError):
            failed[0].getURI()  # closed
    finally:
        session._close()
