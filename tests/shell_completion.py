"""Running ztui's completion scripts in the shells themselves (tests/unit/test_shell_scripts.py, the lab's
tests/lab/test_completion_lab.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SHELLS = Path(__file__).resolve().parents[1] / "ztui" / "cli" / "shells"
BASH_COMPLETION = Path("/usr/share/bash-completion/bash_completion")


def shell_env(tmp_path: Path) -> dict[str, str]:
    """`ztui` on PATH as this interpreter's (the scripts call the command the line starts with)."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    wrapper = bindir / "ztui"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} -m ztui \"$@\"\n")
    wrapper.chmod(0o755)
    return {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}", "HOME": str(tmp_path)}


def bash_complete(tmp_path: Path, line: str, *, with_package: bool = False,
                  env: dict[str, str] | None = None) -> list[str]:
    """COMPREPLY for `line` with the cursor at its end, as bash's programmable completion sets it."""
    prelude = f"source {BASH_COMPLETION}\n" if with_package else ""
    script = (f"{prelude}source {SHELLS / 'ztui.bash'}\n"
              'COMP_LINE=$1; COMP_POINT=${#COMP_LINE}\n'
              'read -r -a COMP_WORDS <<<"$COMP_LINE"; [[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")\n'
              'COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n'
              '$(complete -p ztui | sed "s/.*-F \\([^ ]*\\) .*/\\1/") ztui "${COMP_WORDS[COMP_CWORD]}"\n'
              'printf "%s\\n" "${COMPREPLY[@]}"\n')
    result = subprocess.run(["bash", "--norc", "-c", script, "bash", line], capture_output=True, text=True,
                            timeout=60, env={**shell_env(tmp_path), **(env or {})}, check=True)
    return [line for line in result.stdout.splitlines() if line]  # printf prints one empty line for none
