"""Commands: serve_cmds (to be filled)."""

from nextedit.cli.app import app  # noqa: F401
