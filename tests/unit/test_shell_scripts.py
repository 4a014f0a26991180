"""Each shell's completion script, run by the shell itself: bash (its completion function driven the way
readline drives it, with and without the bash-completion package loaded), fish (`complete -C`) and zsh (in
tmux, a Tab typed at its prompt). The hosts are libvirt's test driver on the project's host file."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.shell_completion import BASH_COMPLETION, SHELLS, bash_complete, shell_env

pytest.importorskip("libvirt", reason="libvirt-python is not installed")


@pytest.mark.parametrize("with_package", [False, True], ids=["plain-bash", "bash-completion"])
def test_bash(tmp_path: Path, testdriver_uri: str, with_package: bool) -> None:
    if with_package and not BASH_COMPLETION.exists():
        pytest.skip("the bash-completion package is not installed")
    uri = testdriver_uri

    def comp(line: str) -> list[str]:
        return bash_complete(tmp_path, line, with_package=with_package)

    assert comp("ztui att") == ["attach"]
    assert comp(f"ztui -c {uri} start idle-s") == ["idle-shutoff"]
    assert set(comp(f"ztui -c {uri} tree web")) == {"web01", "web02"}
    assert "vda" in comp(f"ztui -c {uri} detach db01 ")
    # bash splits words at ':' and '=': what it puts back is the part after the last one
    assert sorted(comp(f"ztui -c {uri} detach db01 0.0.000")) == [f"0.0.000{i}" for i in range(8)]
    assert comp("ztui migrate --passthrough=ref") == ["refuse"]
    macs = comp(f"ztui -c {uri} detach db01 52:54:")  # bash puts back only what follows the last ':'
    assert macs and all(f"mac address='52:54:{m}'" in Path(uri.removeprefix("test://")).read_text() for m in macs)
    files = comp(f"ztui attach db01 --disk {SHELLS}/ztui.b")
    assert files == [str(SHELLS / "ztui.bash")]


def test_fish(tmp_path: Path, testdriver_uri: str) -> None:
    if shutil.which("fish") is None:
        pytest.skip("fish is not installed")

    def comp(line: str) -> list[str]:
        script = f"source {SHELLS / 'ztui.fish'}; complete -C '{line}'"
        result = subprocess.run(["fish", "--no-config", "-c", script], capture_output=True, text=True, timeout=60,
                                env=shell_env(tmp_path), check=True)
        return result.stdout.splitlines()

    assert comp("ztui att") == ["attach\thotplug a device into a guest"]
    assert set(comp(f"ztui -c {testdriver_uri} resume ")) == {"idle-paused\tpaused"}
    assert f"vda\tdisk {Path('/var/lib/libvirt/images/db01.qcow2')}" in comp(f"ztui -c {testdriver_uri} detach db01 ")
    assert comp(f"ztui attach g --disk={SHELLS}/ztui.f") == [f"--disk={SHELLS}/ztui.fish"]


def test_zsh(tmp_path: Path, testdriver_uri: str) -> None:
    """Typed at a real zsh prompt in tmux: completes the command, then lists a guest's devices with what
    each one is."""
    if shutil.which("zsh") is None or shutil.which("tmux") is None:
        pytest.skip("zsh or tmux is not installed")
    functions = tmp_path / "zfunc"
    functions.mkdir()
    shutil.copy(SHELLS / "_ztui", functions / "_ztui")
    tmux = ["tmux", "-S", str(tmp_path / "tmux.sock")]
    env = {**shell_env(tmp_path), "TMUX": ""}
    subprocess.run([*tmux, "new-session", "-d", "-x", "160", "-y", "30", "zsh", "-f"], env=env, check=True)
    try:
        def screen_after(keys: list[str], wanted: str) -> str:
            subprocess.run([*tmux, "send-keys", *keys], check=True)
            deadline = time.monotonic() + 20
            text = ""
            while time.monotonic() < deadline:
                text = subprocess.run([*tmux, "capture-pane", "-p"], capture_output=True, text=True).stdout
                if wanted in text:
                    break
                time.sleep(0.2)
            return text

        screen_after([f"fpath=({functions} $fpath); autoload -U compinit; compinit -u; PS1='%% '", "Enter"], "%")
        assert "% ztui attach" in screen_after(["ztui att", "Tab"], "ztui attach")
        shown = screen_after(["C-u", f"ztui -c {testdriver_uri} detach db01 ", "Tab"], "-- disk")
        assert "vda" in shown and "-- disk" in shown, shown
    finally:
        subprocess.run([*tmux, "kill-server"], check=False, capture_output=True)
