"""Shell completion: `ztui completion bash|zsh|fish` prints the script for a shell, and the script asks
`ztui __complete SHELL INDEX WORD...` what fits where the cursor is.

The scripts are small and never change (`ztui/cli/shells/`; the wheel installs them where bash-completion,
zsh and fish look); everything else is answered here from the parsers themselves, so a new command or
option completes without a new script. A value's kind comes from how the parsers name it (`GUEST`,
`TARGET…`, `BUSID`, `NETWORK`, `FILE`, choices…, see `kind_of`); values that live on a host (guests,
their devices, the host's ccw devices, mdevs, PCI functions and networks) are read from the hosts the line
names (`-c`, `--lab`, else `$LIBVIRT_DEFAULT_URI` or the system's), one quick read each, bounded in time
(`ztui.libvirt.names`). A lifecycle command offers only the guests in a state for it.

The answer: a first line `words`, `files` or `dirs`, then one value per line (for zsh and fish with a tab
and a few words on it). For bash the values are already narrowed to the word being completed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources

from ztui.cli.main import build_parser
from ztui.config import BadConfig, choose_hosts, load_config
from ztui.errors import BadInput, End, Status
from ztui.facts import CcwRole, F, ccw_role, is_dasd_alias
from ztui.model import GuestState, HostDevice, HostDeviceKind

#: where each shell's script lives in the package (the wheel also installs it for the shell)
SCRIPTS = {"bash": "ztui.bash", "zsh": "_ztui", "fish": "ztui.fish"}


class Kind(StrEnum):
    """What a value on the command line is, and so where its completions come from."""

    FREE = "free"  # anything: nothing to offer
    CHOICE = "choice"  # one of the parser's choices
    GUEST = "guest"  # a guest of the hosts on the line
    DEVICE = "device"  # a device of the guest on the line: target, alias or bus-ID
    CCW = "ccw"  # a ccw device of the host (DASD, tape, FCP channel) by bus-ID
    MDEV = "mdev"  # an existing mdev by UUID
    PCI = "pci"  # a PCI or zPCI function by address
    NETWORK = "network"  # an active libvirt network
    HOST = "host"  # a saved host's name, or with --lab a running lab host's (no host is read for it)
    GROUP = "group"  # a group of saved hosts
    FILE = "file"
    DIR = "dir"


class Answer(StrEnum):
    """The first line of an answer: what the shell is to offer."""

    WORDS = "words"
    FILES = "files"
    DIRS = "dirs"


_METAVAR_KINDS = {
    "GUEST": Kind.GUEST, "BUSID": Kind.CCW, "BUS-ID": Kind.CCW, "NETWORK": Kind.NETWORK,
    "ADDR": Kind.PCI, "DDDD:BB:SS.F": Kind.PCI, "FILE": Kind.FILE, "PATH": Kind.FILE, "DEV": Kind.FILE,
    "DIR": Kind.DIR, "NAME|URI": Kind.HOST, "GROUP": Kind.GROUP,
}


def kind_of(action: argparse.Action) -> Kind:
    """The kind of an option's or positional's value, from how the parser names it."""
    if action.choices is not None and not isinstance(action, argparse._SubParsersAction):
        return Kind.CHOICE
    metavar = action.metavar if isinstance(action.metavar, str) else ""
    if metavar.startswith("TARGET"):  # detach's TARGET|ALIAS|BUSID, migrate's --detach TARGET
        return Kind.DEVICE
    if action.dest == "to":  # migrate's destination: a name like -c's
        return Kind.HOST
    if metavar == "UUID":  # an existing mdev (`--mdev`, unprepare's); prepare's `--uuid` names a new one
        return Kind.MDEV if not action.option_strings or action.dest == "mdev" else Kind.FREE
    return _METAVAR_KINDS.get(metavar, Kind.FREE)


@dataclass
class Line:
    """What the words before the cursor say: the parser the cursor is in, the hosts and the guest named,
    and the option (if any) whose value the cursor is on."""

    parser: argparse.ArgumentParser
    uris: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    lab: bool = False
    guest: str = ""
    pending: argparse.Action | None = None
    taken: int = 0  # positionals of `parser` filled
    only_positionals: bool = False  # after `--`

    def positionals(self) -> list[argparse.Action]:
        return [a for a in self.parser._actions if not a.option_strings]

    def next_positional(self) -> argparse.Action | None:
        found = self.positionals()
        if self.taken < len(found):
            return found[self.taken]
        if found and found[-1].nargs in ("*", "+"):
            return found[-1]
        return None

    def take(self, action: argparse.Action, value: str) -> None:
        """A value given to an option or positional."""
        if action.dest == "connect":
            self.uris.append(value)
        elif action.dest == "group":
            self.groups.append(value)
        elif kind_of(action) is Kind.GUEST and not self.guest:
            self.guest = value

    def read(self, word: str) -> None:
        """One more word before the cursor."""
        if self.pending is not None:
            self.take(self.pending, word)
            self.pending = None
        elif word == "--" and not self.only_positionals:
            self.only_positionals = True
        elif word.startswith("-") and word != "-" and not self.only_positionals:
            self._option(word)
        else:
            self._positional(word)

    def _option(self, word: str) -> None:
        name, equals, value = word.partition("=")
        action = self.parser._option_string_actions.get(name)
        if action is None and not word.startswith("--") and len(word) > 2:  # -cURI
            action, equals, value = self.parser._option_string_actions.get(word[:2]), "=", word[2:]
        if action is None:
            return
        if action.dest == "lab":
            self.lab = True
        if action.nargs == 0:
            return
        if equals:
            self.take(action, value)
        else:
            self.pending = action

    def _positional(self, word: str) -> None:
        action = self.next_positional()
        if action is None:
            return
        if isinstance(action, argparse._SubParsersAction):
            sub = action.choices.get(word)
            if sub is not None:
                self.parser, self.taken = sub, 0
            else:
                self.taken += 1
            return
        self.take(action, word)
        if action.nargs not in ("*", "+"):
            self.taken += 1


@dataclass(frozen=True)
class Completion:
    answer: Answer
    values: list[tuple[str, str]]  # value, a few words on it
    prefix: str = ""  # put before every value (`--disk=`)


HostReader = Callable[[Kind, "Line"], list[tuple[str, str]]]


def complete(parser: argparse.ArgumentParser, before: Sequence[str], current: str,
             host_values: HostReader) -> Completion:
    """What may stand at the cursor: `before` are the words before it (without `ztui`), `current` the
    word it is in, up to the cursor."""
    line = Line(parser)
    for word in before:
        line.read(word)
    if line.pending is not None:
        return _values(line.pending, line, host_values)
    if current.startswith("-") and not line.only_positionals:
        name, equals, _ = current.partition("=")
        action = line.parser._option_string_actions.get(name)
        if equals and action is not None and action.nargs != 0:
            found = _values(action, line, host_values)
            return Completion(found.answer, found.values, prefix=f"{name}=")
        return Completion(Answer.WORDS, _options(line.parser))
    action = line.next_positional()
    if action is None:
        return Completion(Answer.WORDS, [])
    if isinstance(action, argparse._SubParsersAction):
        return Completion(Answer.WORDS, [(a.dest, a.help or "") for a in action._choices_actions])
    return _values(action, line, host_values)


def _options(parser: argparse.ArgumentParser) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for action in parser._actions:
        if action.help == argparse.SUPPRESS:
            continue
        out += [(option, action.help or "") for option in action.option_strings]
    return out


def _values(action: argparse.Action, line: Line, host_values: HostReader) -> Completion:
    kind = kind_of(action)
    if kind is Kind.CHOICE:
        return Completion(Answer.WORDS, [(str(c), "") for c in action.choices or ()])
    if kind is Kind.FILE:
        return Completion(Answer.FILES, [])
    if kind is Kind.DIR:
        return Completion(Answer.DIRS, [])
    if kind is Kind.FREE:
        return Completion(Answer.WORDS, [])
    if kind in (Kind.HOST, Kind.GROUP):
        return Completion(Answer.WORDS, host_names(kind, line.lab))
    return Completion(Answer.WORDS, host_values(kind, line))


# --- the hosts -----------------------------------------------------------------------------------------


def host_names(kind: Kind, lab: bool) -> list[tuple[str, str]]:
    """The saved hosts' names (with their URIs as the description) and, with `--lab` on the line, the running
    lab hosts' names; or the saved groups. From the config and the lab's record alone: no host is asked."""
    try:
        saved = load_config().hosts
    except BadConfig:
        saved = ()
    if kind is Kind.GROUP:
        return [(g, "") for g in dict.fromkeys(h.group for h in saved if h.group)]
    return [(h.name, h.uri) for h in saved] + (list(running_lab().items()) if lab else [])


def running_lab() -> dict[str, str]:
    """The running lab's hosts by name, each over its own socket (the daemons `--lab` reaches, without
    zlab-b's ssh round trips); none when no lab runs, which a completion never starts."""
    # only with --lab on the line: the lab's code is 70 ms to import, a completion's whole budget
    from ztui.lab.hosts import lab_hosts  # noqa: PLC0415 - the lab, with --lab alone

    return {h.name: h.uri for h in lab_hosts() if h.pid is not None}


def line_uris(line: Line) -> list[str]:
    """The hosts a completion reads: what `-c`, `-g` and `--lab` choose, by the rule every command follows
    (`choose_hosts`: saved names and groups; without them the lab's hosts with `--lab`, else the saved hosts,
    `$LIBVIRT_DEFAULT_URI` or the system's), the lab's as `running_lab` has them; with `--lab` and no lab
    running nothing is read. A config that cannot be read leaves the URIs on the line as they are."""
    lab = running_lab() if line.lab else {}
    if line.lab and not lab:
        return []
    try:
        return choose_hosts(line.uris, line.groups, lab=lab).uris
    except BadInput:
        return list(line.uris)


def read_hosts(kind: Kind, line: Line) -> list[tuple[str, str]]:
    """Values of a host kind, from the hosts the line names. Only here: a completion that offers no value
    of a host (a command, an option, a file) never loads libvirt (90 ms to import, with the readers)."""
    import libvirt  # noqa: PLC0415 - libvirt, for a host's values alone

    from ztui.libvirt import names  # noqa: PLC0415 - libvirt, for a host's values alone

    question: names.Question
    if kind is Kind.GUEST:
        question = names.guests(_state_filter(line.parser))
    elif kind is Kind.DEVICE:
        if not line.guest:
            return []
        question = names.devices_of(line.guest)
    elif kind is Kind.CCW:
        question = names.host_devices(HostDeviceKind.CCW, _is_dasd, _dasd_about,
                                      libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_CCW_DEV)
    elif kind is Kind.MDEV:
        question = names.host_devices(HostDeviceKind.MDEV, lambda _d: True, lambda d: d.fact(F.MDEV_TYPE),
                                      libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_MDEV)
    elif kind is Kind.PCI:
        question = names.host_devices(HostDeviceKind.PCI, lambda _d: True, lambda d: d.driver or "PCI function",
                                      libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV)
    elif kind is Kind.NETWORK:
        question = names.networks
    else:
        return []
    return names.ask_hosts(line_uris(line), question)


def _is_dasd(dev: HostDevice) -> bool:
    """A DASD that can back a disk: not a HyperPAV alias (what `--dasd` and `prepare vfio-ccw` take)."""
    return ccw_role(dev) is CcwRole.DASD and not is_dasd_alias(dev)


def _dasd_about(dev: HostDevice) -> str:
    return f"DASD {dev.fact(F.DEVTYPE)} {dev.fact(F.CUTYPE)}".strip()


def _state_filter(parser: argparse.ArgumentParser) -> Callable[[str, GuestState], bool] | None:
    """For a lifecycle command (its parser's default `action`), the guests it applies to: the same
    decision as the command's own (`ztui.ops.lifecycle.plan`)."""
    action_name = parser.get_default("action")
    if not isinstance(action_name, str):
        return None
    # only for a lifecycle command's guest: its rule comes with libvirt's (110 ms to import)
    from ztui.ops.lifecycle import Action, plan  # noqa: PLC0415 - libvirt, for a guest's value alone

    try:
        action = Action(action_name)
    except ValueError:
        return None
    return lambda name, state: plan(action, "", name, state).ok


# --- the commands --------------------------------------------------------------------------------------


def script(shell: str) -> str:
    return resources.files("ztui.cli").joinpath("shells", SCRIPTS[shell]).read_text(encoding="utf-8")


def run_completion(args: argparse.Namespace) -> End:
    sys.stdout.write(script(args.shell))
    return Status.DONE


def run_complete(args: argparse.Namespace) -> End:
    """The answer for the scripts; never an error (a completion that fails offers nothing)."""
    words = list(args.words)
    index = min(max(args.index, 1), len(words)) if words else 1
    before = words[1:index]
    current = words[index] if index < len(words) else ""
    found = complete(build_parser(before), before, current, read_hosts)
    lines = [found.answer.value]
    for value, about in found.values:
        full = found.prefix + value
        if args.shell == "bash":
            if full.startswith(current):
                lines.append(full)
        else:
            lines.append(f"{full}\t{' '.join(about.split())}" if about else full)
    sys.stdout.write("\n".join(lines) + "\n")
    return Status.DONE
