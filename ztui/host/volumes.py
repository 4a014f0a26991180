"""One volume across the hosts of a session: where else each volume is seen, and who writes it there.

Each host's read gives its volumes with their identities (`Host.volumes`, from `Inventory.identity`) and its
guests' chains. Joining hosts is then a dict keyed by identity over what was read already — no further
call to any host: `HostSummary` is what one host contributes (small enough to hand between processes, see
`ztui.cli.tree_fleet`), `VolumeJoin` the join of several. From it every view asks the same two questions:

- where else is this volume (`VolumeJoin.elsewhere`): "also on zlab-y as 0.0.6c05 (used by zlnx07)";
- does a running guest on another host write it while a running guest here does (`writers_elsewhere`):
  the most dangerous conflict there is, as no host sees both writers. It is a warning on both guests'
  devices (`decorate_host`).

A host reached by two URIs (a lab host over its socket and over tcp) is one host: a volume seen under the same
name by hosts of the same hostname is not joined with itself, and a guest is never in conflict with itself
(its UUID).
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ztui.model import (
    BackingStep,
    Guest,
    GuestDevice,
    Host,
    HostVolume,
    IdentityKind,
    Sighting,
    VolumeIdentity,
    VolumeUser,
)

__all__ = ["HostSummary", "VolumeJoin", "decorate_hosts", "summarize"]


@dataclass(frozen=True, slots=True)
class Use:
    """A guest device of one host using one of its volumes."""

    identity: VolumeIdentity
    guest: str
    uuid: str
    target: str
    running: bool
    writes: bool


@dataclass(frozen=True, slots=True)
class HostSummary:
    """What one host contributes to the join: its name, its volumes and who uses each of them."""

    uri: str
    name: str
    hostname: str
    volumes: tuple[HostVolume, ...]
    uses: tuple[Use, ...]

    def to_json(self) -> dict[str, Any]:
        return {"uri": self.uri, "name": self.name, "hostname": self.hostname,
                "volumes": [[v.identity.kind.value, v.identity.value, v.device, v.key] for v in self.volumes],
                "uses": [[u.identity.kind.value, u.identity.value, u.guest, u.uuid, u.target, u.running, u.writes]
                         for u in self.uses]}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> HostSummary:
        volumes = tuple(HostVolume(VolumeIdentity(IdentityKind(k), v), device, key, frozenset((key,)))
                        for k, v, device, key in raw["volumes"])
        uses = tuple(Use(VolumeIdentity(IdentityKind(k), v), guest, uuid, target, bool(running), bool(writes))
                     for k, v, guest, uuid, target, running, writes in raw["uses"])
        return cls(str(raw["uri"]), str(raw["name"]), str(raw["hostname"]), volumes, uses)


def summarize(host: Host, name: str = "") -> HostSummary:
    """A host's volumes and, for each guest device whose chain reaches one, the use (writable when the step
    on the volume is the guest's own: `BackingStep.exclusive`)."""
    by_key = {key: volume.identity for volume in host.volumes for key in volume.keys}
    uses: list[Use] = []
    if by_key:
        for guest in host.guests:
            running = guest.state is not None and guest.state.is_active
            for device in guest.devices:
                uses.extend(Use(identity, guest.name, guest.uuid, device.display_name, running, writes)
                            for identity, writes in _volumes_used(device, by_key).items())
    return HostSummary(host.uri or "", name or host.hostname or host.uri or "", host.hostname, host.volumes,
                       tuple(uses))


class VolumeJoin:
    """Several hosts' summaries joined by volume identity."""

    def __init__(self, summaries: Iterable[HostSummary]) -> None:
        self.summaries = [s for s in summaries if s.volumes]
        self._seen: dict[VolumeIdentity, list[tuple[HostSummary, HostVolume]]] = {}
        self._uses: dict[tuple[str, VolumeIdentity], list[Use]] = {}
        for summary in self.summaries:
            for volume in summary.volumes:
                self._seen.setdefault(volume.identity, []).append((summary, volume))
            for use in summary.uses:
                self._uses.setdefault((summary.uri, use.identity), []).append(use)
        # only volumes on more than one host matter to anyone
        self._seen = {k: v for k, v in self._seen.items() if len({_place(s, v) for s, v in v}) > 1}

    def __bool__(self) -> bool:
        return bool(self._seen)

    def elsewhere(self, uri: str, identity: VolumeIdentity) -> tuple[Sighting, ...]:
        """The volume on every host but `uri` (and but another URI of the same host), with its users there."""
        found = self._seen.get(identity, ())
        here = next((_place(s, v) for s, v in found if s.uri == uri), None)
        out = []
        for summary, volume in found:
            if summary.uri == uri or _place(summary, volume) == here:
                continue
            users = tuple(dict.fromkeys(VolumeUser(u.guest, u.target, u.running, u.writes)
                                        for u in self._uses.get((summary.uri, identity), ())))
            out.append(Sighting(summary.name, summary.uri, volume.device, users))
        return tuple(out)

    def writers_elsewhere(self, uri: str, identity: VolumeIdentity, uuid: str) -> tuple[tuple[Sighting, VolumeUser],
                                                                                       ...]:
        """The running guests on other hosts that write this volume (the guest `uuid` itself excepted)."""
        out: list[tuple[Sighting, VolumeUser]] = []
        for sighting in self.elsewhere(uri, identity):
            uuids = {(u.guest, u.target): u.uuid for u in self._uses.get((sighting.uri, identity), ())}
            out.extend((sighting, user) for user in sighting.users
                       if user.running and user.writes and uuids.get((user.guest, user.target)) != uuid)
        return tuple(out)

    def identities(self) -> list[VolumeIdentity]:
        """The volumes seen on more than one host."""
        return sorted(self._seen)


def _place(summary: HostSummary, volume: HostVolume) -> tuple[str, str]:
    """Where a host sees a volume: its hostname and the volume's name there. The same on two URIs is one
    host reached twice (a lab host by its socket and by tcp); two LPARs name the volume otherwise, even under
    one hostname."""
    return summary.hostname or summary.uri, volume.device


def decorate_hosts(hosts: Sequence[Host], names: Mapping[str, str] | None = None) -> list[Host]:
    """The hosts with each volume's step telling where else the volume is (`BackingStep.also_on`), and a
    warning on each running guest's device that writes a volume a running guest on another host writes.
    Hosts not connected, or with no volume seen elsewhere, come back as they are."""
    names = names or {}
    join = VolumeJoin(summarize(h, names.get(h.uri or "", "")) for h in hosts if h.connected and h.uri)
    if not join:
        return list(hosts)
    return [decorate_host(h, join) if h.uri else h for h in hosts]


def decorate_host(host: Host, join: VolumeJoin) -> Host:
    """One host with what `join` knows of its volumes elsewhere (see `decorate_hosts`)."""
    if not join or host.uri is None:
        return host
    by_key = {key: volume.identity for volume in host.volumes for key in volume.keys}
    if not by_key:
        return host
    guests = tuple(decorate_guest(host.uri, guest, by_key, join) for guest in host.guests)
    return host if all(a is b for a, b in zip(guests, host.guests, strict=True)) else replace(host, guests=guests)


def decorate_guest(uri: str, guest: Guest, by_key: Mapping[str, VolumeIdentity], join: VolumeJoin) -> Guest:
    """One guest of host `uri` with its volumes' sightings elsewhere and its cross-host conflicts."""
    running = guest.state is not None and guest.state.is_active
    devices = []
    changed = False
    for device in guest.devices:
        new = _decorate_device(uri, guest, device, by_key, join, running)
        changed = changed or new is not device
        devices.append(new)
    return replace(guest, devices=tuple(devices)) if changed else guest


def _decorate_device(uri: str, guest: Guest, device: GuestDevice, by_key: Mapping[str, VolumeIdentity],
                     join: VolumeJoin, running: bool) -> GuestDevice:
    steps: list[BackingStep] = list(device.backing)
    changed = False
    warnings: list[str] = []
    for i, step in enumerate(steps):
        if step.volume is None:
            continue
        sightings = join.elsewhere(uri, step.volume)
        if sightings != step.also_on:
            steps[i] = replace(step, also_on=sightings)
            changed = True
    if running:
        for identity, writes in _volumes_used(device, by_key).items():
            if not writes:
                continue
            for sighting, user in join.writers_elsewhere(uri, identity, guest.uuid):
                warnings.append(f"{identity.text} is also written by {user.guest} ({user.target}), running on "
                                f"{sighting.host} (as {sighting.device}), without <shareable/>: two running guests "
                                "on two hosts write the same volume")
    if not changed and not warnings:
        return device
    new = device.with_backing(tuple(steps))
    if warnings:
        new = replace(new, warnings=(*device.warnings, *(w for w in warnings if w not in device.warnings)))
    return new


def _volumes_used(device: GuestDevice, by_key: Mapping[str, VolumeIdentity]) -> dict[VolumeIdentity, bool]:
    found: dict[VolumeIdentity, bool] = {}
    for step in device.backing:
        identity = by_key.get(step.device_key) if step.device_key else None
        if identity is not None:
            found[identity] = found.get(identity, False) or step.exclusive
    return found


class VolumeTracker:
    """The join kept current as hosts and guests change one at a time (the TUI's updates), so each update
    costs what it touches: a guest's uses are worked out when it changes, and only the guests whose volumes'
    sightings changed are decorated again. Guests are kept as their hosts sent them (`raw`); the caller shows
    the decorated ones it gets back."""

    def __init__(self) -> None:
        self.raw: dict[str, dict[str, Guest]] = {}  # uri → uuid → guest as read
        self.volumes: dict[str, tuple[HostVolume, ...]] = {}
        self.names: dict[str, tuple[str, str]] = {}  # uri → (name shown, hostname)
        self._uses: dict[tuple[str, str], tuple[Guest, tuple[Use, ...]]] = {}
        self.join = VolumeJoin(())
        self._seen: dict[VolumeIdentity, tuple[Any, ...]] = {}

    # --- updates: each returns the guests (uri, guest) to show anew, decorated --------------------------------

    def host_up(self, host: Host, name: str = "") -> tuple[Host, list[tuple[str, Guest]]]:
        """A host's full snapshot: it decorated, and the other hosts' guests whose sightings changed."""
        uri = host.uri or ""
        self.raw[uri] = {g.uuid: g for g in host.guests}
        self.volumes[uri] = host.volumes
        self.names[uri] = (name or host.hostname or uri, host.hostname)
        for key in [k for k in self._uses if k[0] == uri]:
            del self._uses[key]
        others = self._rejoin()
        decorated = decorate_host(host, self.join) if self.join else host
        return decorated, [(u, g) for u, g in others if u != uri]

    def host_down(self, uri: str) -> list[tuple[str, Guest]]:
        """A host gone: its volumes are no longer seen elsewhere."""
        self.raw.pop(uri, None)
        self.volumes.pop(uri, None)
        for key in [k for k in self._uses if k[0] == uri]:
            del self._uses[key]
        return self._rejoin()

    def guest_updated(self, uri: str, guest: Guest) -> tuple[Guest, list[tuple[str, Guest]]]:
        self.raw.setdefault(uri, {})[guest.uuid] = guest
        others = self._rejoin()
        return self._decorated(uri, guest), [(u, g) for u, g in others if (u, g.uuid) != (uri, guest.uuid)]

    def guest_gone(self, uri: str, uuid: str) -> list[tuple[str, Guest]]:
        self.raw.get(uri, {}).pop(uuid, None)
        self._uses.pop((uri, uuid), None)
        return self._rejoin()

    def volumes_changed(self, uri: str, volumes: tuple[HostVolume, ...]) -> list[tuple[str, Guest]]:
        """A host's devices read again: its volumes may be others now."""
        if self.volumes.get(uri) == volumes:
            return []
        self.volumes[uri] = volumes
        for key in [k for k in self._uses if k[0] == uri]:
            del self._uses[key]
        return self._rejoin(also=uri)

    # --- the join ----------------------------------------------------------------------------------------------

    def _guest_uses(self, uri: str, guest: Guest, by_key: Mapping[str, VolumeIdentity]) -> tuple[Use, ...]:
        known = self._uses.get((uri, guest.uuid))
        if known is not None and known[0] is guest:
            return known[1]
        running = guest.state is not None and guest.state.is_active
        uses = tuple(Use(identity, guest.name, guest.uuid, device.display_name, running, writes)
                     for device in guest.devices for identity, writes in _volumes_used(device, by_key).items())
        self._uses[(uri, guest.uuid)] = (guest, uses)
        return uses

    def _rejoin(self, also: str = "") -> list[tuple[str, Guest]]:
        """Join again; the guests (decorated) using a volume whose sightings changed (all of host `also`'s)."""
        if sum(1 for volumes in self.volumes.values() if volumes) < 2 and not self._seen:
            return []  # one host with volumes: nothing is seen elsewhere (the common case, at no cost)
        summaries = []
        by_keys: dict[str, dict[str, VolumeIdentity]] = {}
        for uri, guests in self.raw.items():
            volumes = self.volumes.get(uri, ())
            by_key = by_keys[uri] = {key: v.identity for v in volumes for key in v.keys}
            uses = tuple(u for g in guests.values() for u in self._guest_uses(uri, g, by_key)) if by_key else ()
            name, hostname = self.names.get(uri, (uri, ""))
            summaries.append(HostSummary(uri, name, hostname, volumes, uses))
        self.join = VolumeJoin(summaries)
        seen = {identity: tuple((s.uri, s.device, s.users) for s in self.join.elsewhere("", identity))
                for identity in self.join.identities()}
        changed = {i for i in set(seen) | set(self._seen) if seen.get(i) != self._seen.get(i)}
        self._seen = seen
        out: list[tuple[str, Guest]] = []
        for uri, guests in self.raw.items():
            for guest in guests.values():
                used = {u.identity for u in self._guest_uses(uri, guest, by_keys.get(uri, {}))}
                if uri == also or used & changed:
                    out.append((uri, self._decorated(uri, guest, by_keys.get(uri))))
        return out

    def _decorated(self, uri: str, guest: Guest, by_key: Mapping[str, VolumeIdentity] | None = None) -> Guest:
        if by_key is None:
            by_key = {key: v.identity for v in self.volumes.get(uri, ()) for key in v.keys}
        return decorate_guest(uri, guest, by_key, self.join) if by_key else guest
