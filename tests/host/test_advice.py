"""Every command ztui prints for a person obeys the rule `ztui prepare` obeys (`ztui.host.release`).

On a fake IBM Z host in the kernel's words (tests/fixtures/advice, read by the real udev reader under
`umockdev-run`; tests/host/advice_walk.py gathers what each place prints) the host's / is on DASD 0.0.6000
(its swap and its IPL device too), 0.0.60fe is a HyperPAV alias of its LCU, the running guest zadv1 boots
from 0.0.6001, 0.0.6003 is the physical volume of the host's /home, 0.0.6004 its dump device, zadv2 has the
vfio-ccw mdev on 0.0.0006 and the vfio-ap mdev that holds 0c.0038 and 0c.0039, RoCE 0001:00:00.0 carries
the host's interface ens1 (up), NVMe 0003:00:00.0 its /srv. Free: DASD 0.0.6002, RoCE 0002:00:00.0 (ens2
down), AP queue 0d.0005.

No text anywhere — readiness in `hostdevs` (JSON and text), the host devices view's lines and details
pane, the tree's warnings and device details, the attach dialog's offers, `ztui attach --pci`, `ztui
prepare`'s plans, the migration preflight with this host as the destination — advises setting offline,
unbinding or rebinding a device that is kept; where one is refused, the reason is said; the free devices
still get their advice.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
HOST = REPO / "tests" / "fixtures" / "advice" / "z-advice.umockdev"

pytestmark = pytest.mark.skipif(shutil.which("umockdev-run") is None,
                                reason="umockdev-run is not installed (Debian package umockdev)")
pytest.importorskip("libvirt", reason="libvirt-python is not installed")
pytest.importorskip("pyudev", reason="pyudev is not installed")

#: DASD bus-ID → its subchannel, for every DASD the host, a guest or nothing at all keeps from being released
KEPT_DASDS = {"0.0.6000": "0.0.0000", "0.0.60fe": "0.0.0001", "0.0.6001": "0.0.0002", "0.0.6003": "0.0.0004",
              "0.0.6004": "0.0.0005", "0.0.6005": "0.0.0006"}
KEPT_QUEUES = ("0c.0038", "0c.0039")
KEPT_PCI = ("0001:00:00.0", "0003:00:00.0")
FREE_DASD, FREE_CSS, FREE_QUEUE, FREE_PCI = "0.0.6002", "0.0.0003", "0d.0005", "0002:00:00.0"
#: the host devices whose own texts may say nothing that takes them from the host
KEPT_KEYS = ({f"ccw:{b}" for b in KEPT_DASDS} | {f"css:{c}" for c in KEPT_DASDS.values()}
             | {f"ap_queue:{q}" for q in KEPT_QUEUES} | {f"pci:{p}" for p in KEPT_PCI}
             | {"block:/dev/dasda", "block:/dev/dasda1", "block:/dev/dasda2", "block:/dev/dasdb", "block:/dev/dasdd",
                "block:/dev/dasdd1", "block:/dev/dasde", "block:/dev/nvme0n1", "net:ens1",
                "mdev:4b4c5e2a-7d62-4f5b-8d1e-0a1b2c3d4e5f", "mdev:7e57ad11-ce5a-4b1e-9d2c-6a0b1c2d3e4f"})
#: any of these words in a text about a kept device would advise taking it
RELEASE_WORDS = re.compile(r"\b(offline|bind|unbind|rebind|driverctl|set-override|chccwdev|chzdev|apmask|aqmask|"
                           r"release it|ztui prepare|nodedev-define|drivers_probe)\b")


def dasd_release(busid: str, css: str) -> list[str]:
    """What a command that takes DASD `busid` (on subchannel `css`) from the host looks like, anywhere."""
    b, c = re.escape(busid), re.escape(css)
    return [rf"chccwdev -d {b}\b", rf"chzdev -d\b[^;)]*{b}\b", rf"set (DASD )?{b} offline", rf"set-override {c}\b",
            rf"prepare vfio-ccw {b}\b", rf"/sys/bus/ccw/devices/{b}/online", rf"/sys/bus/css/devices/{c}/",
            rf"bind {c}\b", rf"unbind[^;]*\b{c}\b"]


def queue_release(queue: str) -> list[str]:
    adapter, domain = queue.split(".")
    return [rf"--adapter 0x{adapter} --domain 0x{domain}\b", rf"echo [-+]0x{adapter} > /sys/bus/ap/apmask",
            rf"aqmask\b[^;]*{domain}"]


def pci_release(address: str) -> list[str]:
    a = re.escape(address)
    return [rf"set-override {a}\b", rf"prepare pci {a}\b", rf"/sys/bus/pci/devices/{a}/", rf"--pci {a}\b"]


KEPT_PATTERNS = ([p for busid, css in KEPT_DASDS.items() for p in dasd_release(busid, css)]
                 + [p for q in KEPT_QUEUES for p in queue_release(q)] + [p for a in KEPT_PCI for p in pci_release(a)])
FREE_PATTERNS = dasd_release(FREE_DASD, FREE_CSS) + queue_release(FREE_QUEUE) + pci_release(FREE_PCI)


def walk(tmp: Path, *args: str) -> dict[str, Any]:
    out = tmp / "walk.json"
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1", "XDG_STATE_HOME": str(tmp / "state")}
    result = subprocess.run(["umockdev-run", "-d", str(HOST), "--", sys.executable, str(HERE / "advice_walk.py"),
                             str(out), *args], capture_output=True, text=True, timeout=180, env=env, cwd=REPO,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    doc: dict[str, Any] = json.loads(out.read_text())
    return doc


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return walk(tmp_path_factory.mktemp("advice"))


def test_no_printed_command_anywhere_takes_a_kept_device(printed: dict[str, Any]) -> None:
    wrong = [(t["where"], p, t["text"]) for t in printed["texts"] for p in KEPT_PATTERNS if re.search(p, t["text"])]
    assert not wrong, wrong
    # the same detector finds the advice for the free devices: it can fail
    found = {p for t in printed["texts"] for p in FREE_PATTERNS if re.search(p, t["text"])}
    assert {rf"chccwdev -d {re.escape(FREE_DASD)}\b", rf"set-override {re.escape(FREE_CSS)}\b",
            r"--adapter 0x0d --domain 0x0005\b", rf"set-override {re.escape(FREE_PCI)}\b"} <= found


def test_what_is_shown_for_a_kept_device_never_asks_to_take_it(printed: dict[str, Any]) -> None:
    texts = printed["device_texts"]
    assert set(texts) >= KEPT_KEYS, KEPT_KEYS - set(texts)
    wrong = {key: [t for t in texts[key] if RELEASE_WORDS.search(t)] for key in KEPT_KEYS}
    assert not any(wrong.values()), wrong


def test_the_tree_names_a_queue_its_mdev_lacks_without_taking_it_from_the_host(printed: dict[str, Any]) -> None:
    """0c.0039 is assigned to zadv2's mdev but held by the host's driver: the guest does not get it, and the
    tree says so; whether the host's crypto users still need it ztui cannot see, so it advises nothing."""
    (warning,) = [t["text"] for t in printed["texts"] if t["where"] == "tree zadv2" and "cex4queue" in t["text"]]
    assert warning == "queue held by cex4queue, not vfio_ap: the guest does not get it"
    assert not RELEASE_WORDS.search(warning)


def test_the_readiness_says_why_instead(printed: dict[str, Any]) -> None:
    missing = {key: e["missing"] for key, e in printed["eligibility"].items()}
    assert missing["css:0.0.0000"] == ["the host itself uses 0.0.6000: /dev/dasda1 is mounted on /; /dev/dasda2 is "
                                       "active swap space; 0.0.6000 is the device the host was IPLed from"]
    assert missing["css:0.0.0001"] == ["0.0.60fe is a HyperPAV alias of IBM.750000000DXP71.6000: it is online but has "
                                       "no block device of its own and cannot be attached; attach one of its bases "
                                       "(0.0.6002)"]  # the only base of its LCU that is free
    assert missing["css:0.0.0002"] == ["0.0.6001 is used by guest zadv1"]
    assert missing["css:0.0.0004"] == ["the host itself uses 0.0.6003: /dev/dasdd1 is an LVM physical volume (of "
                                       "vg_data-lv_home)"]
    assert missing["css:0.0.0005"] == ["the host itself uses 0.0.6004: 0.0.6004 is the host's dump device (dump_type "
                                       "ccw)"]
    assert missing["ap_queue:0c.0039"] == ["APQN 0c.0039 is already in mdev 4b4c5e2a-7d62-4f5b-8d1e-0a1b2c3d4e5f "
                                           "(guest zadv2)"]
    assert missing["pci:0001:00:00.0"] == ["the host itself uses 0001:00:00.0: its interface ens1 is up on the host"]
    assert missing["pci:0003:00:00.0"] == ["the host itself uses 0003:00:00.0: /dev/nvme0n1 is mounted on /srv"]
    # and the free ones get theirs
    assert missing["css:0.0.0003"] == ["set 0.0.6002 offline (chccwdev -d 0.0.6002), then bind the subchannel to "
                                       "vfio_ccw, now io_subchannel (driverctl -b css set-override 0.0.0003 vfio_ccw; "
                                       "ztui prepare vfio-ccw 0.0.6002 does both)"]
    assert missing["ap_queue:0d.0005"] == ["queue is held by cex4queue: release it to vfio_ap (ztui prepare vfio-ap "
                                           "--adapter 0x0d --domain 0x0005)"]
    assert missing["pci:0002:00:00.0"] == ["bind to vfio-pci, now mlx5_core (libvirt does it for managed='yes')"]


def test_prepare_and_the_attach_offers_follow_the_same_rule(printed: dict[str, Any]) -> None:
    plans = printed["plans"]
    refused = {"vfio-ccw 0.0.6000": "/dev/dasda1 is mounted on /", "vfio-ccw 0.0.60fe": "HyperPAV alias",
               "vfio-ccw 0.0.6001": "used by guest zadv1", "vfio-ccw 0.0.6003": "LVM physical volume",
               "vfio-ccw 0.0.6004": "dump device", "pci 0001:00:00.0": "ens1 is up",
               "pci 0001:00:00.0 --unmanaged": "ens1 is up", "pci 0003:00:00.0 --unmanaged": "mounted on /srv",
               "vfio-ap 0c.0038": "already in mdev 4b4c5e2a-7d62-4f5b-8d1e-0a1b2c3d4e5f (guest zadv2)",
               "vfio-ap 0c.0039": "already in mdev 4b4c5e2a-7d62-4f5b-8d1e-0a1b2c3d4e5f (guest zadv2)"}
    for label, reason in refused.items():
        assert reason in plans[label].get("refused", ""), (label, plans[label])
    assert plans[f"vfio-ccw {FREE_DASD}"]["commands"][:2] == [f"chccwdev -d {FREE_DASD}",
                                                              f"driverctl -b css set-override {FREE_CSS} vfio_ccw"]
    assert plans[f"vfio-ap {FREE_QUEUE}"]["commands"][0] == "echo -0x0d > /sys/bus/ap/apmask"
    assert plans[f"pci {FREE_PCI} --unmanaged"]["commands"][0] == f"driverctl -b pci set-override {FREE_PCI} vfio-pci"
    assert printed["candidates"]["mdev"] == [f"prepare:{FREE_DASD}"]
    assert printed["candidates"]["pci"] == [FREE_PCI]
    # a managed PCI attach has libvirt bind the function to vfio-pci: the host's own are refused
    attach = printed["attach"]
    assert "ens1 is up" in attach["0001:00:00.0"]["refused"] and "mounted on /srv" in attach["0003:00:00.0"]["refused"]
    assert "refused" not in attach[FREE_PCI]


def test_the_preflight_advises_the_destination_by_its_own_host_and_guests(printed: dict[str, Any]) -> None:
    ccw = {name: texts[0] for name, texts in printed["preflight"].items()}
    assert "on the destination, the host itself uses 0.0.6000: /dev/dasda1 is mounted on /" in ccw["volume of 0.0.6000"]
    assert ccw["volume of 0.0.6001"].endswith("on the destination, 0.0.6001 is used by guest zadv1")
    assert "LVM physical volume" in ccw["volume of 0.0.6003"] and "dump device" in ccw["volume of 0.0.6004"]
    assert "define and start it there (virsh nodedev-define; set 0.0.6002 offline (chccwdev -d 0.0.6002)" \
        in ccw["volume of 0.0.6002"]
    # an mdev the source does not have names nothing behind it, so no DASD is advised offline
    assert "has no mdev" in ccw["missing on the source"] and "0.0.6" not in ccw["missing on the source"]
    # the same UUID on the destination is another disk there; on the same volume, another guest's
    assert "another disk" in ccw["same UUID on another DASD"]
    assert ccw["same UUID, same volume, a guest has it"].endswith("is used by guest zadv2 there")
    ap = {name: texts[1] for name, texts in printed["preflight"].items()}
    assert ap["volume of 0.0.6000"].endswith("on the destination, APQN 0c.0038 is already in mdev "
                                             "4b4c5e2a-7d62-4f5b-8d1e-0a1b2c3d4e5f (guest zadv2)")
    assert "already in mdev" not in ap["free APQN"] and "0d.0005" in ap["free APQN"]


def test_a_fact_not_in_the_kernels_words_is_unknown_and_nothing_is_advised(tmp_path: Path) -> None:
    """The free DASD's `alias` and the vfio-ap mdev's `matrix` not in the kernel's words: whether it is an
    alias, and which APQNs the mdev holds, cannot be told; the advice says so, and offers nothing."""
    printed = walk(tmp_path, "--misread")
    missing = {key: e["missing"] for key, e in printed["eligibility"].items()}
    assert missing["css:0.0.0003"] == ["cannot tell whether 0.0.6002 is free: its alias reads 'yes', which is not the "
                                       "kernel's format, so it may be a PAV alias"]
    assert missing["ap_queue:0d.0005"][0].startswith("cannot tell whether APQN 0d.0005 is in mdev 4b4c5e2a")
    assert "cannot tell" in printed["plans"][f"vfio-ccw {FREE_DASD}"]["refused"]
    assert "cannot tell" in printed["plans"][f"vfio-ap {FREE_QUEUE}"]["refused"]
    assert "mdev" not in printed["candidates"]
    assert "attach its base device" in missing["css:0.0.0001"][0]  # its only free base is in doubt now
    patterns = KEPT_PATTERNS + dasd_release(FREE_DASD, FREE_CSS) + queue_release(FREE_QUEUE)
    wrong = [(t["where"], p) for t in printed["texts"] for p in patterns if re.search(p, t["text"])]
    assert not wrong, wrong
