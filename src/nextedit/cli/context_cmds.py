"""`nextedit load-project` and `nextedit context`: build `prompt_inputs` from each example's project."""

from __future__ import annotations

from typing import Annotated

import typer

from nextedit.cli.app import app
from nextedit.cli.options import (
    ExecutorKind,
    ExecutorOpt,
    Failed,
    FailedHandling,
    Failfast,
    InPlace,
    Inputs,
    Limit,
    MaxParallelism,
    NameFilter,
    NoResume,
    Offset,
    Output,
    RunOptions,
    run_stage_command,
)

ReposDir = Annotated[
    str | None,
    typer.Option(
        "--repos-dir",
        help="Directory of local git clones, looked up as <dir>/<owner>/<repo> or <dir>/<repo>. "
        "Examples whose repository is missing get excerpt-only prompt inputs (tag context:excerpt-only); "
        "a local-path repository_url must lie inside it, and an example naming a file outside its "
        "repository fails (see <out>.failed.jsonl).",
    ),
]


@app.command("load-project")
def load_project_cmd(
    inputs: Inputs,
    repos_dir: ReposDir = None,
    output: Output = None,
    in_place: InPlace = False,
    limit: Limit = None,
    offset: Offset = 0,
    name: NameFilter = None,
    no_resume: NoResume = False,
    failfast: Failfast = False,
    failed: Failed = FailedHandling.keep,
    executor: ExecutorOpt = ExecutorKind.local,
    max_parallelism: MaxParallelism = 1,
) -> None:
    """Fill prompt_inputs (cursor excerpt, excerpt/syntax ranges, edit-history events, diagnostics)
    by reading each example's repository at its revision, applying the uncommitted diff and
    replaying the edit history. Nothing is cloned or checked out."""
    from nextedit.context.stages import LoadProjectStage
    from nextedit.data.pypi import pypi_sources

    run_stage_command(
        lambda: LoadProjectStage(repos_dir, pypi_sources()),
        inputs,
        RunOptions(output, in_place, limit, offset, name, no_resume, failfast, failed, executor, max_parallelism),
    )


@app.command("context")
def context_cmd(
    inputs: Inputs,
    repos_dir: ReposDir = None,
    context_type: Annotated[
        str,
        typer.Option(
            "--type",
            help="lsp: definitions from a tree-sitter symbol index (BM25 when none resolve); "
            "bm25: 40-line BM25 chunks; all: both; none: empty related_files.",
        ),
    ] = "lsp",
    output: Output = None,
    in_place: InPlace = False,
    limit: Limit = None,
    offset: Offset = 0,
    name: NameFilter = None,
    no_resume: NoResume = False,
    failfast: Failfast = False,
    failed: Failed = FailedHandling.keep,
    executor: ExecutorOpt = ExecutorKind.local,
    max_parallelism: MaxParallelism = 1,
) -> None:
    """Like load-project, and also fill prompt_inputs.related_files."""
    from nextedit.context.stages import CONTEXT_TYPES, ContextStage
    from nextedit.data.pypi import pypi_sources

    if context_type not in CONTEXT_TYPES:
        raise typer.BadParameter(f"--type must be one of {', '.join(CONTEXT_TYPES)}")
    run_stage_command(
        lambda: ContextStage(repos_dir, context_type, pypi_sources()),
        inputs,
        RunOptions(output, in_place, limit, offset, name, no_resume, failfast, failed, executor, max_parallelism),
    )
