# ztui: set-up and the commands the README names. `make demo` and `make test` each install what they
# need on a fresh Debian 12 machine (as root) and are quick when everything is already there.

SHELL := /bin/bash
PYTHON ?= $(shell for p in python3 python3.11 python3.12 python3.13; do \
	command -v $$p >/dev/null && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && { echo $$p; break; }; done)
VENV := .venv
STAMP := .make
DEMO_ARGS ?= --lab

.PHONY: setup demo test lint bench screenshots clean

# Debian packages (only missing ones), then the virtualenv with ztui and its test tools. The stamps
# make a second run skip both: the Debian stamp is renewed by the script itself being newer, the venv
# stamp by pyproject.toml changing.
$(STAMP)/debs: scripts/ensure-debs.sh
	@mkdir -p $(STAMP)
	@scripts/ensure-debs.sh
	@touch $@

$(STAMP)/venv: pyproject.toml $(STAMP)/debs
	@test -n "$(PYTHON)" || { echo "ztui needs Python >= 3.11 (python3)" >&2; exit 1; }
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@

setup: $(STAMP)/venv

demo: setup
	$(VENV)/bin/ztui $(DEMO_ARGS)

test: setup
	$(VENV)/bin/python -m pytest

lint: setup
	$(VENV)/bin/ruff check ztui tests scripts
	$(VENV)/bin/mypy --strict ztui
	$(VENV)/bin/lint-imports

bench: setup
	$(VENV)/bin/python -m pytest tests/bench -q -s -p no:cacheprovider --override-ini=addopts=

screenshots: setup
	$(VENV)/bin/python scripts/screenshots.py

clean:
	rm -rf $(STAMP) $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
