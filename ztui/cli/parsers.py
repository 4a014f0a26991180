"""The command line's grammar: every command's parser, and which function runs it.

Building a parser imports nothing of what its command does: a command's work is named here by its module and
function (`Run`) and imported only when it runs (`ztui.cli.main`). So `ztui --help`, completion at any word
(which builds the parsers to know what fits) and the manual page cost only argparse, and `ztui tree` imports
nothing of `ztui attach`. The values a parser checks while it parses are `ztui.cli.validate`'s.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass

from ztui.cli.validate import OneLineParser, integer, positive, seconds, text
from ztui.cli.version import VersionAction
from ztui.errors import BadInput, End


@dataclass(frozen=True)
class Run:
    """A command's function, named by its module and its name: imported when the command runs, never when
    its parser is built. It takes the parsed arguments and returns how the command ended."""

    module: str
    name: str

    def __call__(self, args: argparse.Namespace) -> End:
        function: Callable[[argparse.Namespace], End] = getattr(importlib.import_module(self.module), self.name)
        return function(args)


NO_HOSTS = {"opens_hosts": False}
"""The parser default of a command that opens no host -c, -g or the saved hosts name (`hosts`, `lab`,
`completion`, resolving a journal entry, which names its own): the hosts are not settled for it, so a broken
saved-hosts config does not stop it (`ztui.cli.main`)."""

SOURCE_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("disk", "PATH", "virtio-blk from an image file (with --size: a new qcow2/raw image, by its name)"),
    ("block", "DEV", "virtio-blk from a host block device (multipath, NVMe, /dev/disk/by-path/…)"),
    ("dasd", "BUSID", "virtio-blk from a DASD by bus-ID, e.g. 0.0.5c3f"),
    ("lun", "DEV", "a SCSI LUN on virtio-scsi (the controller is added when the guest has none)"),
    ("net", "NETWORK", "virtio-net on a libvirt network"),
    ("bridge", "BR", "virtio-net on a host bridge (Linux or Open vSwitch, detected)"),
    ("macvtap", "IFACE", "virtio-net, macvtap (direct) on an interface: an OSA or HiperSockets card on Z"),
    ("mdev", "UUID", "an existing mdev: vfio-ccw or vfio-ap (one vfio-ap per guest), live like any device"),
    ("pci", "ADDR", "a PCI/zPCI function, managed VFIO"),
)
"""`ztui attach`'s sources (`ztui.ops.attach.plan.SOURCES`, in that order), with their values' names."""

DETACH_TIMEOUT = 15.0
"""How long `ztui detach` waits for the guest to release a device (`ztui.ops.attach.prove`'s default)."""

LIFECYCLE: dict[str, tuple[str, bool]] = {
    "start": ("start a shut-off guest", True), "resume": ("resume a paused guest", True),
    "shutdown": ("ask a guest's OS to shut down (graceful)", False),
    "reboot": ("ask a guest's OS to reboot", False), "destroy": ("force a guest off at once", False),
    "suspend": ("pause a running guest", False),
}
"""Each lifecycle command (`ztui.ops.lifecycle.Action`): what it does, and whether it starts the guest's CPUs
(then it first asks every other host whether the guest runs there, which `--force` overrides)."""

MAX_BANDWIDTH_MIB = 1 << 20  # 1 TiB/s: beyond any link; libvirt takes an unsigned long
MAX_DOWNTIME_MS = 2_000_000  # QEMU's limit for downtime-limit (2000 s)

SHELLS = ("bash", "zsh", "fish")
COMPLETE = "__complete"
"""The hidden command the completion scripts call."""


def common_options() -> argparse.ArgumentParser:
    """Options accepted both before and after the command name (`ztui -c URI tree` = `ztui tree -c URI`)."""
    common = OneLineParser(add_help=False)
    common.add_argument("-c", "--connect", action="append", metavar="NAME|URI", default=argparse.SUPPRESS,
                        help="a saved host's name (ztui hosts list) or a libvirt URI, repeatable (default: every "
                             "saved host, else $LIBVIRT_DEFAULT_URI, else qemu:///system)")
    common.add_argument("-g", "--group", action="append", metavar="GROUP", default=argparse.SUPPRESS,
                        help="every saved host of this group, repeatable")
    common.add_argument("--readonly", action="store_true", default=argparse.SUPPRESS,
                        help="open read-only connections; refuse every change")
    common.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                        help="log more (repeat for debug)")
    common.add_argument("--lab", action="store_true", default=argparse.SUPPRESS,
                        help="start the private lab if needed and use its hosts (-c and --to may name them: "
                             "zlab-a)")
    return common


def add_tree_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                     common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "tree", parents=[common], help="print guests, their devices and what backs them",
        description="Print every guest's devices (like lsblk), or JSON with --json.")
    p.add_argument("guests", nargs="*", metavar="GUEST", help="only these guests")
    p.add_argument("--json", action="store_true", help="print JSON (schema in the README)")
    p.add_argument("--domain-xml", nargs="+", action="extend", metavar="FILE", default=[],
                   help="read saved domain XML (or a test-driver host file) instead of connecting")
    add_host_facts_option(p)
    p.add_argument("--no-backing", action="store_true",
                   help="text: only guests and their devices, without each device's backing chain")
    p.set_defaults(func=Run("ztui.cli.tree", "run_tree"), one_shot=True)


def add_host_facts_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host-facts", metavar="FILE", default="",
                        help="resolve against a host-facts snapshot (`ztui hostfacts save`) instead of this "
                             "machine's udev and files; with --domain-xml or for every -c URI")


def add_hostdevs_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                         common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "hostdevs", parents=[common], help="list host devices and the guests using each",
        description="List the host's devices grouped by kind, with the guests and guest devices that use "
                    "each, conflicts and pass-through readiness. udev is read for a local URI.")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=Run("ztui.cli.hostdevs", "run_hostdevs"), one_shot=True)


def add_attach_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                       common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "attach", parents=[common], help="hotplug a device into a guest",
        description="Attach a device. The request is validated first (exit 2, nothing changed); the device "
                    "counts as attached only when the guest's XML shows it. Without --live/--config: live "
                    "for a running guest, the persistent config for a shut-off one.")
    p.add_argument("guest", metavar="GUEST", type=text())
    source = p.add_mutually_exclusive_group(required=True)
    for name, metavar, help_text in SOURCE_OPTIONS:
        source.add_argument(f"--{name}", metavar=metavar, help=help_text, type=text())
    p.add_argument("--size", type=text(), help="create the --disk image with this size first, e.g. 64M (removed "
                                               "again if the attach fails)")
    p.add_argument("--target", default="", help="target name (default: the next free vdX, sdX for --lun)")
    p.add_argument("--devno", default="", help="ccw bus-ID 0.0.0000-0.0.ffff (default: libvirt picks one)")
    p.add_argument("--live", action="store_true", default=None, help="change the running guest")
    p.add_argument("--config", action="store_true", default=None, help="change the persistent config")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(func=Run("ztui.cli.attach", "run_attach"))


def add_detach_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                       common: argparse.ArgumentParser) -> None:
    d = subparsers.add_parser(
        "detach", parents=[common], help="hot-unplug a device from a guest",
        description="Detach a device by target (vdb), alias (virtio-disk1) or bus-ID (0.0.0003). A running "
                    "guest loses it live (and from its config with --config); a shut-off guest from its "
                    "config. Exit 3 when the guest does not release it within the timeout.")
    d.add_argument("guest", metavar="GUEST", type=text())
    d.add_argument("device", metavar="TARGET|ALIAS|BUSID", type=text())
    d.add_argument("--timeout", type=seconds, default=None,
                   help=f"seconds to wait for the guest to release it (default {DETACH_TIMEOUT:g})")
    d.add_argument("--config", action="store_true", help="also remove it from the persistent config")
    d.add_argument("--force", action="store_true",
                   help="even the device the running guest IPLed from (its root file system goes with it)")
    d.add_argument("--json", action="store_true", help="print the result as one JSON object")
    d.set_defaults(func=Run("ztui.cli.detach", "run_detach"))


def add_migrate_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                        common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("migrate", parents=[common], help="migrate a guest (live, moving pass-through devices; "
                                                                "or --offline)",
                              description="Detach pass-through devices, migrate live (peer-to-peer), attach them on "
                                          "the destination; roll back on any failure.")
    p.add_argument("guest", metavar="GUEST", type=text())
    p.add_argument("--to", required=True, metavar="URI", type=text(), help="the destination host's libvirt URI")
    p.add_argument("--passthrough", choices=("detach-reattach", "refuse"), default="detach-reattach",
                   help="what to do with pass-through devices (default: detach-reattach)")
    p.add_argument("--detach", action="append", default=[], metavar="TARGET", type=text(),
                   help="also move this device around the migration (target, alias, bus-ID; repeatable)")
    storage = p.add_mutually_exclusive_group()
    storage.add_argument("--unsafe", action="store_true", help="disks are on storage the destination shares")
    storage.add_argument("--copy-storage", action="store_true", help="copy local disks to the destination")
    p.add_argument("--bandwidth", type=integer(0, MAX_BANDWIDTH_MIB), default=0, metavar="MiB/s",
                   help=f"limit the migration bandwidth (1-{MAX_BANDWIDTH_MIB}; 0 = libvirt's default)")
    p.add_argument("--max-downtime", type=integer(0, MAX_DOWNTIME_MS), default=0, metavar="MS",
                   help=f"longest pause allowed at the end (1-{MAX_DOWNTIME_MS} ms; 0 = QEMU's default)")
    p.add_argument("--persistent", action="store_true", help="define the guest on the destination")
    p.add_argument("--offline", action="store_true",
                   help="move a shut-off guest's definition only (implies --persistent; nothing starts, no disk "
                        "is copied)")
    p.add_argument("--undefine-source", action="store_true", help="undefine the guest on the source")
    p.add_argument("--auto-converge", action="store_true", help="throttle vCPUs if memory does not converge")
    p.add_argument("--postcopy", action="store_true", help="allow post-copy (ctrl+\\ switches to it)")
    p.add_argument("--migrate-uri", default=None, metavar="URI", type=text(),
                   help="the data stream's address (default tcp://<destination host>, loopback for local)")
    p.add_argument("--json", action="store_true", help="one JSON object per step and progress, then the report")
    p.set_defaults(func=Run("ztui.cli.migrate", "run_migrate"))


def add_where_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                      common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("where", parents=[common], help="which other hosts could take a guest, and why not",
                              description="Judge every other host ztui knows (the hosts given, the lab's, the saved "
                                          "ones) by the migration preflight: ready, ready after steps, or no — each "
                                          "no with what to change.")
    p.add_argument("guest", metavar="GUEST", type=text())
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=Run("ztui.cli.where", "run_where"))


def add_evacuate_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                         common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("evacuate", parents=[common],
                              help="migrate every running guest off a host (maintenance), planned first",
                              description="Plan a destination for every running guest of HOST (the ready host with "
                                          "the most free memory), show the plan, then migrate them one by one, "
                                          "stopping at the first that cannot go.")
    p.add_argument("host", metavar="HOST", type=text(), help="the host to empty: a saved name, a lab host, a URI")
    p.add_argument("--to", action="append", default=[], metavar="HOST", type=text(), dest="to_hosts",
                   help="only these destinations (repeatable; default: every other host ztui knows)")
    p.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    p.add_argument("--json", action="store_true", help="JSON lines: the plan, each guest's migration, the report")
    p.set_defaults(func=Run("ztui.cli.evacuate", "run_evacuate"))


def add_journal_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                        common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "journal", parents=[common], help="unfinished operations: list, finish or roll back",
        description="Every attach, detach and migration writes its intent to a journal before it changes "
                    "anything; an entry left behind is an operation whose outcome was not proven. List "
                    "them, or finish or roll back one by its id.")
    p.add_argument("--json", action="store_true", help="print them as JSON")
    p.add_argument("--all", action="store_true",
                   help="every unfinished operation, whichever host it acted on (default: the hosts -c, -g or "
                        "--lab name, else the saved hosts, $LIBVIRT_DEFAULT_URI or qemu:///system)")
    p.set_defaults(func=Run("ztui.cli.journal", "run_journal_list"), all=False)
    sub = p.add_subparsers(title="resolving", metavar="finish|rollback")
    for name, what in (("finish", "complete the operation (proven)"), ("rollback", "undo the operation (proven)")):
        r = sub.add_parser(name, parents=[common], help=what, description=what)
        r.add_argument("id", metavar="ID")
        r.add_argument("--json", action="store_true", help="print the result as one JSON object")
        r.set_defaults(func=Run("ztui.cli.journal", "run_journal_resolve"), how=name, **NO_HOSTS)


def add_lifecycle_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                           common: argparse.ArgumentParser) -> None:
    for action, (what, starts_guest) in LIFECYCLE.items():
        p = subparsers.add_parser(action, parents=[common], help=what,
                                  description=f"{what.capitalize()}, and wait for libvirt's "
                                              "lifecycle event that proves it (exit 3 when it does not come "
                                              "within the timeout).")
        p.add_argument("guest", metavar="GUEST")
        p.add_argument("--timeout", type=seconds, default=None, metavar="SECONDS",
                       help="how long to wait for the proof (default 60 for shutdown and reboot, else 10)")
        p.add_argument("--json", action="store_true", help="print the result as one JSON object")
        if starts_guest:
            p.add_argument("--force", action="store_true",
                           help="even when the guest runs on another host ztui knows (two copies on shared "
                                "disks destroy their file systems)")
        p.set_defaults(func=Run("ztui.cli.lifecycle", "run_lifecycle"), action=action, force=False)


def add_hostfacts_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                          common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "hostfacts", parents=[common], help="record this host's facts (udev, mounts, files) to a file",
        description="Record this machine's host facts as a versioned JSON snapshot: udev's devices, the "
                    "mounts and the files the guests of the local libvirt URIs use. `ztui tree --host-facts "
                    "FILE` resolves guests against it on any machine.")
    actions = p.add_subparsers(title="actions", metavar="ACTION", required=True)
    save = actions.add_parser("save", parents=[common], help="write the snapshot to FILE")
    save.add_argument("file", metavar="FILE")
    save.set_defaults(func=Run("ztui.cli.hostfacts", "run_save"))


def add_prepare_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                         common: argparse.ArgumentParser) -> None:
    for name, undo in (("prepare", False), ("unprepare", True)):
        verb = "give a prepared device back to the host" if undo else "make a host device ready for pass-through"
        p = subparsers.add_parser(
            name, parents=[common], help=verb,
            description=f"{verb[0].upper()}{verb[1:]}: the plan first (every step as the command an "
                        "administrator would type and the sysfs writes it makes), then each step done and "
                        "proven by a re-read; a failed step undoes the ones before it. This machine's own host only. "
                        + ("" if undo else "Refused with the reason, before any write: a device the host itself or "
                           "a guest uses, a PAV alias, an APQN another mdev holds, a device whose facts could not "
                           "be read."))
        kinds = p.add_subparsers(title="kinds", metavar="KIND", dest="prep_kind", required=True)
        ccw = kinds.add_parser("vfio-ccw", parents=[common], help="an ECKD DASD → a vfio_ccw-io mdev")
        ccw.add_argument("busid", metavar="BUS-ID", help="the DASD's bus-ID, e.g. 0.0.5c3f")
        ap = kinds.add_parser("vfio-ap", parents=[common], help="AP adapters x domains → a vfio_ap mdev")
        if undo:
            ap.add_argument("uuid", metavar="UUID", help="the vfio-ap mdev to remove")
        else:
            ap.add_argument("--adapter", action="append", required=True, metavar="N",
                            help="adapter number (0x.. hex or decimal; repeat or comma-separate)")
            ap.add_argument("--domain", action="append", required=True, metavar="N", help="usage domain")
            ap.add_argument("--control-domain", action="append", default=[], metavar="N", help="control domain")
        pci = kinds.add_parser("pci", parents=[common], help="a PCI or zPCI function")
        pci.add_argument("address", metavar="DDDD:BB:SS.F")
        if not undo:
            pci.add_argument("--unmanaged", action="store_true",
                             help="bind it to vfio-pci now (managed='yes' needs nothing)")
        for sub in (ccw, ap, pci):
            if not undo and sub is not pci:
                sub.add_argument("--uuid", metavar="UUID", help="the mdev's UUID (default: a new one)")
            sub.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
            sub.add_argument("--json", action="store_true", help="print the plan and the result as JSON")
            sub.set_defaults(func=Run("ztui.cli.prepare", "run_prepare"), undo=undo)


def add_hosts_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                      common: argparse.ArgumentParser | None = None) -> None:
    """`hosts` and its subcommands; `common` is not used (they open no host)."""
    hosts = subparsers.add_parser(
        "hosts", help="saved hosts: a plain `ztui` opens them all",
        description="Saved hosts, kept in $XDG_CONFIG_HOME/ztui/config.toml (else ~/.config/ztui/config.toml). "
                    "Every command takes a saved name for -c and a group for -g.")
    hosts.set_defaults(func=usage(hosts, "hosts: a command is required (add, remove, list)"), **NO_HOSTS)
    sub = hosts.add_subparsers(title="hosts commands", metavar="COMMAND")

    add = sub.add_parser("add", help="save a host under a name",
                         description="Save a host. It is not connected to now.")
    add.add_argument("name", metavar="NAME", type=text(), help="what -c takes: letters, digits, '.', '_', '-'")
    add.add_argument("uri", metavar="URI", type=text(), help="its libvirt URI, e.g. qemu+ssh://root@lpar1/system")
    add.add_argument("-g", "--group", type=text(), default=None, help="a group, for -g GROUP")
    add.add_argument("--readonly", action="store_true", help="open it read-only: nothing on it can be changed")
    add.set_defaults(func=Run("ztui.cli.hosts", "run_add"))

    remove = sub.add_parser("remove", help="forget a saved host")
    remove.add_argument("name", metavar="NAME", type=text())
    remove.set_defaults(func=Run("ztui.cli.hosts", "run_remove"))

    listing = sub.add_parser("list", help="the saved hosts")
    listing.add_argument("-g", "--group", action="append", type=text(), default=[], help="only this group")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=Run("ztui.cli.hosts", "run_list"))


def add_completion_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                            common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "completion", help="print the shell completion script for bash, zsh or fish",
        description="Print the completion script for a shell: commands, options, guest names, device "
                    "targets and bus-IDs (read from the hosts the line names). The wheel installs it where "
                    "bash-completion, zsh and fish look; otherwise: eval \"$(ztui completion bash)\" in "
                    "~/.bashrc, ztui completion zsh > ~/.zfunc/_ztui, or ztui completion fish > "
                    "~/.config/fish/completions/ztui.fish.")
    p.add_argument("shell", choices=SHELLS)
    p.set_defaults(func=Run("ztui.cli.completion", "run_completion"), **NO_HOSTS)
    # hidden (no help): what the scripts call
    hidden = subparsers.add_parser(COMPLETE, add_help=False)
    hidden.add_argument("shell", choices=SHELLS)
    hidden.add_argument("index", type=int)
    hidden.add_argument("words", nargs=argparse.REMAINDER)
    hidden.set_defaults(func=Run("ztui.cli.completion", "run_complete"), one_shot=True, **NO_HOSTS)

def top_parser(common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """`ztui` itself, with the shared options, `--version` and `--expand`; the TUI when no command follows."""
    parser: argparse.ArgumentParser = OneLineParser(
        prog="ztui", parents=[common],
        description="Guests of KVM hosts (first of all KVM on IBM Z), their virtio and VFIO devices and "
                    "what backs each of them on the host.")
    parser.add_argument("--version", action=VersionAction,
                        help="print the versions of ztui, Textual, libvirt-python and the libvirt library")
    parser.add_argument("--expand", metavar="GUEST", default="",
                        help="open this guest with its devices' backing chains at start (e.g. zlnx01 of --lab)")
    # no defaults for the shared options here: parents share action objects, so a default set on this
    # parser would also reset a value given before the command name (`ztui.cli.main`)
    parser.set_defaults(func=Run("ztui.cli.main", "run_default"))
    return parser


def usage(parser: argparse.ArgumentParser, message: str) -> Callable[[argparse.Namespace], End]:
    """No subcommand given: show what there is, as bad input."""

    def show(_args: argparse.Namespace) -> End:
        parser.print_usage(sys.stderr)
        raise BadInput(message)

    return show


def add_lab_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                     common: argparse.ArgumentParser | None = None) -> None:
    """Add `lab` with its subcommands; `common` is not used: the lab's commands take none of the options
    shared by the others."""
    lab = subparsers.add_parser(
        "lab", help="private libvirt hosts with s390x guests (needs root)",
        description="A lab of private libvirt daemons (zlab-a, zlab-b, ...) with QEMU s390x guests, "
                    "isolated from the system's libvirt. Needs root, libvirtd and qemu-system-s390x.")
    lab.set_defaults(func=usage(lab, f"{lab.prog}: a command is required"), **NO_HOSTS)
    add_lab_subcommands(lab.add_subparsers(title="lab commands", metavar="COMMAND"))


def add_lab_subcommands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`start`, `status`, `stop` and `testdriver`: under `ztui lab`, or alone (`python -m ztui.cli.lab`)."""
    dir_opt = argparse.ArgumentParser(add_help=False)
    dir_opt.add_argument("--dir", dest="lab_dir", metavar="DIR", default=argparse.SUPPRESS,
                         help="lab directory (default: $ZTUI_LAB_DIR, else /var/tmp/ztui-lab)")

    start = sub.add_parser("start", parents=[dir_opt], help="start the lab (or reuse a running one)",
                           description="Start N hosts with guests, or reuse the running lab and restart "
                                       "any host whose daemon died. Prints each host and its URI.")
    start.add_argument("--hosts", type=positive, default=2, metavar="N", help="number of hosts (default 2)")
    start.add_argument("--linux", action="store_true",
                       help="also run a guest with a Debian s390x kernel and a busybox shell "
                            "(downloads the packages once)")
    start.add_argument("--no-z", action="store_true",
                       help="without the simulated IBM z16 host zlab-z (its facts are generated, its DASD and "
                            "FCP disks are loop devices inside its namespace)")
    start.set_defaults(func=Run("ztui.cli.lab", "cmd_start"))

    status = sub.add_parser("status", parents=[dir_opt], help="hosts, daemons and guests of the lab")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=Run("ztui.cli.lab", "cmd_status"))

    stop = sub.add_parser("stop", parents=[dir_opt], help="stop the lab and remove its state")
    stop.set_defaults(func=Run("ztui.cli.lab", "cmd_stop"))

    testdriver = sub.add_parser("testdriver", help="write a libvirt test-driver file with many guests")
    testdriver.add_argument("--guests", type=int, default=100, metavar="N", help="number of guests")
    testdriver.add_argument("--out", required=True, metavar="FILE", help="file to write")
    testdriver.set_defaults(func=Run("ztui.cli.lab", "cmd_testdriver"))


COMMANDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (__name__, "add_tree_command", ("tree",)),
    (__name__, "add_hostdevs_command", ("hostdevs",)),
    (__name__, "add_attach_command", ("attach",)),
    (__name__, "add_detach_command", ("detach",)),
    (__name__, "add_migrate_command", ("migrate",)),
    (__name__, "add_where_command", ("where",)),
    (__name__, "add_evacuate_command", ("evacuate",)),
    (__name__, "add_journal_command", ("journal",)),
    (__name__, "add_lifecycle_commands", tuple(LIFECYCLE)),
    (__name__, "add_hostfacts_command", ("hostfacts",)),
    (__name__, "add_prepare_commands", ("prepare", "unprepare")),
    (__name__, "add_hosts_command", ("hosts",)),
    (__name__, "add_lab_commands", ("lab",)),
    (__name__, "add_completion_commands", ("completion", COMPLETE)),
)
"""Each command's parser, by its module and function, and the command names it adds (a test holds the names to
what the functions add); `ztui.cli.main` builds only the one a command line names."""
