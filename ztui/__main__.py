"""`python -m ztui`: the same program as the `ztui` command (see `ztui.cli.main`)."""

from ztui.cli.main import entry

if __name__ == "__main__":
    entry()
