"""Options shared by every pipeline command (inputs → steps → JSONL out), and how they run it.

Zed ``ep`` conventions: ``--limit``, ``--offset``, ``--name``, ``--max-parallelism N``,
``--failed keep|skip``, ``--failfast``, ``-o``/``--in-place``; plus ``--executor local|ray`` and
``--no-resume``/``--force``. Exit status: 0 done; 1 error (one line, nothing or a resumable part
written); 2 bad command line; **3 done, but some input lines were unreadable (skipped, named by
``file:line``) or some examples failed** (written to ``<output>.failed.jsonl`` with the error).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from nextedit.pipeline import RunResult, Stage

SKIPPED_EXIT = 3


class FailedHandling(StrEnum):
    keep = "keep"
    skip = "skip"


class ExecutorKind(StrEnum):
    local = "local"
    ray = "ray"


Inputs = Annotated[
    list[str],
    typer.Argument(help="Input .jsonl(.gz/.zst), .json, .md files, directories of them, or - for stdin."),
]
Output = Annotated[
    str | None, typer.Option("--output", "-o", help="Output JSONL (default: stdout). Resumed if interrupted.")
]
InPlace = Annotated[bool, typer.Option("--in-place", "-i", help="Rewrite the single input file.")]
Limit = Annotated[int | None, typer.Option("--limit", help="Process at most N examples.")]
Offset = Annotated[int, typer.Option("--offset", help="Skip the first N examples.")]
NameFilter = Annotated[str | None, typer.Option("--name", help="Only examples whose name contains this.")]
NoResume = Annotated[
    bool,
    typer.Option(
        "--no-resume",
        "--force",
        help="Start over: overwrite the output, even one made from other inputs or options.",
    ),
]
Failfast = Annotated[
    bool, typer.Option("--failfast", help="Stop at the first unreadable input or failed example.")
]
Failed = Annotated[
    FailedHandling,
    typer.Option(
        "--failed",
        help="An example a step raised on goes to <output>.failed.jsonl with its error; keep: also to the "
        "output as it was, skip: not to the output. Exit status 3 if any.",
    ),
]
ExecutorOpt = Annotated[
    ExecutorKind,
    typer.Option(
        "--executor", help="local: processes on this machine; ray: Ray Data (pip install 'nextedit[ray]')."
    ),
]
MaxParallelism = Annotated[
    int,
    typer.Option("--max-parallelism", min=1, help="Worker processes (or Ray actors); 1 = in this process."),
]


@dataclass
class RunOptions:
    """The shared options of one command line, as the pipeline takes them."""

    output: str | None = None
    in_place: bool = False
    limit: int | None = None
    offset: int = 0
    name: str | None = None
    no_resume: bool = False
    failfast: bool = False
    failed: FailedHandling = FailedHandling.keep
    executor: ExecutorKind = ExecutorKind.local
    max_parallelism: int = 1


def run_stage_command(
    stage: Stage | Callable[[], Stage] | None, inputs: list[str], opts: RunOptions
) -> RunResult:
    """``[ExampleReader(inputs), stage, ExampleWriter(output)]`` for a command: inputs and outputs are
    checked first (one-line errors), then ``stage`` is built (pass a factory when building it is
    expensive, e.g. loads a model; None = no step), run and reported; exits with 3 if anything was
    skipped or failed."""
    from nextedit.cli import checks
    from nextedit.io.inputs import expand_inputs
    from nextedit.pipeline import ExampleReader, ExampleWriter, failed_path

    checks.existing_inputs(inputs)
    output = opts.output
    if opts.in_place:
        paths = expand_inputs(inputs)
        if len(paths) != 1 or not paths[0].endswith(".jsonl"):
            raise typer.BadParameter("needs exactly one plain .jsonl input", param_hint="--in-place")
        output = paths[0]
    elif output not in (None, "-"):
        if Path(output).resolve() in {Path(p).resolve() for p in expand_inputs(inputs) if p != "-"}:
            raise typer.BadParameter(f"{output} is also an input; use --in-place", param_hint="--output")
        checks.writable_output(output, "--output")
        checks.writable_output(failed_path(output), "--output")
    reader = ExampleReader(inputs, failfast=opts.failfast)
    steps = [] if stage is None else [stage if isinstance(stage, Stage) else stage()]
    return run_and_report([reader, *steps, ExampleWriter(output, atomic=opts.in_place)], opts)


def run_and_report(pipeline: list[Stage], opts: RunOptions, label: str | None = None) -> RunResult:
    """Run a pipeline with the command's options and the rich progress; exit 3 if not clean."""
    from nextedit.cli.progress import RichProgress
    from nextedit.pipeline import make_executor, run_pipeline

    result = run_pipeline(
        pipeline,
        make_executor(opts.executor.value, opts.max_parallelism),
        limit=opts.limit,
        offset=opts.offset,
        name=opts.name,
        failed=opts.failed.value,
        failfast=opts.failfast,
        resume=not opts.no_resume,
        progress=RichProgress(),
        label=label,
    )
    if not result.clean:
        raise typer.Exit(SKIPPED_EXIT)
    return result
