"""Mutated fixture XML never raises out of the domain parser (only XmlError for non-XML)."""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DOMAIN_FIXTURES
from ztui.domxml import parse_domain
from ztui.model import Host
from ztui.tree_json import guest_json
from ztui.tree_text import render_hosts
from ztui.xmlutil import XmlError

TEXTS = [p.read_text() for p in DOMAIN_FIXTURES]

odd_values = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.integers(min_value=-(2**40), max_value=2**40).map(hex),
    st.sampled_from(["0x", "-0x1", "0xZZ", "1e9", " ", "ccw", "pci", "mdev", "vfio-ccw", "hostdev"]),
)


@st.composite
def mutated_domain(draw: st.DrawFn) -> str:
    root = ET.fromstring(draw(st.sampled_from(TEXTS)))
    elements = list(root.iter())
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        elem = draw(st.sampled_from(elements))
        action = draw(st.sampled_from(["set", "delattr", "remove", "text", "addchild"]))
        if action == "set":
            attr = draw(st.sampled_from(sorted(elem.attrib) or ["type"]))
            elem.set(attr, draw(odd_values))
        elif action == "delattr" and elem.attrib:
            del elem.attrib[draw(st.sampled_from(sorted(elem.attrib)))]
        elif action == "remove" and len(elem):
            elem.remove(draw(st.sampled_from(list(elem))))
        elif action == "text":
            elem.text = draw(odd_values)
        elif action == "addchild":
            tag = draw(st.sampled_from(["address", "source", "target", "zpci", "teaming", "model", "frob"]))
            ET.SubElement(elem, tag, {draw(st.sampled_from(["type", "uid", "devno", "dev"])): draw(odd_values)})
    return ET.tostring(root, encoding="unicode")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_domain())
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
