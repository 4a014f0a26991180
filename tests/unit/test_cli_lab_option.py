"""`--lab` is a common option: before the command name and after it, for every command that talks to hosts."""

from __future__ import annotations

import pytest

from ztui.cli.main import _normalise, build_parser


@pytest.mark.parametrize("argv", [
    ["--lab", "tree"], ["tree", "--lab"], ["hostdevs", "--lab"], ["--lab", "hostdevs"],
    ["attach", "--lab", "g", "--disk", "/x.img"], ["detach", "g", "vdb", "--lab"],
    ["migrate", "g", "--to", "zlab-b", "--lab"], ["--lab", "migrate", "g", "--offline", "--to", "zlab-b"],
    ["start", "g", "--lab"], ["--lab", "destroy", "g"], ["--lab"],
])
def test_lab_is_accepted_before_and_after_the_command(argv: list[str]) -> None:
    args = _normalise(build_parser().parse_args(argv))
    assert args.lab is True


def test_without_lab_it_is_false() -> None:
    assert _normalise(build_parser().parse_args(["tree"])).lab is False


def test_every_lifecycle_command_exists() -> None:
    for command in ("start", "shutdown", "reboot", "destroy", "suspend", "resume"):
        args = build_parser().parse_args([command, "g", "--timeout", "5", "--json"])
        assert args.action == command and args.guest == "g" and args.timeout == 5.0
