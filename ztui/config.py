"""Saved hosts: the fleet an administrator opens without naming every host on every start.

One TOML file, `$XDG_CONFIG_HOME/ztui/config.toml` (else `~/.config/ztui/config.toml`), written by `ztui hosts
add|remove` and fit to be edited by hand:

    [hosts."lpar1"]
    uri = "qemu+ssh://root@lpar1.example.com/system"
    group = "prod"
    readonly = true

A host has a unique name (letters, digits, `.`, `_`, `-`: what `-c NAME` is typed as, never a URI), a libvirt
URI, an optional group (`-g prod` opens every host in it) and a read-only flag (its connections are opened
read-only, so nothing on it can be changed from ztui). `choose_hosts` turns `-c`, `-g` and the saved hosts
into the URIs a command or the TUI opens, in one place; `every_host` lists every host ztui knows of.

A file that cannot be read or is not such a config is one line naming the file and what is wrong
(`BadConfig`, exit 2), never a traceback. Writing is atomic: a temporary file beside it, fsync'd, renamed
over it, the directory fsync'd, all under a lock on the directory, so a crash or a full disk leaves the old
file or the new one and two `ztui hosts add` at once both count. The file is 0600 in a 0700 directory.

Reading is `tomllib` (the standard library). Writing is the few lines below: the file holds only tables of
strings and booleans, written as quoted keys and basic strings with every character TOML would not take
escaped; a test reads back what they write for any text. A dependency for that would be more code than
the subset.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import fcntl
import os
import re
import stat
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ztui.atomic import NotDurable, replace_file
from ztui.errors import BadInput, Refused
from ztui.faults import reached
from ztui.safe_text import escape_control

CONFIG_NAME = "config.toml"
MAX_BYTES = 1 << 20  # a thousand hosts are ~100 KiB; anything bigger is not this file
DEFAULT_URI = "qemu:///system"

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_HOST_KEYS = ("uri", "group", "readonly")


class BadConfig(BadInput):
    """The config file cannot be read, or is not a ztui config: one line naming the file (exit 2)."""


class ConfigUnwritable(Refused):
    """The config file could not be written; the old one is still in place, unchanged (exit 1)."""


@dataclass(frozen=True, slots=True)
class SavedHost:
    """A host as saved: `-c name` opens `uri`; `group` for `-g`; `readonly` opens it read-only."""

    name: str
    uri: str
    group: str = ""
    readonly: bool = False

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "uri": self.uri, "group": self.group or None, "readonly": self.readonly}


@dataclass(frozen=True, slots=True)
class Config:
    """The saved hosts in the order of the file, and the file they came from."""

    path: Path
    hosts: tuple[SavedHost, ...] = ()

    def host(self, name: str) -> SavedHost | None:
        return next((h for h in self.hosts if h.name == name), None)

    def in_group(self, group: str) -> tuple[SavedHost, ...]:
        return tuple(h for h in self.hosts if h.group == group)

    @property
    def groups(self) -> list[str]:
        return sorted({h.group for h in self.hosts if h.group})


def config_path() -> Path:
    """`$XDG_CONFIG_HOME/ztui/config.toml`, else `~/.config/ztui/config.toml` (relative values are ignored,
    as the XDG specification says)."""
    base = os.environ.get("XDG_CONFIG_HOME", "").strip()
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return root / "ztui" / CONFIG_NAME


# --- values ------------------------------------------------------------------------------------------------


def check_name(name: str, what: str = "host name") -> str:
    """A host or group name as `-c`/`-g` take it; BadInput (one line) for anything else, and a hint when it
    is a URI (the URI is the second argument of `hosts add`)."""
    if _URI.match(name) or "/" in name:
        raise BadInput(f"the {what} '{_shown(name)}' looks like a URI; a name is what -c takes instead of the "
                       "URI (e.g. ztui hosts add lpar1 qemu+ssh://root@lpar1/system)")
    if not _NAME.fullmatch(name):
        raise BadInput(f"the {what} '{_shown(name)}' is not a name: 1 to 64 letters, digits, '.', '_' or '-', "
                       "starting with a letter or digit")
    return name


def check_uri(uri: str) -> str:
    """A libvirt URI (`scheme:` then the rest, printable, no spaces), checked before it is saved; whether a
    host answers there is not asked (it may be down while it is added)."""
    if not _URI.match(uri) or not uri.isprintable() or any(c.isspace() for c in uri):
        raise BadInput(f"'{_shown(uri)}' is not a libvirt URI (e.g. qemu+ssh://root@lpar1/system, "
                       "qemu:///system)")
    return uri


def _shown(text: str) -> str:
    return escape_control(text)


# --- reading -----------------------------------------------------------------------------------------------


def load_config(path: Path | None = None) -> Config:
    """The saved hosts; an empty config when there is no file. BadConfig for anything else that is wrong."""
    path = path or config_path()
    try:
        data = _read(path)
    except FileNotFoundError:
        return Config(path)
    except OSError as exc:
        raise BadConfig(f"{path}: cannot be read: {exc.strerror or exc}") from None
    return parse_config(data, path)


def _read(path: Path) -> bytes:
    """The file's bytes; opened without blocking and checked on the descriptor (a FIFO or a device there
    would otherwise hang or flood the command)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BadConfig(f"{path}: not a regular file")
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise BadConfig(f"{path}: larger than {MAX_BYTES >> 10} KiB; not a ztui config")
    return data


def parse_config(data: bytes, path: Path) -> Config:
    """The hosts of a config file's text; BadConfig names the file and the first thing wrong."""
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadConfig(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise BadConfig(f"{path}: not valid TOML: {exc}") from None
    unknown = [k for k in doc if k != "hosts"]
    if unknown:
        raise BadConfig(f"{path}: unknown key '{_shown(unknown[0])}' (a ztui config has [hosts.NAME] tables)")
    table = doc.get("hosts", {})
    if not isinstance(table, dict):
        raise BadConfig(f"{path}: 'hosts' must be tables ([hosts.NAME] with uri = \"...\")")
    hosts = []
    seen: dict[str, str] = {}
    for name, entry in table.items():
        where = f"{path}: host '{_shown(name)}'"
        try:
            check_name(name)
        except BadInput as exc:
            raise BadConfig(f"{path}: {exc}") from None
        if not isinstance(entry, dict):
            raise BadConfig(f"{where}: must be a table with uri = \"...\"")
        extra = [k for k in entry if k not in _HOST_KEYS]
        if extra:
            raise BadConfig(f"{where}: unknown key '{_shown(extra[0])}' (keys: {', '.join(_HOST_KEYS)})")
        uri, group, readonly = entry.get("uri"), entry.get("group", ""), entry.get("readonly", False)
        if not isinstance(uri, str):
            raise BadConfig(f"{where}: needs uri = \"...\" (a string)")
        if not isinstance(group, str) or not isinstance(readonly, bool):
            raise BadConfig(f"{where}: group must be a string and readonly true or false")
        try:
            check_uri(uri)
            if group:
                check_name(group, "group name")
        except BadInput as exc:
            raise BadConfig(f"{where}: {exc}") from None
        if uri in seen:
            raise BadConfig(f"{where}: its URI is saved already as '{seen[uri]}'")
        seen[uri] = name
        hosts.append(SavedHost(name, uri, group, readonly))
    return Config(path, tuple(hosts))


# --- writing -----------------------------------------------------------------------------------------------


def format_config(config: Config) -> str:
    """The file's text: a comment, then one quoted table per host in order."""
    lines = ["# ztui's saved hosts (ztui hosts add|remove|list); this file may be edited by hand.", ""]
    for host in config.hosts:
        lines.append(f"[hosts.{toml_string(host.name)}]")
        lines.append(f"uri = {toml_string(host.uri)}")
        if host.group:
            lines.append(f"group = {toml_string(host.group)}")
        if host.readonly:
            lines.append("readonly = true")
        lines.append("")
    return "\n".join(lines)


def toml_string(text: str) -> str:
    """`text` as a TOML basic string: backslash and quote escaped, and every control character (which TOML
    does not allow in a string) as a \\u escape."""
    out = ['"']
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def save_config(config: Config) -> None:
    """Replace the file with `config`, atomically (see the module docstring); ConfigUnwritable if not."""
    with _locked_dir(config.path) as (dfd, name):
        _write(dfd, name, config)


def edit_config(change: Callable[[Config], Config], path: Path | None = None) -> Config:
    """Read the config, change it and write it back, all under the directory's lock (two `hosts add` at once
    both count); the changed config. BadInput from `change` leaves the file as it was."""
    path = path or config_path()
    with _locked_dir(path) as (dfd, name):
        config = change(load_config(path))
        _write(dfd, name, config)
    return config


@contextlib.contextmanager
def _locked_dir(path: Path) -> Iterator[tuple[int, str]]:
    """The config's directory (created 0700; a symlinked file is written where it points), locked."""
    real = Path(os.path.realpath(path))
    try:
        real.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        dfd = os.open(real.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise ConfigUnwritable(f"{path}: cannot be written: {exc.strerror or exc}; nothing was changed") from None
    try:
        fcntl.flock(dfd, fcntl.LOCK_EX)
        yield dfd, real.name
    finally:
        os.close(dfd)


def _write(dfd: int, name: str, config: Config) -> None:
    try:
        # one temporary name: a crash's leftover is overwritten by the next write, under the lock
        replace_file(dfd, name, format_config(config).encode("utf-8"), f".{name}.tmp",
                     before_rename=lambda: reached("hosts", "config-written"))
    except NotDurable as exc:
        raise ConfigUnwritable(f"{config.path}: written, but the disk did not confirm it ({exc.strerror}): it "
                               "may not outlast a crash") from None
    except OSError as exc:
        reason = "no space left on the device" if exc.errno == errno.ENOSPC else exc.strerror or str(exc)
        raise ConfigUnwritable(f"{config.path}: cannot be written: {reason}; the file is as it was") from None


# --- changes -----------------------------------------------------------------------------------------------


def with_host(config: Config, host: SavedHost) -> Config:
    """`config` with `host` added at the end; BadInput when its name or URI is saved already."""
    check_name(host.name)
    check_uri(host.uri)
    if host.group:
        check_name(host.group, "group name")
    known = config.host(host.name)
    if known is not None:
        raise BadInput(f"a host named '{host.name}' is saved already ({known.uri}); remove it first")
    same = next((h for h in config.hosts if h.uri == host.uri), None)
    if same is not None:
        raise BadInput(f"{host.uri} is saved already as '{same.name}'")
    return replace(config, hosts=(*config.hosts, host))


def without_host(config: Config, name: str) -> Config:
    """`config` without the host `name`; BadInput when there is none of that name."""
    if config.host(name) is None:
        raise BadInput(f"no saved host is named '{_shown(name)}' ({_listing(config)})")
    return replace(config, hosts=tuple(h for h in config.hosts if h.name != name))


def _listing(config: Config) -> str:
    if not config.hosts:
        return f"none are saved in {config.path}"
    names = [h.name for h in config.hosts]
    return "saved: " + ", ".join(names[:8]) + (", …" if len(names) > 8 else "")


# --- which hosts a command opens ----------------------------------------------------------------------------


class Chosen(enum.Enum):
    """Why a command opens the hosts it opens (the TUI offers the lab only for `DEFAULT`)."""

    GIVEN = "given"  # -c or -g
    LAB = "lab"  # --lab without -c
    SAVED = "saved"  # no -c: every saved host
    ENVIRONMENT = "environment"  # no -c, none saved: $LIBVIRT_DEFAULT_URI
    DEFAULT = "default"  # none of them: qemu:///system


@dataclass(frozen=True, slots=True)
class Target:
    """A host a command opens: its URI, its saved name ('' for a URI given as it is), read-only or not."""

    uri: str
    name: str = ""
    readonly: bool = False


@dataclass(frozen=True, slots=True)
class Targets:
    hosts: tuple[Target, ...]
    chosen: Chosen

    @property
    def uris(self) -> list[str]:
        return [t.uri for t in self.hosts]


def choose_hosts(connect: Sequence[str] | None, groups: Sequence[str] | None, *,
                 lab: Mapping[str, str] | None = None,
                 config: Callable[[], Config] = load_config) -> Targets:
    """The hosts to open, the one answer for every command and the TUI. Each `-c` value is a lab host's name
    (with `--lab`: `lab` maps names to URIs), a saved host's name, or a URI as libvirt takes it; each `-g` is
    every saved host of that group. Without either: the lab's hosts with `--lab`, else every saved host, else
    `$LIBVIRT_DEFAULT_URI`, else qemu:///system. Repeats are dropped; the order is the order given.

    The config is read only when a name or group needs it, or nothing is given: a broken config does not
    stop `-c qemu:///system`. BadInput for a group nobody is in, BadConfig for a broken config."""
    lab = lab or {}
    loaded: list[Config] = []

    def saved() -> Config:
        if not loaded:
            loaded.append(config())
        return loaded[0]

    found: list[Target] = []
    for value in connect or ():
        if value in lab:
            found.append(Target(lab[value], value))
        elif _URI.match(value):
            found.append(Target(value))
        else:
            host = saved().host(value)
            # not saved: maybe one of libvirt's own URI aliases (libvirt.conf); libvirt says if not
            found.append(Target(host.uri, host.name, host.readonly) if host else Target(value))
    for group in groups or ():
        members = saved().in_group(group)
        if not members:
            known = saved().groups
            raise BadInput(f"no saved host is in group '{_shown(group)}' "
                           f"({'groups: ' + ', '.join(known) if known else _listing(saved())})")
        found.extend(Target(h.uri, h.name, h.readonly) for h in members)
    if found:
        return Targets(_unique(found), Chosen.GIVEN)
    if lab:
        return Targets(tuple(Target(uri, name) for name, uri in lab.items()), Chosen.LAB)
    if saved().hosts:
        return Targets(tuple(Target(h.uri, h.name, h.readonly) for h in saved().hosts), Chosen.SAVED)
    env = os.environ.get("LIBVIRT_DEFAULT_URI", "").strip()
    if env:
        return Targets((Target(env),), Chosen.ENVIRONMENT)
    return Targets((Target(DEFAULT_URI),), Chosen.DEFAULT)


def _unique(targets: Iterable[Target]) -> tuple[Target, ...]:
    """First of each URI; a host given twice (by name and by URI) is read-only if either says so."""
    by_uri: dict[str, Target] = {}
    for target in targets:
        first = by_uri.get(target.uri)
        if first is None:
            by_uri[target.uri] = target
        elif target.readonly and not first.readonly:
            by_uri[target.uri] = replace(first, readonly=True, name=first.name or target.name)
    return tuple(by_uri.values())
