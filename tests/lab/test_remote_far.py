"""A host far away: zlab-a over qemu+tcp behind the lab's latency proxy, read the way ztui reads a remote host
(extra connections, device records beside the guests' XML, each document parsed as it arrives) and kept
current by its events (the event's own handle, the XML, state and persistence asked at once)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import libvirt
import pytest

from tests.lab.support import Lab
from ztui.lab.delay import start_delay_proxy
from ztui.libvirt import reader
from ztui.libvirt.reader import read_guests
from ztui.libvirt.session import HostSession
from ztui.libvirt.session_updates import GuestUpdated, HostUp, Update
from ztui.model import Guest, GuestState

A = "zlab-a"


def _shown(guest: Guest) -> tuple[object, ...]:
    """What the tree shows of a guest and its devices."""
    return (guest.name, guest.uuid, guest.state, guest.persistent,
            tuple((d.kind, d.target, d.alias, d.address_text, d.source) for d in guest.devices))


def _wait(updates: list[Update], arrived: threading.Event, found: Callable[[Update], bool],
          seconds: float = 20) -> Update:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for update in list(updates):
            if found(update):
                return update
        arrived.wait(0.05)
        arrived.clear()
    raise AssertionError("no such update arrived")


def test_a_far_host_is_read_spread_and_kept_current(lab: Lab, conn_a: libvirt.virConnect,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    port = int(lab.tcp_uris[A].split(":")[2].split("/")[0])
    far = start_delay_proxy(port, 10).uri()
    monkeypatch.setattr(reader, "_SPREAD_FROM", 1)  # the lab's few guests: spread all the same
    assert reader.spread_for(far, 3).connections > 1
    near = {g.uuid: _shown(g) for g in read_guests(conn_a)}

    updates: list[Update] = []
    arrived = threading.Event()

    def sink(update: Update) -> None:
        updates.append(update)
        arrived.set()

    session = HostSession(far, sink, readonly=True)
    session.start()
    dom = next(d for d in conn_a.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_RUNNING))
    try:
        up = _wait(updates, arrived, lambda u: isinstance(u, HostUp) and u.host.connected)
        assert isinstance(up, HostUp)
        assert {g.uuid: _shown(g) for g in up.host.guests} == near
        assert session.inventory is not None and session.inventory.volumes  # records read beside

        dom.suspend()  # from outside, as another administrator would
        _wait(updates, arrived, lambda u: isinstance(u, GuestUpdated) and u.guest.uuid == dom.UUIDString()
              and u.guest.state is GuestState.PAUSED)
        dom.resume()
        _wait(updates, arrived, lambda u: isinstance(u, GuestUpdated) and u.guest.uuid == dom.UUIDString()
              and u.guest.state is GuestState.RUNNING)
    finally:
        if dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED:
            dom.resume()
        session.stop()
