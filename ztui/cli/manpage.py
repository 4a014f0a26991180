"""The manual page ztui(1), written from the parsers, the key bindings and the error kinds.

`python -m ztui.cli.manpage > docs/ztui.1` writes it (`make man`); the wheel installs docs/ztui.1 as
share/man/man1/ztui.1, and a test holds the file to what this module writes, so a new command, option, key
or exit status shows up as a failing test until the page is written again. Every command's synopsis and
options come from its parser (its own options; the shared ones are listed once), the keys from the same
rows as the help screen and the README's table, the exit statuses from `ztui.errors`.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Iterator

from ztui import __version__
from ztui.cli.main import build_parser
from ztui.ui.keys import main_screen_keys

_SHARED = ("-h", "-c", "-g", "--readonly", "-v", "--lab")
"""Options every command takes (the shared options and help): described once, under OPTIONS. A command's
own option of the same spelling (`hosts add -g`, the host's group) is its own (`_shared`)."""

ENVIRONMENT = (
    ("LIBVIRT_DEFAULT_URI", "the host to use when neither -c nor -g is given and no host is saved (as for "
                            "virsh); else qemu:///system"),
    ("NO_COLOR", "when set and not empty, no colour: the tree as text is plain, the TUI monochrome"),
    ("XDG_CONFIG_HOME", "where the saved hosts are: ztui/config.toml in it (default ~/.config), written by "
                        "ztui hosts"),
    ("XDG_STATE_HOME", "where the audit log, the journal, the locks and the TUI's log live "
                       "(default ~/.local/state; ztui's files are in its ztui/ directory)"),
    ("XDG_CACHE_HOME", "where the lab keeps what outlives it, e.g. downloaded Debian packages "
                       "(default ~/.cache; ztui/lab/ in it)"),
    ("XDG_RUNTIME_DIR", "where the user's own libvirt (qemu:///session) has its socket"),
    ("ZTUI_RECONNECT_TIMEOUT", "seconds to reconnect to a host lost between asking and proof before the "
                               "outcome is reported unknown (default 30)"),
    ("ZTUI_CONNECT_TIMEOUT", "seconds a host may take to answer before it is shown as not answering (the "
                             "TUI keeps waiting) or given up (commands); default 5"),
    ("ZTUI_LAB_DIR", "the lab's directory (default /var/tmp/ztui-lab)"),
    ("ZTUI_LAB_CACHE", "the lab's cache (default $XDG_CACHE_HOME/ztui/lab)"),
    ("ZTUI_LAB_DEBIAN_MIRROR", "the Debian mirror the lab's Linux guest is fetched from"),
    ("ZTUI_DRIVERCTL_DIR", "where prepare records driver overrides that are to outlive a reboot "
                           "(driverctl's directory)"),
)
"""The variables ztui reads (a test checks the code reads no other, apart from `INTERNAL_ENVIRONMENT`)."""

INTERNAL_ENVIRONMENT = ("ZTUI_FAULT_STEP", "ZTUI_FAULT_RUN", "ZTUI_STEP_LOG", "ZTUI_ACTION", "ZTUI_PID",
                        "ZTUI_STEP")
"""Fault-injection hooks of the test suite, not for users."""

FILES = (
    ("$XDG_CONFIG_HOME/ztui/config.toml", "the saved hosts (ztui hosts add|remove|list)"),
    ("$XDG_STATE_HOME/ztui/audit.jsonl", "every change and every refusal, one JSON object a line"),
    ("$XDG_STATE_HOME/ztui/journal/", "the intent of each attach, detach and migration until it is proven "
                                      "(ztui journal)"),
    ("$XDG_STATE_HOME/ztui/locks/", "one action per guest at a time: a lock file per host and guest, held "
                                    "by the ztui acting on it"),
    ("$XDG_STATE_HOME/ztui/ztui.log", "what the TUI logs while it owns the terminal"),
    ("$XDG_STATE_HOME/ztui/ssh/", "the script libvirt runs as ssh for qemu+ssh: the URI's ssh under setsid, "
                                  "without the terminal, so that nothing can ask there"),
    ("share/bash-completion/completions/ztui, share/zsh/site-functions/_ztui, "
     "share/fish/vendor_completions.d/ztui.fish", "shell completion, installed with the wheel "
                                                  "(ztui completion SHELL prints them)"),
)


def escape(text: str) -> str:
    """Text for troff: backslashes and hyphens escaped, no line that starts like a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return re.sub(r"(?m)^([.'])", r"\\&\1", text)


def _bold(text: str) -> str:
    return f"\\fB{escape(text)}\\fR"


def _text(text: str) -> str:
    """Help text with its `code spans` in bold."""
    return re.sub(r"`([^`]+)`", r"\\fB\1\\fR", escape(text))


def _commands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser, str]]:
    """(full name, parser, one-line help) of every command and subcommand shown in --help, in order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                sub = action.choices[choice.dest]
                yield choice.dest, sub, choice.help or ""
                for name, inner, text in _commands(sub):
                    yield f"{choice.dest} {name}", inner, text


def _shared(action: argparse.Action) -> bool:
    """One of the options every command takes: spelled as one of `_SHARED` and, like all of them, with no
    default of its own (so that a value given before the command name is kept)."""
    return bool(set(action.option_strings) & set(_SHARED)) and action.default is argparse.SUPPRESS


def _own(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """A parser's actions without the shared options and without its subcommands."""
    return [a for a in parser._actions if not isinstance(a, argparse._SubParsersAction) and not _shared(a)]


def synopsis(prog: str, parser: argparse.ArgumentParser) -> str:
    """The usage line of a command's own options and arguments, in argparse's notation, on one line."""
    formatter = argparse.HelpFormatter(prog, width=10_000)
    actions = _own(parser) + [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    groups = [g for g in parser._mutually_exclusive_groups if all(a in actions for a in g._group_actions)]
    formatter.add_usage(None, actions, groups, prefix="")
    return " ".join(formatter.format_help().split())


def _option_lines(actions: Iterable[argparse.Action], parser: argparse.ArgumentParser) -> Iterator[str]:
    formatter = parser._get_formatter()
    for action in actions:
        if action.help == argparse.SUPPRESS:
            continue
        if action.option_strings:
            value = "" if action.nargs == 0 else " " + formatter._format_args(action, action.dest.upper())
            head = ", ".join(_bold(o) + (f"\\fI{escape(value)}\\fR" if value else "")
                             for o in action.option_strings)
        else:
            head = f"\\fI{escape(formatter._format_args(action, action.dest))}\\fR"
        yield ".TP"
        yield head
        yield _text(formatter._expand_help(action) if action.help else "")


EXIT_STATUS = (
    ("0", "What was asked is done, and proven (for a read: everything was read)."),
    ("1", "Refused or failed, nothing changed: libvirt refused, a host could not be reached, another ztui "
          "is acting on the same guest, or the state directory (journal, audit log) cannot be written."),
    ("2", "Bad input, nothing changed: a value out of range, a name that does not exist, a guest not in a "
          "state for the action, a damaged file."),
    ("3", "Not proven: the request was made but its outcome could not be proven (a guest that did not "
          "release a device or react to a shutdown in time, a connection lost between asking and proof). "
          "The message says what to check; files are kept and the journal entry stays open."),
    ("120", "The output could not be written (a full disk)."),
    ("128+N", "Stopped by signal N (SIGINT, SIGTERM, SIGHUP; 130 for ctrl+c) after the current step; "
              "what was done is undone."),
)
"""Every exit status; a test holds it to the statuses of `ztui.errors` and `ztui.cli.common`."""


def render(parser: argparse.ArgumentParser, keys: Iterable[tuple[tuple[str, ...], str]]) -> str:
    """The page: `parser` is ztui's whole parser, `keys` the rows of the key table."""
    out = [
        f'.TH ZTUI 1 "" "ztui {escape(__version__)}" "User Commands"',
        ".SH NAME",
        "ztui \\- keyboard\\-driven explorer of KVM guests, their devices and what backs each of them on "
        "the host, first of all KVM on IBM Z",
        ".SH SYNOPSIS",
        f".B ztui\n{escape(synopsis('', parser))}",
        ".br",
        ".B ztui\n\\fICOMMAND\\fR [\\fIOPTIONS\\fR] ...",
        ".SH DESCRIPTION",
        escape(parser.description or ""),
        ".PP",
        escape("Without a command ztui shows the TUI: every guest of the hosts as one live tree, each device "
               "with the chain that backs it on the host (DASD, FCP LUN, NVMe, image file, OSA or "
               "HiperSockets, bridge or Open vSwitch, subchannel and mdev, AP crypto, zPCI). Hosts are "
               "saved hosts' names or libvirt URIs (-c, repeatable) and groups of saved hosts (-g); without "
               "them every saved host (ztui hosts), else $LIBVIRT_DEFAULT_URI, else qemu:///system, as for virsh. "
               "When standard output is not a terminal, the tree is printed as text instead. Every change "
               "shows the equivalent virsh command and counts as done only when libvirt shows it."),
        ".SH OPTIONS",
        *_option_lines([a for a in parser._actions if a.option_strings], parser),
        ".PP",
        escape("-c, -g, --readonly, -v and --lab may also follow a command's name."),
        ".SH COMMANDS",
    ]
    for name, sub, text in _commands(parser):
        out += [f".SS {escape(f'ztui {name}')}", escape(synopsis(f"ztui {name}", sub)).join(("\\fB", "\\fR")),
                ".PP", _text(sub.description or text)]
        out += _option_lines([a for a in _own(sub) if a.option_strings != ["-h", "--help"]], sub)
    out += [".SH KEYS", escape("In the TUI (? shows them too):")]
    for key_names, text in keys:
        out += [".TP", ", ".join(_bold(k) for k in key_names), _text(text)]
    out += [".SH EXIT STATUS"]
    for status, text in EXIT_STATUS:
        out += [".TP", _bold(status), escape(text)]
    out += [".SH ENVIRONMENT"]
    for name, text in ENVIRONMENT:
        out += [".TP", _bold(name), escape(text)]
    out += [".SH FILES"]
    for name, text in FILES:
        out += [".TP", f"\\fI{escape(name)}\\fR", escape(text)]
    out += [".SH SEE ALSO", "\\fBvirsh\\fR(1), \\fBlszdev\\fR(8), \\fBlscss\\fR(8), \\fBlsdasd\\fR(8), "
            "\\fBlszcrypt\\fR(8), \\fBmdevctl\\fR(8)", ""]
    return "\n".join(out)


def page() -> str:
    """The page from ztui's own parser and key bindings."""
    return render(build_parser([]), [(row.keys, row.text) for row in main_screen_keys()])


if __name__ == "__main__":
    print(page(), end="")
