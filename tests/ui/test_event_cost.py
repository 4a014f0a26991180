"""What one libvirt event costs the screen: the guest's own line, not the host line or the whole heap."""

from __future__ import annotations

import gc
import weakref

from tests.ui.conftest import wait_until
from ztui.model import GuestState
from ztui.ui.app import ZtuiApp, settle_heap


async def test_state_change_relabels_the_guest_and_leaves_the_host_line(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_until(pilot, lambda: app.fleet.hosts[testdriver_copy].connected)
        tree = app.main.guest_tree  # type: ignore[union-attr]
        host_node = tree.root.children[0]
        host_label = host_node.label
        conn = app.backend.hosts.sessions[testdriver_copy].connection
        assert conn is not None
        dom = conn.lookupByName("idle-paused")
        dom.resume()
        node = tree.find_guest(testdriver_copy, dom.UUIDString())
        assert node is not None
        assert await wait_until(pilot, lambda: "running" in str(node.label))
        # every line below the host repaints when the host's label is set: a state change must not set it
        assert host_node.label is host_label
        assert app.fleet.guest(testdriver_copy, dom.UUIDString()).state is GuestState.RUNNING  # type: ignore[union-attr]
        # a new guest changes the count on the host line
        new = conn.defineXML("<domain type='test'><name>aaa-new</name><memory>8192</memory>"
                             "<os><type>hvm</type></os><devices/></domain>")
        assert await wait_until(pilot, lambda: "10 guests" in str(host_node.label))
        new.undefine()
        assert await wait_until(pilot, lambda: "9 guests" in str(host_node.label))


async def test_loaded_host_is_frozen_out_of_the_collector(testdriver_copy: str) -> None:
    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_until(pilot, lambda: app.fleet.hosts[testdriver_copy].connected)
        assert await wait_until(pilot, lambda: gc.get_freeze_count() > 0)  # once the tree is painted
        guest = next(iter(app.fleet.hosts[testdriver_copy].guests.values()))
        assert not any(o is guest for o in gc.get_objects())  # the collector no longer walks the model


def test_settle_heap_hands_an_earlier_snapshot_back_to_the_collector() -> None:
    class Cycle:
        me: object = None

    obj = Cycle()
    obj.me = obj  # only the cycle collector can free it
    ref = weakref.ref(obj)
    settle_heap()  # alive now: frozen
    del obj  # garbage inside the frozen generation (a guest of a snapshot a resync replaced)
    settle_heap()
    assert ref() is None


async def test_label_width_matches_the_rendered_label(testdriver_copy: str) -> None:
    """The tree measures every line after a structural change; the short cut must agree with Textual's."""
    from rich.style import Style

    app = ZtuiApp([testdriver_copy])
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_until(pilot, lambda: app.fleet.hosts[testdriver_copy].connected)
        tree = app.main.guest_tree  # type: ignore[union-attr]
        for guest_node in tree.root.children[0].children[:4]:
            guest_node.expand_all()
        await pilot.pause(0.1)
        nodes = [tree.root]
        kinds = set()
        while nodes:
            node = nodes.pop()
            nodes.extend(node.children)
            if node.data is not None:
                kinds.add((node.data.kind, node.allow_expand, node.is_expanded))
            assert tree.get_label_width(node) == tree.render_label(node, Style(), Style()).cell_len
        assert {"host", "guest", "device", "step"} <= {k for k, _, _ in kinds}
        assert {(True, True), (True, False), (False, False)} <= {(a, e) for _, a, e in kinds}
