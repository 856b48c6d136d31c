"""The `nextedit` command line: thin commands over the same stage objects Python code uses.

Each area registers its commands in its own module; heavy imports (torch, FastAPI) happen inside
the commands so that `nextedit --help` stays fast.
"""

from __future__ import annotations

from nextedit.cli import (  # noqa: F401  (imported for their command registrations)
    ab_cmds,
    bench_cmds,
    compare_cmds,
    context_cmds,
    dashboard_cmds,
    data_cmds,
    eval_cmds,
    io_cmds,
    model_cmds,
    preference_cmds,
    promote_cmds,
    prompt_cmds,
    pull_cmds,
    serve_cmds,
    teacher_cmds,
)
from nextedit.cli.app import app


def main() -> None:
    app()
