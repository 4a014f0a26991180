#!/usr/bin/env bash
# Make the virtualenv VENV (default .venv) with Python PY and install the project into it, editable, with
# its test extras and its build backend (so that packaging tests can build a wheel without the network).
#
#   scripts/setup-venv.sh PY [VENV]
#
# An existing virtualenv is kept when its Python still runs and is >= 3.11; otherwise it is made anew.
# Run from the repository root.
set -euo pipefail

python=${1:?usage: setup-venv.sh PYTHON [VENV]}
venv=${2:-.venv}

if ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    if [[ -e $venv ]]; then
        echo "setup-venv: $venv is broken or too old, making it anew"
    fi
    rm -rf "$venv"
    "$python" -m venv "$venv"
fi

# PEP 517 build requirements from pyproject.toml (e.g. "hatchling>=1.21"), one per line
mapfile -t build_requires < <("$venv/bin/python" -c '
import tomllib
with open("pyproject.toml", "rb") as f:
    print("\n".join(tomllib.load(f)["build-system"]["requires"]))')

"$venv/bin/python" -m pip install -q --progress-bar off -e '.[test]' "${build_requires[@]}" </dev/null
if [[ ! -x $venv/bin/ztui ]]; then
    echo "setup-venv: $venv/bin/ztui is missing after the install" >&2
    exit 1
fi
