"""The manual page ztui(1): docs/ztui.1 is what `ztui.cli.manpage` writes from the parsers, the key
bindings and the exit statuses, and `man` shows it without a warning."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ztui import errors
from ztui.cli import common, manpage
from ztui.cli.main import build_parser

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "ztui.1"


def test_the_page_is_written_from_the_code() -> None:
    """After a new command, option, key or exit status: `make man` writes docs/ztui.1 again."""
    assert PAGE.read_text(encoding="utf-8") == manpage.page(), "docs/ztui.1 is out of date: run `make man`"


def test_every_command_and_option_is_in_the_page() -> None:
    text = PAGE.read_text(encoding="utf-8").replace("\\-", "-")
    for name, parser, _ in manpage._commands(build_parser([])):
        assert f".SS ztui {name}\n" in text
        for action in parser._actions:
            for option in action.option_strings:
                assert option in text, f"{option} of ztui {name}"
    assert "__complete" not in text


def test_the_keys_are_the_readmes() -> None:
    """The same rows as the README's table (which tests/ui/test_keys.py holds to the bindings)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Keys")[1].split("| key | what it does |")[1].split("\n\n")[0]
    readme_rows = re.findall(r"^\| (.*) \| (.*) \|$", table, re.M)
    text = PAGE.read_text(encoding="utf-8")
    keys = text.split(".SH KEYS")[1].split(".SH EXIT STATUS")[0]
    page_rows = re.findall(r"\.TP\n(.*)\n(.*)\n", keys)
    assert len(page_rows) == len(readme_rows)
    for (page_keys, page_text), (readme_keys, readme_text) in zip(page_rows, readme_rows, strict=True):
        assert re.sub(r"\\fB(.*?)\\fR", r"`\1`", page_text).replace("\\-", "-") == readme_text
        assert re.findall(r"\\fB(.*?)\\fR", page_keys) == re.findall(r"`(.*?)`", readme_keys)


def test_every_exit_status_is_documented() -> None:
    documented = {status for status, _ in manpage.EXIT_STATUS}
    kinds = {errors.ZtuiError, *errors.ZtuiError.__subclasses__()}
    statuses = {str(k.exit_status) for k in kinds if k is not errors.Interrupted}
    statuses |= {str(common.EXIT_OK), str(common.EXIT_FAILED), str(common.EXIT_BAD_INPUT), "128+N", "120"}
    assert statuses == documented


def test_every_environment_variable_ztui_reads_is_documented() -> None:
    read: set[str] = set()
    for path in (REPO / "ztui").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        read |= set(re.findall(r"environ(?:\.get)?[(\[]\"([A-Z_]+)\"", source))
        read |= set(re.findall(r"ENV_[A-Z_]+ = \"([A-Z_]+)\"", source))
        read |= set(re.findall(r"\"(ZTUI_[A-Z_]+)\"", source))
    documented = {name for name, _ in manpage.ENVIRONMENT}
    assert read - set(manpage.INTERNAL_ENVIRONMENT) == documented


def test_man_shows_the_page_without_warnings() -> None:
    if shutil.which("man") is None:
        pytest.skip("man is not installed")
    env = {**os.environ, "MANWIDTH": "80", "MAN_KEEP_FORMATTING": "0", "LC_ALL": "C.UTF-8"}
    result = subprocess.run(["man", "--warnings", "-l", str(PAGE)], capture_output=True, text=True, timeout=60,
                            env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    shown = re.sub(".\b", "", result.stdout)  # no overstrike (bold) when it is not a terminal
    assert "ztui - keyboard-driven explorer of KVM guests" in " ".join(shown.split())
    assert re.search(r"^ {3}ztui attach$", shown, re.M)
    assert re.search(r"^ {7}3 {6}Not +proven", shown, re.M)  # groff spreads spaces from either end


def test_the_shared_options_are_described_once_and_a_commands_own_where_it_is() -> None:
    """-c and -g (and the other shared options) under OPTIONS only; `hosts add -g` is the host's group."""
    text = PAGE.read_text(encoding="utf-8")
    commands = text.split(".SH COMMANDS")[1].split(".SH KEYS")[0]
    assert "[\\-c" not in commands and "\\-\\-connect" not in commands
    sections = dict(re.findall(r"\.SS (ztui [^\n]+)\n(.*?)(?=\n\.SS |\Z)", commands, re.S))
    with_group = sorted(name.replace("\\-", "-") for name, body in sections.items() if "\\-\\-group" in body)
    assert with_group == ["ztui hosts add", "ztui hosts list"]
    options = text.split(".SH OPTIONS")[1].split(".SH COMMANDS")[0]
    assert "\\-\\-group" in options and "\\-c, \\-g, \\-\\-readonly, \\-v and \\-\\-lab may also follow" in options
