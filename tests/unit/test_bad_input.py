"""Bad input is refused before anything happens: exit 2, one line on stderr, nothing on stdout, no traceback.

The change commands are pointed at a host that does not exist: a value that got past the checks would
reach the connection and fail there with exit 1, so exit 2 proves that the refusal came first (and so
that nothing could have been changed). The lab tests show the same for a real guest with devices.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import DOMAIN_FIXTURES
from ztui.cli.main import main

pytest.importorskip("libvirt", reason="libvirt-python is not installed")

NOWHERE = "qemu+unix:///system?socket=/nonexistent/ztui-bad-input.sock"


def ztui(*args: str) -> subprocess.CompletedProcess[str]:
    """The command line run in this process (a subprocess per case would cost a second each)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
        finally:
            gc.enable()  # `tree` turns the collector off for its short life
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


@pytest.fixture(autouse=True)
def _no_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2 with exactly one line on stderr (naming `words`), no output, no traceback."""
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("ztui: "), result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


MIGRATE_BAD = [
    (["--bandwidth", "-5"], "out of range"),
    (["--bandwidth", "99999999999"], "out of range"),
    (["--bandwidth", "abc"], "not a whole number"),
    (["--bandwidth", "1e3"], "not a whole number"),
    (["--bandwidth", ""], "not a whole number"),
    (["--max-downtime", "-1"], "out of range"),
    (["--max-downtime", "2000001"], "out of range"),
    (["--max-downtime", "٣"], "not a whole number"),  # an Arabic-Indic digit: isdigit() but not ASCII
    (["--detach", ""], "empty"),
    (["--detach", "vd\x1b[2Jx"], "control characters"),
    (["--migrate-uri", ""], "empty"),
    (["--migrate-uri", "tcp://a\nb"], "control characters"),
]


@pytest.mark.parametrize(("extra", "words"), MIGRATE_BAD, ids=lambda v: repr(v))
def test_migrate_options(extra: list[str], words: str) -> None:
    refused(ztui("migrate", "g1", "--to", "qemu+unix:///system?socket=/x", "-c", NOWHERE, "--unsafe", *extra),
            words)


@pytest.mark.parametrize("args", [["migrate", "", "--to", "x"], ["migrate", "g1", "--to", " "],
                                  ["migrate", "a\tb", "--to", "x"], ["attach", "", "--disk", "/x.img"],
                                  ["attach", "g1", "--disk", ""], ["detach", "g1", ""],
                                  ["detach", "g\x07", "vdb"]], ids=repr)
def test_empty_and_unprintable_values(args: list[str]) -> None:
    result = ztui(*args, "-c", NOWHERE)
    refused(result)
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr


@pytest.mark.parametrize(("size", "words"), [("-1M", "positive"), ("0", "positive"), ("nan", "positive"),
                                             ("1e999", "larger than"), ("100T", "larger than"),
                                             ("100", "smaller than"), ("lots", "not a size"), ("", "empty")])
def test_attach_size(size: str, words: str, tmp_path: Path) -> None:
    refused(ztui("attach", "g1", "--disk", str(tmp_path / "new.qcow2"), f"--size={size}", "-c", NOWHERE), words)
    assert not (tmp_path / "new.qcow2").exists()


@pytest.mark.parametrize("timeout", ["-1", "0", "nan", "inf", "3601", "soon"])
def test_detach_timeout(timeout: str) -> None:
    refused(ztui("detach", "g1", "vdb", "--timeout", timeout, "-c", NOWHERE), "--timeout")


# --- tree --domain-xml: only regular files, bounded, any depth, known encodings -------------------------

def test_domain_xml_fifo_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "guest.xml"
    os.mkfifo(fifo)
    refused(ztui("tree", "--domain-xml", str(fifo)), "not a regular file")


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null", "/"])
def test_domain_xml_devices_and_directories(path: str) -> None:
    refused(ztui("tree", "--domain-xml", path), "not a regular file")


def test_domain_xml_too_big_is_refused_unread(tmp_path: Path) -> None:
    huge = tmp_path / "huge.xml"
    with huge.open("wb") as f:  # sparse: 300 MiB that take no space and would take seconds to read
        f.truncate(300 << 20)
    refused(ztui("tree", "--domain-xml", str(huge)), "larger than")


def test_domain_xml_bad_file_among_good_ones_prints_nothing(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.xml"
    os.mkfifo(fifo)
    refused(ztui("tree", "--domain-xml", str(DOMAIN_FIXTURES[0]), str(fifo)), "pipe.xml")


@pytest.mark.parametrize("encoding", ["x-klingon", "cp500", "utf-7"])
def test_domain_xml_unknown_encodings(encoding: str, tmp_path: Path) -> None:
    path = tmp_path / "enc.xml"
    path.write_bytes(f"<?xml version='1.0' encoding='{encoding}'?><domain><name>a</name></domain>".encode())
    refused(ztui("tree", "--domain-xml", str(path)), encoding)


def test_domain_xml_known_encodings_are_read(tmp_path: Path) -> None:
    latin = tmp_path / "latin.xml"
    latin.write_bytes("<?xml version='1.0' encoding='ISO-8859-1'?><domain><name>gäst</name></domain>"
                      .encode("latin-1"))
    utf16 = tmp_path / "utf16.xml"
    utf16.write_bytes("<?xml version='1.0' encoding='UTF-16'?><domain><name>wide</name></domain>"
                      .encode("utf-16"))
    result = ztui("tree", "--domain-xml", str(latin), str(utf16))
    assert result.returncode == 0, result.stderr
    assert "gäst" in result.stdout and "wide" in result.stdout


def test_domain_xml_deep_nesting(tmp_path: Path) -> None:
    deep = tmp_path / "deep.xml"
    n = 100_000
    deep.write_text("<domain><name>d</name><devices><disk>" + "<a>" * n + "</a>" * n + "</disk></devices></domain>")
    refused(ztui("tree", "--domain-xml", str(deep)), "deep")


def test_control_characters_are_escaped_in_text(tmp_path: Path) -> None:
    path = tmp_path / "ctl.xml"
    path.write_text("<domain type='kvm'><name>ev&#10;il&#x85;&#x202e;x</name><devices>"
                    "<disk type='file' device='disk'><source file='/img/a&#9;b&#10;c'/>"
                    "<target dev='vda' bus='virtio'/></disk></devices></domain>")
    result = ztui("tree", "--domain-xml", str(path))
    assert result.returncode == 0, result.stderr
    assert "ev\\nil\\x85\\u202ex" in result.stdout and "/img/a\\tb\\nc" in result.stdout
    assert not any(ch in result.stdout for ch in "\x85\u202e\t")
    assert len(result.stdout.splitlines()) == 4  # title, header, guest, disk: no forged lines
    as_json = ztui("tree", "--json", "--domain-xml", str(path))
    assert "ev\\nil" in as_json.stdout  # JSON keeps the value (escaped by JSON itself)


@pytest.mark.parametrize(("args", "first"), [(["nosuch"], "ztui: argument COMMAND: invalid choice: 'nosuch'"),
                                             (["--bogus"], "ztui: unrecognized arguments: --bogus"),
                                             (["tree", "--bogus"], "ztui: unrecognized arguments: --bogus"),
                                             (["start"], "ztui: start: the following arguments are required")],
                         ids=repr)
def test_usage_errors_name_ztui_once(args: list[str], first: str) -> None:
    result = ztui(*args)
    refused(result)
    assert result.stderr.startswith(first) and "ztui: ztui:" not in result.stderr
