"""What an attach or a detach is planned against, read now: the guest's live and persistent XML and the
other running guests of its host (read-only libvirt calls; call it from a worker thread or a command)."""

from __future__ import annotations

import contextlib

import libvirt

from ztui.libvirtxml.domain import parse_domain
from ztui.ops.attach.plan import GuestFacts


def read_facts(conn: libvirt.virConnect, dom: libvirt.virDomain) -> GuestFacts:
    """The guest's live and persistent XML and the other running guests of the host (read-only calls)."""
    active = bool(dom.isActive())
    persistent = bool(dom.isPersistent())
    live = parse_domain(dom.XMLDesc(0), what=f"XML of guest {dom.name()}")
    config = (parse_domain(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), what=f"config of guest {dom.name()}")
              if persistent else None)
    uuid = dom.UUIDString()
    others = []
    for other in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
        if other.UUIDString() == uuid:
            continue
        with contextlib.suppress(libvirt.libvirtError):  # a guest that stopped meanwhile uses nothing
            others.append(parse_domain(other.XMLDesc(0)))
    return GuestFacts(guest=live if active else (config or live), config=config, active=active,
                      others_running=tuple(others))
