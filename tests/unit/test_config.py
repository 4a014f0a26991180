"""Saved hosts (`ztui.config`): the TOML subset written and read back, every way a config can be wrong, the
atomic write under a crash and a failing disk, and the one rule that turns -c, -g and saved names into hosts."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ztui.config import (
    BadConfig,
    Chosen,
    Config,
    SavedHost,
    choose_hosts,
    config_path,
    edit_config,
    format_config,
    load_config,
    parse_config,
    save_config,
    toml_string,
    with_host,
    without_host,
)
from ztui.errors import BadInput
from ztui.ops.safety.known_hosts import HostOrigin, known_hosts

LPAR1 = SavedHost("lpar1", "qemu+ssh://root@lpar1.example.com/system", "prod", True)
LPAR2 = SavedHost("lpar2", "qemu+ssh://root@lpar2.example.com/system?keyfile=/root/.ssh/z&no_tty=1", "prod")
TEST = SavedHost("lab.t-1", "test:///default")


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("LIBVIRT_DEFAULT_URI", raising=False)
    return tmp_path / "xdg" / "ztui" / "config.toml"


def test_the_path_follows_xdg(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert config_path() == cfg
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")  # the spec: relative values are ignored
    assert config_path() == Path.home() / ".config" / "ztui" / "config.toml"


def test_no_file_is_no_saved_host(cfg: Path) -> None:
    assert load_config() == Config(cfg)


def test_written_and_read_back(cfg: Path) -> None:
    config = Config(cfg, (LPAR1, LPAR2, TEST))
    save_config(config)
    assert load_config() == config
    assert os.stat(cfg).st_mode & 0o777 == 0o600
    assert os.stat(cfg.parent).st_mode & 0o777 == 0o700
    text = cfg.read_text()
    assert '[hosts."lpar1"]' in text and "readonly = true" in text and 'group = "prod"' in text


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_is_written_as_toml_reads_it(value: str) -> None:
    assert tomllib.loads(f"key = {toml_string(value)}")["key"] == value


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.from_regex(r"[a-z][a-z0-9._-]{0,10}", fullmatch=True),
                          st.text(alphabet=st.characters(blacklist_categories=(
                              "Cc", "Cf", "Cn", "Co", "Zs", "Zl", "Zp", "Cs")), min_size=1, max_size=30),
                          st.booleans()), max_size=6, unique_by=lambda t: t[0]))
def test_any_config_reads_back_equal(hosts: list[tuple[str, str, bool]]) -> None:
    saved = tuple(SavedHost(name, f"qemu+ssh://{i}/{rest}", "g" if ro else "", ro)
                  for i, (name, rest, ro) in enumerate(hosts))
    config = Config(Path("/x/config.toml"), saved)
    assert parse_config(format_config(config).encode(), config.path) == config


@pytest.mark.parametrize(("text", "says"), [
    ("hosts = [", "not valid TOML"),
    ("[hosts.a]\nuri = 'qemu:///system'\n[hosts.a]\nuri = 'test:///default'\n", "not valid TOML"),
    ("color = true\n", "unknown key 'color'"),
    ("hosts = 3\n", "'hosts' must be tables"),
    ("[hosts.a]\n", "needs uri"),
    ("[hosts.a]\nuri = 3\n", "needs uri"),
    ("[hosts.a]\nuri = 'qemu:///system'\nurl = 'x'\n", "unknown key 'url'"),
    ("[hosts.a]\nuri = 'qemu:///system'\nreadonly = 'yes'\n", "readonly true or false"),
    ("[hosts.a]\nuri = 'not a uri'\n", "is not a libvirt URI"),
    ("[hosts.a]\nuri = 'qemu:///system'\ngroup = 'a b'\n", "is not a name"),
    ('[hosts."x y"]\nuri = "qemu:///system"\n', "is not a name"),
    ('[hosts."qemu:///system"]\nuri = "qemu:///system"\n', "looks like a URI"),
    ("[hosts.a]\nuri = 'qemu:///system'\n[hosts.b]\nuri = 'qemu:///system'\n", "saved already as 'a'"),
    ("hosts = 'x'\n\udcff", "not UTF-8"),
])
def test_a_bad_config_is_one_line_naming_the_file(cfg: Path, text: str, says: str) -> None:
    cfg.parent.mkdir(parents=True)
    cfg.write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(BadConfig) as caught:
        load_config()
    message = str(caught.value)
    assert says in message and str(cfg) in message and "\n" not in message
    assert caught.value.exit_status == 2


def test_a_config_that_is_no_file_is_refused_without_waiting(cfg: Path) -> None:
    cfg.parent.mkdir(parents=True)
    os.mkfifo(cfg)  # no writer: a blocking open would wait for ever
    with pytest.raises(BadConfig, match="not a regular file"):
        load_config()


def test_an_unreadable_config_is_one_line(cfg: Path) -> None:
    cfg.parent.mkdir(parents=True)
    cfg.mkdir()
    with pytest.raises(BadConfig, match=r"cannot be read|not a regular file"):
        load_config()


@pytest.mark.parametrize(("host", "says"), [
    (SavedHost("qemu+ssh://lpar1/system", "qemu+ssh://lpar1/system"), "looks like a URI"),
    (SavedHost("lpar1/x", "qemu:///system"), "looks like a URI"),
    (SavedHost("-c", "qemu:///system"), "is not a name"),
    (SavedHost("a" * 65, "qemu:///system"), "is not a name"),
    (SavedHost("lpar1", "lpar1.example.com"), "not a libvirt URI"),
    (SavedHost("lpar1", "qemu:///system\n"), "not a libvirt URI"),
    (SavedHost("lpar1", "qemu:///system", "prod east"), "is not a name"),
])
def test_bad_names_uris_and_groups_are_refused(host: SavedHost, says: str) -> None:
    with pytest.raises(BadInput, match=says):
        with_host(Config(Path("/x")), host)


def test_names_and_uris_are_unique() -> None:
    config = with_host(Config(Path("/x")), LPAR1)
    with pytest.raises(BadInput, match="saved already"):
        with_host(config, SavedHost("lpar1", "qemu:///system"))
    with pytest.raises(BadInput, match="saved already as 'lpar1'"):
        with_host(config, SavedHost("other", LPAR1.uri))
    assert without_host(config, "lpar1").hosts == ()
    with pytest.raises(BadInput, match="no saved host is named 'lpar9'"):
        without_host(config, "lpar9")


def test_a_refused_change_leaves_the_file_as_it_was(cfg: Path) -> None:
    edit_config(lambda c: with_host(c, LPAR1))
    before = cfg.read_bytes()
    with pytest.raises(BadInput):
        edit_config(lambda c: with_host(c, LPAR1))
    assert cfg.read_bytes() == before


def test_a_symlinked_config_is_written_where_it_points(cfg: Path, tmp_path: Path) -> None:
    kept = tmp_path / "dotfiles" / "ztui.toml"
    kept.parent.mkdir()
    kept.write_text("")
    cfg.parent.mkdir(parents=True)
    cfg.symlink_to(kept)
    edit_config(lambda c: with_host(c, TEST))
    assert cfg.is_symlink() and load_config().hosts == (TEST,)


def _ztui(*args: str, cfg: Path, env: dict[str, str] | None = None,
          pre: str = "") -> subprocess.CompletedProcess[str]:
    code = pre + "import sys; from ztui.cli.main import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "XDG_CONFIG_HOME": str(cfg.parent.parent), **(env or {})})


def test_a_crash_between_writing_and_renaming_leaves_the_old_config(cfg: Path) -> None:
    edit_config(lambda c: with_host(c, LPAR1))
    before = cfg.read_bytes()
    done = _ztui("hosts", "add", "lpar2", LPAR2.uri, cfg=cfg,
                 env={"ZTUI_FAULT_STEP": "hosts:config-written", "ZTUI_FAULT_RUN": "kill -9 $ZTUI_PID"})
    assert done.returncode == -9
    assert cfg.read_bytes() == before  # the new text was whole in the temporary file, never in this one
    assert (cfg.parent / ".config.toml.tmp").exists()
    edit_config(lambda c: with_host(c, LPAR2))  # the next write takes the leftover's place
    assert not (cfg.parent / ".config.toml.tmp").exists()
    assert load_config().hosts == (LPAR1, LPAR2)


def test_a_failing_write_leaves_the_old_config_and_says_so(cfg: Path) -> None:
    edit_config(lambda c: with_host(c, LPAR1))
    before = cfg.read_bytes()
    # a file size limit below the new file: the write fails as on a full disk (EFBIG instead of ENOSPC)
    pre = textwrap.dedent(f"""
        import resource, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({len(before) + 10}, {len(before) + 10}))
    """)
    done = _ztui("hosts", "add", "lpar2", LPAR2.uri, cfg=cfg, pre=pre)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "cannot be written" in done.stderr and "as it was" in done.stderr
    assert cfg.read_bytes() == before
    assert not (cfg.parent / ".config.toml.tmp").exists()


def test_a_directory_that_does_not_confirm_the_rename_is_not_called_unchanged(cfg: Path) -> None:
    """The directory's fsync fails after the rename (a failing disk, a file system without one): the new
    file is in place, so saying the old one is would be untrue."""
    edit_config(lambda c: with_host(c, LPAR1))
    pre = textwrap.dedent("""
        import os, stat
        real_fsync = os.fsync
        def fsync(fd):
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                raise OSError(5, "Input/output error")
            real_fsync(fd)
        os.fsync = fsync
    """)
    done = _ztui("hosts", "add", "lpar2", LPAR2.uri, cfg=cfg, pre=pre)
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert "written, but the disk did not confirm it (Input/output error)" in done.stderr
    assert "as it was" not in done.stderr
    assert [h.name for h in load_config().hosts] == ["lpar1", "lpar2"]


def test_two_adds_at_once_both_count(cfg: Path) -> None:
    procs = [subprocess.Popen([sys.executable, "-m", "ztui", "hosts", "add", f"h{i}", f"test:///h{i}.xml"],
                              env={**os.environ, "XDG_CONFIG_HOME": str(cfg.parent.parent)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(6)]
    assert [p.wait(60) for p in procs] == [0] * 6
    assert sorted(h.name for h in load_config().hosts) == [f"h{i}" for i in range(6)]


# --- choosing the hosts ---------------------------------------------------------------------------------


def _saved(*hosts: SavedHost) -> Config:
    return Config(Path("/x"), hosts)


def test_without_any_option_every_saved_host_then_the_environment_then_the_system(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIBVIRT_DEFAULT_URI", raising=False)
    chosen = choose_hosts(None, None, config=lambda: _saved(LPAR1, TEST))
    assert chosen.chosen is Chosen.SAVED and chosen.uris == [LPAR1.uri, TEST.uri]
    assert chosen.hosts[0].readonly and chosen.hosts[0].name == "lpar1"
    monkeypatch.setenv("LIBVIRT_DEFAULT_URI", "qemu+ssh://x/system")
    assert choose_hosts(None, None, config=lambda: _saved(LPAR1)).chosen is Chosen.SAVED
    env = choose_hosts(None, None, config=_saved)
    assert env.chosen is Chosen.ENVIRONMENT and env.uris == ["qemu+ssh://x/system"]
    monkeypatch.delenv("LIBVIRT_DEFAULT_URI")
    assert choose_hosts(None, None, config=_saved).uris == ["qemu:///system"]


def test_names_groups_and_uris_in_the_order_given_without_repeats() -> None:
    config = lambda: _saved(LPAR1, LPAR2, TEST)  # noqa: E731
    chosen = choose_hosts(["lab.t-1", "qemu:///system", "lpar1"], ["prod"], config=config)
    assert chosen.chosen is Chosen.GIVEN
    assert chosen.uris == [TEST.uri, "qemu:///system", LPAR1.uri, LPAR2.uri]
    assert [t.readonly for t in chosen.hosts] == [False, False, True, False]
    # the same host by URI and by its read-only name: read-only
    assert choose_hosts([LPAR1.uri, "lpar1"], None, config=config).hosts[0].readonly


def test_a_uri_needs_no_config_and_a_name_that_is_not_saved_goes_to_libvirt() -> None:
    def broken() -> Config:
        raise BadConfig("broken")

    assert choose_hosts(["qemu:///system"], None, config=broken).uris == ["qemu:///system"]
    with pytest.raises(BadConfig):
        choose_hosts(["lpar1"], None, config=broken)
    assert choose_hosts(["myalias"], None, config=_saved).uris == ["myalias"]  # libvirt's uri_aliases


def test_a_group_nobody_is_in_is_bad_input() -> None:
    with pytest.raises(BadInput, match=r"no saved host is in group 'test' \(groups: prod\)"):
        choose_hosts(None, ["test"], config=lambda: _saved(LPAR1))


def test_lab_names_with_lab() -> None:
    lab = {"zlab-a": "qemu+unix:///system?socket=/a", "zlab-b": "qemu+unix:///system?socket=/b"}
    assert choose_hosts(None, None, lab=lab, config=_saved).chosen is Chosen.LAB
    assert choose_hosts(["zlab-b"], None, lab=lab, config=_saved).uris == [lab["zlab-b"]]


def test_saved_hosts_are_known_hosts(cfg: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZTUI_LAB_DIR", str(tmp_path / "nolab"))
    save_config(Config(cfg, (LPAR1, TEST)))
    known = known_hosts(["qemu:///system", TEST.uri])
    assert [k.uri for k in known] == ["qemu:///system", TEST.uri, LPAR1.uri]
    assert known[1].origin is HostOrigin.SESSION and known[1].name == "lab.t-1"
    assert known[2].origin is HostOrigin.SAVED and known[2].name == LPAR1.name
    cfg.write_text("broken = [")  # hosts that cannot even be listed are one host that cannot be asked
    here, unreadable = known_hosts(["qemu:///system"])
    assert here.uri == "qemu:///system" and unreadable.origin is HostOrigin.SAVED
    assert unreadable.unreadable.startswith(f"{cfg}: not valid TOML")

