"""`ztui`'s parser: a command named on the command line gets only its own parser built."""

from __future__ import annotations

import argparse
import importlib

import pytest

from ztui.cli import main


def commands_of(parser: argparse.ArgumentParser) -> list[str]:
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return list(sub.choices)


@pytest.mark.parametrize(("module", "adder", "names"), main.COMMANDS, ids=[c[1] for c in main.COMMANDS])
def test_each_modules_names_are_the_commands_it_adds(module: str, adder: str, names: tuple[str, ...]) -> None:
    parser = argparse.ArgumentParser()
    getattr(importlib.import_module(module), adder)(parser.add_subparsers(), argparse.ArgumentParser(add_help=False))
    assert tuple(commands_of(parser)) == names


@pytest.mark.parametrize(("argv", "built"), [
    (["tree", "--json"], ["tree"]),
    (["tree", "-h"], ["tree"]),  # its own help
    (["-c", "test:///default", "tree"], ["tree"]),
    (["--connect", "tree", "hostdevs"], ["hostdevs"]),  # a URI that happens to read like a command
    (["-g", "tree", "hostdevs"], ["hostdevs"]),  # a group that happens to be called like a command
    (["--group=prod", "-gtest", "hosts", "list"], ["hosts"]),
    (["-v", "shutdown", "g1"], ["start", "resume", "shutdown", "reboot", "destroy", "suspend"]),
])
def test_a_named_command_builds_only_its_parser(argv: list[str], built: list[str]) -> None:
    assert commands_of(main.build_parser(argv)) == built


@pytest.mark.parametrize("argv", [[], ["--help"], ["-h", "tree"], ["-c", "u", "nosuch"], ["--", "tree"],
                                  ["--exp", "tree", "hostdevs"], ["-vc", "tree", "hostdevs"],
                                  ["--conn", "tree", "hostdevs"]])
def test_help_no_command_or_an_unknown_one_builds_every_parser(argv: list[str]) -> None:
    assert commands_of(main.build_parser(argv)) == [n for _, _, names in main.COMMANDS for n in names]


@pytest.mark.parametrize("argv", [
    ["-c", "test:///default", "tree", "--json", "g1"],
    ["--exp", "tree", "hostdevs"],  # an abbreviated option whose value reads like a command
    ["-vc", "tree", "hostdevs"],  # a cluster whose last option takes the next word
    ["--conn", "tree", "hostdevs"],
    ["-ctest:///default", "-vv", "--readonly", "tree"],
    ["--connect=tree", "--expand=g", "hostdevs", "--json"],
    ["-g", "tree", "-c", "lpar1", "hostdevs", "-g", "z"],
    ["--gro", "tree", "hostdevs"],
])
def test_a_command_parses_alike_either_way(argv: list[str]) -> None:
    alone = vars(main.build_parser(argv).parse_args(argv))
    every = vars(main.build_parser(["--help"]).parse_args(argv))
    assert alone == every
