"""`ztui hostfacts save FILE`: record this machine's host facts for reading guests against them elsewhere.

What is recorded is everything the resolver uses besides libvirt's own objects: udev's device records, the
mount table, and the file-system facts of every path the guests of the local libvirt URIs use. Replay
with `ztui tree --host-facts FILE` (with `--domain-xml` or `-c URI`).
"""

from __future__ import annotations

import argparse
import os
import sys

import libvirt

from ztui.cli.common import error
from ztui.config import DEFAULT_URI, Chosen
from ztui.errors import End, Status
from ztui.host.facts_source import facts_source_for, record_live, write_snapshot
from ztui.host.place import HostPlace
from ztui.host.resolve import paths_to_examine
from ztui.libvirt.connection import ConnectError, open_within
from ztui.libvirt.reader import read_guests


def run_save(args: argparse.Namespace) -> End:

    directory = os.path.dirname(os.path.abspath(args.file))
    if not os.path.isdir(directory):
        error(f"cannot write {args.file}: no directory {directory}")
        return Status.BAD_INPUT
    given = args.targets.chosen is Chosen.GIVEN
    uris = list(args.connect)
    if not given:  # saved hosts far away have nothing to add to this machine's facts
        uris = [u for u in uris if facts_source_for(u).place is not HostPlace.REMOTE] or [DEFAULT_URI]
    remote = [u for u in uris if facts_source_for(u).place is HostPlace.REMOTE]
    if remote:
        error(f"{remote[0]} is not this machine: host facts are recorded on the host itself")
        return Status.BAD_INPUT
    paths: list[str] = []
    failed = False
    for uri in uris:
        if not facts_source_for(uri).files_here:  # a daemon in a mount namespace of its own: not our files
            error(f"{uri} runs in a mount namespace of its own: recorded without the files of its guests")
            continue
        try:
            conn = open_within(uri, readonly=True)
        except ConnectError as exc:
            # the devices and mounts are still worth having; the guests' files are then not in it
            error(f"{exc} (recorded without the files of its guests)")
            failed = given
            continue
        try:
            paths.extend(p for g in read_guests(conn) for p in paths_to_examine(g))
        except libvirt.libvirtError as exc:
            error(f"reading {uri} failed: {exc.get_error_message()}")
            failed = True
        finally:
            conn.close()
    facts = record_live(paths)
    try:
        write_snapshot(facts, args.file)
    except OSError as exc:
        error(f"cannot write {args.file}: {exc.strerror or exc}")
        return Status.BAD_INPUT
    print(f"{args.file}: {len(facts.devices)} devices, {len(facts.mounts)} mounts, {len(facts.files)} files",
          file=sys.stderr)
    return Status.FAILED if failed else Status.DONE
