"""Where ztui's stylesheets are: inside the installed package, or in the checkout's top-level `styles/`.

The stylesheets live at the top of the repository (`styles/`), not inside the `ztui` package, and the
wheel carries them as `ztui/styles/` (pyproject's `force-include`). So there are two places to look:

* an installed wheel: `<site-packages>/ztui/styles/`, beside the `ztui` package's modules;
* an editable install or a plain checkout on `sys.path`: the modules are imported from the checkout's
  `ztui/`, which has no `styles/`; the stylesheets are one level up, at the checkout's `styles/`.

The packaged place wins when it exists. These are real filesystem paths rather than
`importlib.resources` traversables because Textual's `CSS_PATH` wants files it can read and watch; a
wheel installs as plain files, so nothing is lost. This module imports nothing but `pathlib`, so anything
(the CLI, tests, packaging checks) can use it without pulling in Textual.
"""

from __future__ import annotations

from pathlib import Path

#: the `ztui` package directory (this module is in `ztui/ui/`)
_PACKAGE = Path(__file__).resolve().parent.parent


def styles_dir() -> Path:
    """The directory holding the `*.tcss` files: the package's `styles/`, else the checkout's."""
    packaged = _PACKAGE / "styles"
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / "styles"


def stylesheets() -> list[Path]:
    """Every `*.tcss` file in `styles_dir()`, sorted by name, so later files can refine earlier ones."""
    return sorted(styles_dir().glob("*.tcss"))
