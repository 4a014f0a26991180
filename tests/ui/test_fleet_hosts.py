"""Several hosts in one tree: a plain `ztui` opens the saved hosts by their names, a host saved read-only
refuses changes, a host that accepts the connection and then says nothing is shown as such without holding
up the others, and a host's reason for not being connected is one line."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import libvirt
import pytest

from tests.conftest import TESTDRIVER
from tests.ui.conftest import wait_until
from ztui.cli.main import _normalise, build_parser, make_app
from ztui.cli.targets import settle_hosts
from ztui.config import Config, SavedHost, save_config
from ztui.fleet import HostEntry
from ztui.model import Host
from ztui.ui.app import ZtuiApp
from ztui.ui.labels import host_label


@pytest.fixture
def saved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Two test-driver hosts saved, the second read-only; `ztui` (no arguments) settled as `main` does."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("LIBVIRT_DEFAULT_URI", raising=False)
    uris = {}
    for name in ("lpar1", "lpar2"):
        path = tmp_path / f"{name}.xml"
        shutil.copy(TESTDRIVER, path)
        uris[name] = f"test://{path}"
    save_config(Config(tmp_path / "xdg" / "ztui" / "config.toml",
                       (SavedHost("lpar1", uris["lpar1"], "z"), SavedHost("lpar2", uris["lpar2"], "z", True))))
    return uris


def _plain_ztui() -> ZtuiApp:
    args = _normalise(build_parser([]).parse_args([]))
    assert settle_hosts(args, interactive=True) == 0
    return make_app(args, args.connect)


async def test_a_plain_ztui_opens_every_saved_host_by_its_name(saved: dict[str, str]) -> None:
    app = _plain_ztui()
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_until(pilot, lambda: all(e.connected for e in app.fleet.hosts.values()))
        await pilot.pause(0.05)
        labels = [str(n.label) for n in app.main.guest_tree.root.children]  # type: ignore[union-attr]
        assert labels[0].startswith("● lpar1  9 guests") and "read-only" not in labels[0]
        assert labels[1].startswith("● lpar2  9 guests") and labels[1].endswith("read-only")
        assert app.host_name(saved["lpar2"]) == "lpar2"


async def test_a_host_saved_read_only_refuses_a_change(saved: dict[str, str]) -> None:
    app = _plain_ztui()
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_until(pilot, lambda: all(e.connected for e in app.fleet.hosts.values()))
        main = app.main
        assert main is not None
        conn = app.backend.hosts.sessions[saved["lpar2"]].connection
        assert conn is not None
        with pytest.raises(libvirt.libvirtError, match="read only"):  # opened read-only, not only refused here
            conn.lookupByName("web02").suspend()
        node = main.guest_tree.find_guest(saved["lpar2"], conn.lookupByName("db01").UUIDString())
        assert node is not None
        main.guest_tree.select_node(node)
        await pilot.press("D")
        await pilot.pause(0.1)
        assert any("the host is saved read-only" in str(n.message) for n in app._notifications)
        assert conn.lookupByName("db01").isActive()


async def test_a_host_that_hangs_holds_up_no_other(silent_host: str, testdriver_copy: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZTUI_CONNECT_TIMEOUT", "0.5")
    started = time.monotonic()
    app = ZtuiApp([silent_host, testdriver_copy])
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_until(pilot, lambda: app.fleet.hosts[testdriver_copy].connected)
        assert not app.fleet.hosts[silent_host].connected
        hung = app.main.guest_tree.root.children[0]  # type: ignore[union-attr]
        assert str(hung.label).startswith("… 127.0.0.1") or "connecting" in str(hung.label)
        assert await wait_until(pilot, lambda: bool(app.fleet.hosts[silent_host].error), 3)
        assert time.monotonic() - started < 3
        await pilot.pause(0.05)
        label = str(app.main.guest_tree.root.children[0].label)  # type: ignore[union-attr]
        assert "not connected: not answering (no answer within 0.5 s); still waiting" in label
        assert len(app.main.guest_tree.root.children[1].children) == 9  # type: ignore[union-attr]


def test_a_reason_is_one_line_whatever_the_host_wrote() -> None:
    entry = HostEntry(uri="qemu+ssh://x/system", host=Host(uri="qemu+ssh://x/system"), name="x",
                      error="End of file while reading data:\nnc: unix connect failed\n\x1b[2J")
    label = host_label(entry.display_name, False, entry.error, 0, 0)
    assert "\n" not in label.plain and "\x1b" not in label.plain
    assert label.plain == "✗ x  not connected: End of file while reading data: nc: unix connect failed \\x1b[2J"
    assert host_label("x", False, "", 0, 0).plain == "… x  connecting"
