"""Command-line commands; each module holds one command and returns an exit status."""
