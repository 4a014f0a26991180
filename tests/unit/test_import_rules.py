"""The layering rules of docs/ARCHITECTURE.md §3, checked on the real import graph of a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest

PURE = ["ztui.model", "ztui.facts", "ztui.zsysfs", "ztui.fleet", "ztui.config", "ztui.atomic",
        "ztui.libvirtxml.common", "ztui.libvirtxml.domain", "ztui.libvirtxml.devices", "ztui.libvirtxml.nodedev",
        "ztui.host.inventory", "ztui.host.hostuse", "ztui.host.identity", "ztui.host.volumes", "ztui.host.resolve",
        "ztui.host.usage", "ztui.libvirtxml.rewrite", "ztui.libvirtxml.cpu", "ztui.report.tree_json",
        "ztui.report.tree_text", "ztui.report.hostdevs", "ztui.report.filtering"]
NO_TEXTUAL = ["ztui.cli.tree", "ztui.libvirt.connection", "ztui.libvirt.reader", "ztui.cli.main"]


def imported_after(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def _roots(mods: set[str]) -> set[str]:
    return {m.split(".")[0] for m in mods}


@pytest.mark.parametrize("module", PURE)
def test_model_xml_and_resolver_import_neither_libvirt_nor_textual(module: str) -> None:
    roots = _roots(imported_after(module))
    assert not roots & {"libvirt", "libvirtmod", "textual", "pyudev"}
    assert "ztui.libvirt" not in imported_after(module)


@pytest.mark.parametrize("module", NO_TEXTUAL)
def test_only_the_ui_imports_textual(module: str) -> None:
    assert "textual" not in _roots(imported_after(module))
