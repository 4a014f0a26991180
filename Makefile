# ztui: set-up and the commands the README names. `make demo` and `make test` each install what they
# need on a fresh Debian 12 machine (as root) and are quick when everything is already there.
#
#   make test         the whole test suite (pytest, configured in pyproject.toml)
#   make demo         ztui on the private lab, the simulated z16 host first (DEMO_ARGS, default --lab --expand zlnx01)
#   make lint         ruff, mypy --strict, import rules
#   make bench        benchmarks (not part of the tests)
#   make bench-peers  the first guest on screen, ztui beside virtui-manager from PyPI (not part of the tests)
#   make faults       the fault bench on a private lab: faults injected into attach, detach and migrate (not
#                     part of the tests; FAULTS_ARGS='--tries 60 --only migrate')
#   make screenshots  regenerate screenshots/
#   make dist         the wheel and the sdist in dist/ (python -m build)
#   make man          write the manual page docs/ztui.1 again (from the parsers and the key bindings)
#   make setup        only the set-up the others share
#   make clean        caches, build output, set-up stamps and .venv
#
# The set-up installs the Debian packages that are missing (scripts/ensure-debs.sh: as root, apt-get,
# once), then makes .venv with ztui installed editable plus its test extras (scripts/setup-venv.sh).
# Stamps under .make/ remember that it is done, so a second run touches neither apt nor pip: the
# packages are checked again when the script changes, the virtualenv is installed again when
# pyproject.toml changes or .venv is gone.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

# The Python for .venv: python3 if it is >= 3.11, else python3.11. Evaluated only when the set-up runs.
PYTHON ?= $(shell for py in python3 python3.11; do \
            if command -v $$py >/dev/null && $$py -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; \
            then command -v $$py; break; fi; done)

VENV := .venv
VPY := $(VENV)/bin/python
STAMP := .make

# `make demo DEMO_ARGS='-c qemu:///system'`, `make test PYTEST_ARGS='-x -k tree'`
DEMO_ARGS ?= --lab --expand zlnx01
PYTEST_ARGS ?=
FAULTS_ARGS ?=

.PHONY: help setup test demo lint bench bench-peers faults bytecode screenshots dist man clean

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

setup: $(STAMP)/venv

# pytest's exit status is make's: 5 (nothing collected) fails like any other failure
test: setup
	$(VPY) -m pytest $(PYTEST_ARGS)

demo: setup bytecode
	$(VENV)/bin/ztui $(DEMO_ARGS)

lint: setup
	$(VENV)/bin/ruff check ztui tests scripts
	$(VENV)/bin/mypy --strict ztui
	$(VENV)/bin/lint-imports

# pyproject's addopts ignore tests/bench so that `make test` never runs benchmarks: drop them here
bench: setup bytecode
	$(VPY) -m pytest tests/bench -q -s -p no:cacheprovider --override-ini=addopts=

# virtui-manager is installed into .bench-peers/ (once) by the script itself
bench-peers: setup bytecode
	$(VPY) tests/bench/peers.py

# every try starts ztui as a user would: its modules compiled once, not at each start
faults: setup bytecode
	$(VPY) -m tests.faults $(FAULTS_ARGS)

# ztui is installed editable, so nothing compiled its modules (and PYTHONDONTWRITEBYTECODE may forbid
# caching them): without this every start compiles them again, about 50 ms before any work is done
bytecode: setup
	@$(VPY) -m compileall -q ztui

screenshots: setup
	$(VPY) scripts/screenshots.py

# The standard front end, in an isolated environment with the build backend pyproject.toml names; the
# wheel carries the stylesheets, the shell completions and the manual page.
dist: setup
	rm -rf dist
	$(VPY) -m build --outdir dist .

man: setup
	$(VPY) -m ztui.cli.manpage > docs/ztui.1

clean:
	rm -rf $(STAMP) $(VENV) .bench-peers build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .import_linter_cache

# --- the set-up -------------------------------------------------------------------------------------

NO_PYTHON := echo "ztui needs Python >= 3.11 (tried python3, python3.11)" >&2; exit 1

$(STAMP)/debs: scripts/ensure-debs.sh
	@test -n "$(PYTHON)" || { $(NO_PYTHON); }
	@scripts/ensure-debs.sh --python "$(PYTHON)"
	@mkdir -p $(@D) && touch $@

# Order-only on the packages: checking them again (after an edit of the script) does not re-run pip.
$(STAMP)/venv: pyproject.toml scripts/setup-venv.sh $(VENV)/pyvenv.cfg | $(STAMP)/debs
	@test -n "$(PYTHON)" || { $(NO_PYTHON); }
	scripts/setup-venv.sh "$(PYTHON)" $(VENV)
	@mkdir -p $(@D) && touch $@

# No .venv (yet, or any more): this prerequisite counts as new, so the stamp above is out of date.
$(VENV)/pyvenv.cfg: ;
