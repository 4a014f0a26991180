"""Mutated fixture XML never raises out of the domain parser (only XmlError for non-XML)."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DOMAIN_FIXTURES
from tests.xml_mutation import mutated_xml, odd_values
from ztui.libvirtxml.common import XmlError
from ztui.libvirtxml.domain import parse_domain
from ztui.model import Host
from ztui.report.tree_json import guest_json
from ztui.report.tree_text import render_hosts

TEXTS = [p.read_text() for p in DOMAIN_FIXTURES]

MUTATED = mutated_xml(TEXTS, odd_values("mdev", "vfio-ccw", "hostdev"), ["type", "uid", "devno", "dev"],
                      ["address", "source", "target", "zpci", "teaming", "model", "frob"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MUTATED)
def test_mutated_fixture_never_raises(text: str) -> None:
    try:
        guest = parse_domain(text)
    except XmlError:
        return  # e.g. the root element was renamed away from <domain>
    guest_json(guest)
    render_hosts([Host(uri=None, guests=(guest,))])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_xmlerror(text: str) -> None:
    with contextlib.suppress(XmlError):
        parse_domain(text)
