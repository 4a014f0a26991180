"""Every host ztui knows of: the one question behind "does this guest run anywhere else?".

A guest defined on several hosts — as guests on IBM Z are, on LPARs that share their DASD and LUNs so
that they can migrate — must run on one of them at a time: two QEMUs writing one volume destroy its file
systems, and libvirt stops that only when a lock manager is configured. So before ztui starts, resumes
or migrates a guest it asks every host it knows, and this module says which those are:

- the session's hosts: the URIs this command names, or the hosts the TUI shows;
- the lab's hosts, when a lab runs on this machine (`ztui.lab.running`; nothing is started for it);
- ztui's saved hosts (`ztui.config`). A config that cannot be read is one host of its own that cannot be
  asked (`KnownHost.unreadable`): "does this guest run anywhere else?" must not be answered "no" for hosts
  ztui could not even list.

The same daemon can be reached by two URIs (a lab host over its unix socket and over `qemu+tcp`); such a
host is listed once, with every URI that reaches it (`KnownHost.reaches`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from ztui.config import BadConfig, config_path, load_config
from ztui.lab.running import running_lab_hosts


class HostOrigin(StrEnum):
    """Why ztui knows a host."""

    SESSION = "session"  # named by this command, or shown in this TUI
    LAB = "lab"  # a running host of ztui's private lab
    SAVED = "saved"  # one of ztui's saved hosts


@dataclass(frozen=True)
class KnownHost:
    """One host: the URI to ask it by, a name people use for it ('' until the host says its own), and the
    other URIs of the same daemon."""

    uri: str
    origin: HostOrigin = HostOrigin.SESSION
    name: str = ""
    also: tuple[str, ...] = ()
    unreadable: str = ""  # why these hosts cannot even be listed (a broken saved-hosts config): never asked

    def reaches(self, uri: str) -> bool:
        """Whether `uri` is this host (its own URI or another of the same daemon)."""
        return uri == self.uri or uri in self.also

    @property
    def label(self) -> str:
        return self.name or self.uri


def known_hosts(session: Sequence[str] = ()) -> tuple[KnownHost, ...]:
    """The session's hosts first, in their order, then the lab's and the saved hosts not already among them."""
    found: list[KnownHost] = []
    for uri in session:
        if not any(h.reaches(uri) for h in found):
            found.append(KnownHost(uri))
    for host in (*_lab_hosts(), *_saved_hosts()):
        uris = (host.uri, *host.also)
        same = next((i for i, h in enumerate(found) if any(h.reaches(u) for u in uris)), None)
        if same is None:
            found.append(host)
        else:  # a session host that is this one: it keeps its URI and learns the name and the other URIs
            known = found[same]
            others = tuple(u for u in uris if u != known.uri and u not in known.also)
            found[same] = replace(known, name=known.name or host.name, also=known.also + others)
    return tuple(found)


def host_named(hosts: Iterable[KnownHost], uri: str) -> KnownHost:
    """The known host `uri` reaches, else a session host of that URI."""
    return next((h for h in hosts if h.reaches(uri)), KnownHost(uri))


def _lab_hosts() -> tuple[KnownHost, ...]:
    """The running lab's hosts (none when no lab runs; the lab is never started for this)."""

    return tuple(KnownHost(h.uri, HostOrigin.LAB, h.name, tuple(u for u in (h.tcp_uri, h.ssh_uri) if u))
                 for h in running_lab_hosts())


def _saved_hosts() -> tuple[KnownHost, ...]:
    """ztui's saved hosts; a config that cannot be read is one unreadable entry (see the module's docstring)."""

    try:
        config = load_config()
    except BadConfig as exc:
        return (KnownHost(f"file://{config_path()}", HostOrigin.SAVED, "the saved hosts", unreadable=str(exc)),)
    return tuple(KnownHost(h.uri, HostOrigin.SAVED, h.name) for h in config.hosts)
