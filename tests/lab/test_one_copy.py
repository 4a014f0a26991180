"""One guest, one running copy, on the lab's two simulated LPARs that share their DASD and LUNs.

After a plain live migration zlab-z keeps zlnx02's definition, shut off; starting it there would run a
second QEMU on the same volumes. The report says what was left behind; `start` refuses, naming zlab-y,
unless forced; the TUI marks the definition and asks before `s` starts it.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.lab.support import Lab
from tests.lab.test_lifecycle import audit, own_guest, ztui  # noqa: F401 - the fixture
from tests.ui.conftest import wait_until
from ztui.ui.app import ZtuiApp
from ztui.ui.noderef import NodeRef
from ztui.ui.screens.confirm import ConfirmScreen
from ztui.ui.screens.main import MainScreen

GUEST = "zlnx02"


def state_on(uri: str, name: str) -> int | None:
    conn = libvirt.open(uri)
    try:
        return int(conn.lookupByName(name).state()[0])
    except libvirt.libvirtError:
        return None
    finally:
        conn.close()


@pytest.fixture(scope="module")
def moved(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """zlnx02 migrated live to zlab-y without --persistent/--undefine-source; back to zlab-z afterwards."""
    state = tmp_path_factory.mktemp("moved")
    result = ztui("migrate", GUEST, "--to", lab.z_twin_uri, "-c", lab.z_uri, "--json", state=state)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    try:
        yield report
    finally:
        conn = libvirt.open(lab.z_uri)
        try:  # a forced copy a failed test left behind goes first
            dom = conn.lookupByName(GUEST)
            if dom.isActive() and state_on(lab.z_twin_uri, GUEST) is not None:
                dom.destroy()
        finally:
            conn.close()
        back = ztui("migrate", GUEST, "--to", lab.z_uri, "-c", lab.z_twin_uri, state=state)
        assert back.returncode == 0, back.stdout + back.stderr


def test_the_report_says_the_source_keeps_a_definition_and_how_to_remove_it(lab: Lab,
                                                                            moved: dict[str, object]) -> None:
    assert moved["ok"] and moved["source_copy"] == "defined, shut off", moved
    leftover = moved["leftover"]
    assert isinstance(leftover, list) and leftover[-1].endswith(f"undefine {GUEST}")
    assert any(" define " in c and lab.z_twin_uri in c for c in leftover)  # transient there: defined first


def test_start_on_the_source_is_refused_naming_where_it_runs(lab: Lab, moved: dict[str, object],
                                                            tmp_path: Path) -> None:
    result = ztui("--lab", "start", GUEST, "-c", "zlab-z", state=tmp_path, lab=lab)
    assert result.returncode == 2, result.stdout + result.stderr
    first = result.stderr.splitlines()[0]
    assert "zlab-y" in first and "nothing was changed" in first and "/dev/disk/by-path/ccw-0.0.5c05" in first
    assert "lock manager" in result.stderr  # the lab's daemons have none: said once per host
    assert state_on(lab.z_uri, GUEST) == libvirt.VIR_DOMAIN_SHUTOFF
    assert [(r["action"], r["result"]) for r in audit(tmp_path)] == [("lifecycle-start", "refused")]


def test_a_host_whose_daemon_died_under_its_guest_is_not_taken_for_one_without_it(lab: Lab, moved: dict[str, object],
                                                                                 tmp_path: Path) -> None:
    """zlab-y's libvirtd killed: its QEMU still runs zlnx02 (the supervisor keeps it), but nobody answers
    for it. The start on zlab-z is refused, naming the host that could not be asked."""
    from ztui.lab.daemon import daemon_pid
    from ztui.lab.hosts import start_lab
    from ztui.lab.paths import LabPaths

    pid = daemon_pid(LabPaths.for_dir(lab.base).host("zlab-y"))
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    try:
        deadline = time.monotonic() + 10
        while daemon_pid(LabPaths.for_dir(lab.base).host("zlab-y")) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        result = ztui("start", GUEST, "-c", lab.z_uri, state=tmp_path, lab=lab)  # --lab would restart it
        assert result.returncode == 2, result.stdout + result.stderr
        assert "could not ask zlab-y" in result.stderr and "nothing was changed" in result.stderr
        assert state_on(lab.z_uri, GUEST) == libvirt.VIR_DOMAIN_SHUTOFF
    finally:
        start_lab(hosts=2, base_dir=lab.base)
    assert state_on(lab.z_twin_uri, GUEST) == libvirt.VIR_DOMAIN_RUNNING  # the restarted daemon found it again


def test_force_starts_the_second_copy_and_says_so(lab: Lab, moved: dict[str, object], tmp_path: Path) -> None:
    result = ztui("start", GUEST, "-c", lab.z_uri, "--force", state=tmp_path, lab=lab)
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "--force" in result.stderr and "zlab-y" in result.stderr
        assert state_on(lab.z_uri, GUEST) == libvirt.VIR_DOMAIN_RUNNING
        (record,) = audit(tmp_path)
        assert record["result"] == "done" and "zlab-y" in record["forced"]
    finally:
        conn = libvirt.open(lab.z_uri)
        try:
            conn.lookupByName(GUEST).destroy()
        finally:
            conn.close()


async def test_the_tree_marks_it_and_s_asks_naming_both_hosts(lab: Lab, moved: dict[str, object],
                                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    z, y = lab.z_uri, lab.z_twin_uri
    app = ZtuiApp([z, y], host_udev=False)
    async with app.run_test(size=(160, 50)) as pilot:
        assert await wait_until(pilot, lambda: all(app.fleet.hosts[u].connected for u in (z, y)), 30)
        guest = next(g for g in app.fleet.hosts[z].guests.values() if g.name == GUEST)
        main = app.main
        assert main is not None
        node = main.guest_tree.find_guest(z, guest.uuid)
        assert node is not None and "runs on zlab-y" in str(node.label)
        twin = main.guest_tree.find_guest(y, guest.uuid)
        assert twin is not None and "runs on" not in str(twin.label)
        main.guest_tree.select_ref(NodeRef("guest", z, guest.uuid))
        await pilot.pause(0.05)
        await pilot.press("s")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 20), "s did not ask"
        screen = app.screen
        assert isinstance(screen, ConfirmScreen)
        assert screen.host == "zlab-z" and "zlab-y" in screen.question and "ccw-0.0.5c05" in screen.question
        await pilot.press("n")
        assert await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.pause(0.5)
    assert state_on(z, GUEST) == libvirt.VIR_DOMAIN_SHUTOFF


def test_a_guest_that_runs_nowhere_else_starts_as_before(lab: Lab, own_guest: str,  # noqa: F811
                                                          tmp_path: Path) -> None:
    result = ztui("--lab", "start", own_guest, state=tmp_path, lab=lab)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert state_on(lab.uris["zlab-b"], own_guest) == libvirt.VIR_DOMAIN_RUNNING


def test_a_start_while_another_ztui_starts_the_same_guest_is_refused_before_it_asks(
        lab: Lab, own_guest: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """Another ztui process between its check and its start (on whichever host): this one must not pass
    its own check meanwhile and start a second copy. It is refused at once (exit 1), saying who holds it."""
    from ztui.ops.safety.guestlock import guest_lock
    from ztui.ops.safety.other_copies import EVERY_HOST

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    conn = libvirt.open(lab.uris["zlab-b"])
    try:
        uuid = conn.lookupByName(own_guest).UUIDString()
    finally:
        conn.close()
    with guest_lock(EVERY_HOST, uuid, guest=own_guest, action="start"):
        result = ztui("start", own_guest, "-c", lab.uris["zlab-b"], state=tmp_path, lab=lab)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{own_guest} is busy: start by pid {os.getpid()}" in result.stderr
    assert state_on(lab.uris["zlab-b"], own_guest) == libvirt.VIR_DOMAIN_SHUTOFF
