"""`ztui tree` end to end: the real console script against libvirt's test driver (on the project's host
file, tests/fixtures/testdriver/zhost.xml) and saved XML."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import DOMAIN_FIXTURES, TESTDRIVER

pytest.importorskip("libvirt", reason="libvirt-python is not installed")


def ztui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ztui", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def test_version() -> None:
    result = ztui("--version")
    assert result.returncode == 0 and result.stdout.startswith("ztui ")


def test_tree_json_lists_every_domain_and_device(testdriver_uri: str) -> None:
    result = ztui("tree", "-c", testdriver_uri, "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    (host,) = doc["hosts"]
    assert host["uri"] == testdriver_uri and host["hostname"]
    import libvirt

    conn = libvirt.openReadOnly(testdriver_uri)
    expected = {}
    for dom in conn.listAllDomains(0):  # libvirt's live XML, with the devices it adds implicitly
        devices = ET.fromstring(dom.XMLDesc(0)).find("devices")
        expected[dom.name()] = 0 if devices is None else sum(1 for c in devices if c.tag != "emulator")
    conn.close()
    assert len(expected) == len(ET.parse(TESTDRIVER).getroot().findall("domain")) == 9
    assert {g["name"]: len(g["devices"]) for g in host["guests"]} == expected
    assert expected["db01"] == 12 and expected["idle-shutoff"] == 0
    states = {g["name"]: g["state"] for g in host["guests"]}
    assert states == {"db01": "running", "idle-crashed": "crashed", "idle-paused": "paused",
                      "idle-pmsuspended": "pmsuspended", "idle-shutoff": "shut off", "template": "shut off",
                      "transient01": "running", "web01": "running", "web02": "running"}
    keys = {"kind", "bus", "model", "target", "alias", "address_type", "address", "source", "passthrough",
            "migration_blocker", "blocker_reason", "backing", "xml"}
    for guest in host["guests"]:
        assert {"name", "uuid", "state", "arch", "devices"} <= set(guest)
        for device in guest["devices"]:
            assert keys <= set(device)


def test_tree_named_guests_and_unknown_guest(testdriver_uri: str) -> None:
    result = ztui("tree", "-c", testdriver_uri, "--json", "template")
    assert [g["name"] for g in json.loads(result.stdout)["hosts"][0]["guests"]] == ["template"]
    missing = ztui("tree", "-c", testdriver_uri, "no-such-guest")
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        f"ztui: no guest named 'no-such-guest' on {testdriver_uri}"]


def test_a_guest_on_one_host_of_several_is_found(testdriver_uri: str, tmp_path: Path) -> None:
    """Named guests are looked for on every host: one found on any is a success; only a guest found on
    none is an error, one line whatever the number of hosts."""
    from ztui.lab.testdriver import write_testdriver

    other = tmp_path / "other.xml"
    write_testdriver(other, 2)
    other_uri = f"test://{other}"
    found = ztui("tree", "-c", other_uri, "-c", testdriver_uri, "template", "--no-backing")
    assert found.returncode == 0 and found.stderr == ""
    assert "template" in found.stdout and other_uri not in found.stdout  # a host without it is not listed
    as_json = ztui("tree", "-c", other_uri, "-c", testdriver_uri, "template", "--json")
    assert as_json.returncode == 0 and as_json.stderr == ""
    assert [[g["name"] for g in h["guests"]] for h in json.loads(as_json.stdout)["hosts"]] == [["template"]]
    missing = ztui("tree", "-c", other_uri, "-c", testdriver_uri, "template", "no-such-guest")
    assert missing.returncode == 1 and "template" in missing.stdout
    assert missing.stderr.strip().splitlines() == [
        f"ztui: no guest named 'no-such-guest' on any of {other_uri}, {testdriver_uri}"]


def test_tree_text_is_aligned_and_plain_when_piped(testdriver_uri: str) -> None:
    result = ztui("tree", "-c", testdriver_uri, "template", "--no-backing")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[1].split() == ["NAME", "TYPE", "MODEL", "ADDRESS", "SOURCE", "NOTE"]
    assert "\x1b[" not in result.stdout
    type_col = lines[1].index("TYPE")
    assert lines[2].startswith("template") and lines[2][type_col:].startswith("shut off")
    rows = [line for line in lines[2:] if line[:1] not in " │"]  # not the notes' lines below a row
    assert len(rows) == 1 + 6  # the guest's line and one per device
    assert all(line[type_col - 2:type_col] == "  " for line in rows)
    chains = ztui("tree", "-c", testdriver_uri, "template").stdout.splitlines()  # each chain below its device
    assert len(chains) > len(rows) and any("↳" in line for line in chains)
    assert all(len(line) <= 80 for line in chains[1:])


def test_option_before_the_command(testdriver_uri: str) -> None:
    result = ztui("-c", testdriver_uri, "tree", "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["hosts"][0]["uri"] == testdriver_uri


def test_libvirt_default_uri_is_used(testdriver_uri: str) -> None:
    result = ztui("tree", "--json", env={"LIBVIRT_DEFAULT_URI": testdriver_uri})
    assert json.loads(result.stdout)["hosts"][0]["uri"] == testdriver_uri


@pytest.mark.parametrize("uri", ["test:///no/such/file.xml", "test:///etc/passwd", "qemu+unix:///system?socket=/nonexistent/sock",
                                 "nonsense://"])
def test_bad_uri_is_one_line(uri: str) -> None:
    result = ztui("tree", "-c", uri)
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ztui: cannot connect to {uri}")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("path", DOMAIN_FIXTURES, ids=lambda p: p.name)
def test_domain_xml_on_every_fixture(path: Path) -> None:
    result = ztui("tree", "--json", "--domain-xml", str(path))
    assert result.returncode == 0, result.stderr
    (host,) = json.loads(result.stdout)["hosts"]
    assert host["uri"] is None
    (guest,) = host["guests"]
    assert guest["state"] is None
    text = ztui("tree", "--domain-xml", str(path))
    assert text.returncode == 0 and guest["name"] in text.stdout


def test_domain_xml_reads_a_testdriver_file() -> None:
    result = ztui("tree", "--json", "--domain-xml", str(TESTDRIVER))
    assert [g["name"] for g in json.loads(result.stdout)["hosts"][0]["guests"]] == [
        "db01", "idle-crashed", "idle-paused", "idle-pmsuspended", "idle-shutoff", "template", "transient01",
        "web01", "web02"]


def test_domain_xml_bad_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text("<domain><name>x</name><devices>")
    other = tmp_path / "other.xml"
    other.write_text("<network/>")
    good = DOMAIN_FIXTURES[0]
    result = ztui("tree", "--json", "--domain-xml", str(tmp_path / "missing.xml"), str(broken), str(other),
                  str(good))
    assert result.returncode == 1
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 3 and all(e.startswith("ztui: ") for e in errors)
    assert "missing.xml" in errors[0] and "not well-formed" in errors[1] and "<network>" in errors[2]
    assert len(json.loads(result.stdout)["hosts"][0]["guests"]) == 1  # the good file still shows


def test_the_console_script_prints_everything_and_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    from ztui.lab.testdriver import write_testdriver

    write_testdriver(tmp_path / "host.xml", 40)  # far more JSON than a pipe holds
    testdriver_uri = f"test://{tmp_path / 'host.xml'}"
    script = Path(sys.executable).with_name("ztui")
    full = subprocess.run([script, "tree", "-c", testdriver_uri, "--json"], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert full.returncode == 0, full.stderr
    assert json.loads(full.stdout)["hosts"][0]["guests"]  # all of it, flushed before the quick exit
    reader = subprocess.Popen([script, "tree", "-c", testdriver_uri, "--json"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.read(10)
    reader.stdout.close()  # like `| head -c 10`
    assert reader.wait(timeout=60) == 0
    assert reader.stderr.read() == b""


def test_output_that_cannot_be_written_is_an_error(tmp_path: Path) -> None:
    tiny = tmp_path / "tiny.xml"  # its JSON fits the output buffer: the write fails only at the last flush
    tiny.write_text("<domain type='kvm'><name>tiny</name><devices><panic model='s390'/></devices></domain>")
    script = Path(sys.executable).with_name("ztui")
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with open("/dev/full", "w") as full:
        result = subprocess.run([script, "tree", "--domain-xml", str(tiny), "--json"], stdout=full, env=buffered,
                                stderr=subprocess.PIPE, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode != 0 and "No space left" in result.stderr


def test_note_stays_readable_at_80_columns(testdriver_uri: str) -> None:
    """A note too long for its column is said there in whole words (never `4 m…`, `blo…`) and in full on
    the lines below its row, wrapped at words."""
    result = ztui("tree", "-c", testdriver_uri, "db01", "--no-backing")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines[1:])
    column = lines[1].index("NOTE")
    rows = [line for line in lines[2:] if line[:1] not in " │"]  # not the notes' lines below a row
    notes = {line.split()[0].lstrip("├└─"): line[column:] for line in rows if len(line) > column}
    assert notes["db01"] == "3 blockers"
    assert notes["6f2c9d41-8b3a…"] == notes["0001:00:00.0"] == "blocks migration"
    below = " ".join(result.stdout.replace("│", " ").split())  # the lines below a row, wrapped at words
    assert "! vfio-ccw pass-through of a channel device cannot migrate live" in below
    assert "! PCI function passed through with VFIO" in below


def test_hostdevs_text_fits_80_columns_and_wraps_at_words(testdriver_uri: str) -> None:
    from ztui.report.hostdevs import render_text

    result = ztui("hostdevs", "-c", testdriver_uri, "--json")
    groups = json.loads(result.stdout)["hosts"][0]["groups"]
    narrow = render_text("host", groups, width=80).splitlines()
    # only a line with a word too long for any line (a by-path name, a serial) is longer: a word is never cut
    assert all(len(line) <= 80 or max(len(w) for w in line.split()) > 40 for line in narrow)
    wide = render_text("host", groups, width=400)
    assert max(len(line) for line in wide.splitlines()) > 80
    assert " ".join(narrow).split() == wide.split()  # the same words, none cut
    text = ztui("hostdevs", "-c", testdriver_uri)
    assert text.stdout.splitlines()[1:] == render_text("", groups).splitlines()[1:]
