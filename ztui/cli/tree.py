"""`ztui tree`: the non-interactive view of guests and their devices, for people and scripts."""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import stat
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace

from ztui.cli.common import error, text_width, use_colour
from ztui.cli.tree_fleet import fleet_json
from ztui.cli.tree_read import EncodedHost, read_hosts_here
from ztui.errors import End, Status
from ztui.host.facts_source import SnapshotError, facts_source_for, use_snapshot
from ztui.host.resolve import resolve_host
from ztui.host.scan import snapshot_inventory
from ztui.libvirtxml.common import XmlError, parse_xml
from ztui.libvirtxml.domain import guest_from_element
from ztui.model import Guest, Host
from ztui.report.tree_json import host_json_compact, hosts_json_compact, tree_json
from ztui.report.tree_text import render_hosts


def apply_host_facts(args: argparse.Namespace, uris: list[str]) -> bool:
    """Register `--host-facts` for these URIs (and for saved XML); False after an error line when the
    file is not a usable snapshot."""
    path = getattr(args, "host_facts", "")
    if not path:
        return True
    try:
        for uri in uris or [""]:
            use_snapshot(uri, path)
    except SnapshotError as exc:
        error(str(exc))
        return False
    return True


MAX_XML_DEPTH = 64  # a domain's XML nests about 8 deep (node/domain/devices/disk/source/…)
MAX_XML_BYTES = 256 << 20  # a test-driver file with a thousand guests is ~10 MiB; a bigger "XML" is a mistake
XML_ENCODINGS = ("utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin1", "latin-1", "utf-16")
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")


class BadXmlFile(ValueError):
    """A --domain-xml argument that is not something to read at all (a FIFO, a device, too big, an
    encoding ztui does not read): bad input, refused before anything is printed."""


def read_xml_file(path: str, limit: int = MAX_XML_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; OSError when it cannot be opened.

    Opened with O_NONBLOCK and checked with fstat on the open descriptor (no window between a check and
    the open): a FIFO with no writer or a terminal would otherwise block the command forever, and
    /dev/zero would be read until memory runs out."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise BadXmlFile(f"{path} is not a regular file")
    if info.st_size > limit:
        os.close(fd)
        raise BadXmlFile(f"{path} is larger than {limit >> 20} MiB")
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:  # grew while being read
        raise BadXmlFile(f"{path} is larger than {limit >> 20} MiB")
    if not data.startswith((b"\xfe\xff", b"\xff\xfe")):  # UTF-16 with its byte-order mark: expat knows it
        declared = _DECLARED_ENCODING.match(data[:400])
        if declared and declared.group(1).decode("ascii", "replace").lower() not in XML_ENCODINGS:
            name = declared.group(1).decode("ascii", "replace")
            raise BadXmlFile(f"{path} declares the encoding '{name}', which ztui does not read "
                             "(UTF-8, UTF-16, ISO-8859-1, US-ASCII)")
    return data


def too_deep(root: ET.Element, limit: int) -> bool:
    """Whether elements nest deeper than `limit`, found without recursion: the parser builds any depth,
    but serialising a device's XML recurses once per level and would end in a RecursionError."""
    level: list[tuple[ET.Element, int]] = [(root, 1)]
    while level:
        elem, depth = level.pop()
        if depth > limit:
            return True
        level.extend((child, depth + 1) for child in elem)
    return False


def load_domain_files(paths: list[str]) -> tuple[Host, list[str]]:
    """Guests from saved XML files; each file is a `<domain>` or a test-driver `<node>` holding domains.
    Returns the host and one error line per file that could not be read. BadXmlFile for a path that is
    not a file to read (checked for every path before any is parsed)."""
    guests: list[Guest] = []
    errors: list[str] = []
    texts: list[tuple[str, bytes]] = []
    for path in paths:
        try:
            texts.append((path, read_xml_file(path)))
        except OSError as exc:
            errors.append(f"cannot read {path}: {exc.strerror or exc}")
    for path, text in texts:
        try:
            root = parse_xml(text, path)
        except XmlError as exc:
            errors.append(str(exc))
            continue
        if too_deep(root, MAX_XML_DEPTH):
            raise BadXmlFile(f"{path} nests elements more than {MAX_XML_DEPTH} deep; libvirt's XML never does")
        if root.tag == "domain":
            guests.append(guest_from_element(root))
        elif root.tag == "node":
            guests.extend(guest_from_element(d) for d in root.findall("domain"))
        else:
            errors.append(f"{path}: root element <{root.tag}> is neither <domain> nor <node>")
    return Host(uri=None, guests=tuple(guests)), errors


def read_connected_hosts(uris: list[str], readonly: bool, names: list[str],
                         as_json: bool = False) -> tuple[list[Host | EncodedHost], list[str]]:
    """Open each URI and read it, all hosts at once; a failing URI becomes an error line and a disconnected
    host, one that does not answer within the answer time too (`ztui.libvirt.connection.open_within`): a
    hung host holds up no other. With `as_json` each connected host comes as its compact JSON text (see
    `ztui.cli.tree_split`), and a fleet is read by as many processes as there are CPUs
    (`ztui.cli.tree_fleet`).

    Named guests are looked for on every host: a host shows those it has and is left out when it has none
    of them; a name that no host has is the one error line about it (`no guest named 'x' on …`)."""
    if as_json and len(uris) > 1:
        reads = fleet_json(uris, readonly, names)
    else:
        reads = read_hosts_here(uris, readonly, names, as_json)
    hosts = [r.host for r in reads if r.host is not None]
    errors = [line for r in reads for line in r.errors]
    looked = [uri for uri, r in zip(uris, reads, strict=True) if r.asked]
    found = {name for r in reads for name in r.found}
    missing = [n for n in dict.fromkeys(names) if n not in found]
    if missing and looked:
        where = looked[0] if len(looked) == 1 else "any of " + ", ".join(looked)
        errors.append(f"no guest named {', '.join(repr(n) for n in missing)} on {where}")
    return hosts, errors


def with_snapshot_backing(host: Host) -> Host:
    """Saved XML with chains when a host-facts snapshot was given for it, else as it is."""
    source = facts_source_for(None)
    if source.snapshot is None:
        return host
    host = replace(host, hostname=source.snapshot.hostname, facts=source.label)
    return resolve_host(host, snapshot_inventory(source, host.guests))


def run_tree(args: argparse.Namespace) -> End:
    # every record read here lives until the process ends: the cycle collector would only walk the
    # growing heap again and again (a fifth of reading 1000 guests) to find nothing to free
    gc.disable()
    piped_json = args.json and not sys.stdout.isatty()
    hosts: list[Host | EncodedHost]
    if args.domain_xml:
        if not apply_host_facts(args, []):
            return Status.BAD_INPUT
        try:
            host, errors = load_domain_files(args.domain_xml)
        except BadXmlFile as exc:
            error(str(exc))
            return Status.BAD_INPUT
        if args.guests:
            wanted = set(args.guests)
            host = Host(uri=None, guests=tuple(g for g in host.guests if g.name in wanted))
        host = with_snapshot_backing(host)
        hosts = [host] if host.guests or not errors else []
    else:
        uris = list(args.connect)
        if not apply_host_facts(args, uris):
            return Status.BAD_INPUT
        hosts, errors = read_connected_hosts(uris, args.readonly, args.guests, as_json=piped_json)
        if errors and all(isinstance(h, Host) and not h.connected for h in hosts):
            hosts = []  # nothing was read: the error lines say it all
    for line in errors:
        error(line)
    if hosts:
        if piped_json:  # compact (and several times faster to encode) for scripts
            text = hosts_json_compact([h.text if isinstance(h, EncodedHost) else host_json_compact(h) for h in hosts])
            sys.stdout.write(text + "\n")
        elif args.json:  # indented for a person at a terminal
            sys.stdout.write(json.dumps(tree_json(models(hosts)), indent=2) + "\n")
        else:
            sys.stdout.write(render_hosts(models(hosts), colour=use_colour(sys.stdout),
                                          backing=not getattr(args, "no_backing", False), width=text_width()))
    return Status.FAILED if errors else Status.DONE


def models(hosts: list[Host | EncodedHost]) -> list[Host]:
    """The hosts read as models (every one of them, unless JSON text was asked for)."""
    return [h for h in hosts if isinstance(h, Host)]
