"""Commands: ``teacher``, ``qa``, ``repair``, ``distill`` (thin wrappers over :mod:`nextedit.teacher`).

The LLM stages share ``--llm BACKEND`` (``anthropic:MODEL``, ``openai:MODEL``,
``openai-compatible:URL#MODEL``), ``--cache`` (the SQLite response cache), ``--cache-only``,
``--batch``/``--wait`` (provider batches), ``--timeout`` and ``--max-parallelism``: worker processes
(or Ray actors), each with up to that many requests in flight (an example's repetitions).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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

if TYPE_CHECKING:
    from nextedit.teacher.llm_stage import LLMStage

Backend = Annotated[
    str,
    typer.Option(
        "--llm",
        help="anthropic:MODEL, openai:MODEL or openai-compatible:URL#MODEL (keys from the environment).",
    ),
]
CachePath = Annotated[
    Path | None,
    typer.Option("--cache", help="SQLite response cache (default: $NEXTEDIT_DATA_DIR/llm_cache.sqlite)."),
]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Keep no response cache (every run asks again).")]
CacheOnly = Annotated[
    bool, typer.Option("--cache-only", help="Never call out: answers only from the cache (misses: error).")
]
Batch = Annotated[
    bool,
    typer.Option(
        "--batch",
        help="Send misses as provider batches (half price; the run is one shard); rerun to collect.",
    ),
]
Wait = Annotated[bool, typer.Option("--wait", help="With --batch: poll until every batch has finished.")]
Timeout = Annotated[float, typer.Option("--timeout", min=0.001, help="Seconds per HTTP request.")]


def _config(
    llm: str,
    cache: Path | None,
    no_cache: bool,
    cache_only: bool,
    batch: bool,
    wait: bool,
    timeout: float,
    max_parallelism: int,
):  # noqa: ANN202 - LLMConfig (imported lazily)
    from nextedit.errors import NexteditError
    from nextedit.llm import LLMConfig
    from nextedit.paths import data_dir

    if no_cache and (cache_only or batch):
        raise typer.BadParameter("--cache-only and --batch need the response cache", param_hint="--no-cache")
    path = None if no_cache else str(cache or data_dir() / "llm_cache.sqlite")
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        return LLMConfig(
            llm,
            cache=path,
            cache_only=cache_only,
            batched=batch,
            wait=wait,
            timeout=timeout,
            max_parallelism=max_parallelism,
        )
    except NexteditError as e:
        raise typer.BadParameter(str(e), param_hint="--llm") from None


def _run(stage: LLMStage, inputs: list[str], opts: RunOptions) -> None:
    from rich.console import Console

    from nextedit.errors import NexteditError
    from nextedit.teacher.llm_stage import RunStopped, llm_summary

    try:
        run_stage_command(stage, inputs, opts)
    except RunStopped as e:
        raise NexteditError(f"{e}; rerun to resume after the last written shard") from None
    finally:
        pending = int(stage.stats.counters["llm.pending"])
        if pending:
            Console(stderr=True).print(
                f"{pending} requests wait in provider batches: rerun with the output as input and "
                "--in-place (same options) to collect them, or pass --wait",
                soft_wrap=True,
            )
        if stage.stats.seen or stage.stats.skipped_resume:
            Console(stderr=True).print(
                f"{stage.name} {stage.llm}: {llm_summary(stage.stats)}", soft_wrap=True
            )


@app.command("teacher")
def teacher_cmd(
    inputs: Inputs,
    llm: Backend,
    repetitions: Annotated[
        int, typer.Option("--repetitions", min=1, help="Teacher answers per example.")
    ] = 1,
    cache: CachePath = None,
    no_cache: NoCache = False,
    cache_only: CacheOnly = False,
    batch: Batch = False,
    wait: Wait = False,
    timeout: Timeout = 600.0,
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
    """A teacher LLM writes `predictions[]` (provider teacher:MODEL) from the §3.4 teacher prompt."""
    from nextedit.teacher import BatchedTeacherStage, TeacherStage

    config = _config(llm, cache, no_cache, cache_only, batch, wait, timeout, max_parallelism)
    opts = RunOptions(
        output, in_place, limit, offset, name, no_resume, failfast, failed, executor, max_parallelism
    )
    _run((BatchedTeacherStage if batch else TeacherStage)(config, repetitions), inputs, opts)


@app.command("qa")
def qa_cmd(
    inputs: Inputs,
    llm: Backend,
    cache: CachePath = None,
    no_cache: NoCache = False,
    cache_only: CacheOnly = False,
    batch: Batch = False,
    wait: Wait = False,
    timeout: Timeout = 600.0,
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
    """An LLM judge fills `qa[i]` (reasoning, reverts_edits, confidence 1-5) for each prediction."""
    from nextedit.teacher import BatchedQaStage, QaStage

    config = _config(llm, cache, no_cache, cache_only, batch, wait, timeout, max_parallelism)
    opts = RunOptions(
        output, in_place, limit, offset, name, no_resume, failfast, failed, executor, max_parallelism
    )
    _run((BatchedQaStage if batch else QaStage)(config), inputs, opts)


@app.command("repair")
def repair_cmd(
    inputs: Inputs,
    llm: Backend,
    confidence_threshold: Annotated[
        int, typer.Option("--confidence-threshold", min=1, max=5, help="Repair when QA confidence ≤ this.")
    ] = 2,
    cache: CachePath = None,
    no_cache: NoCache = False,
    cache_only: CacheOnly = False,
    batch: Batch = False,
    wait: Wait = False,
    timeout: Timeout = 600.0,
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
    """The teacher repairs predictions that QA or the scores flag (§3.7); appends provider `repair`."""
    from nextedit.teacher import BatchedRepairStage, RepairStage

    config = _config(llm, cache, no_cache, cache_only, batch, wait, timeout, max_parallelism)
    opts = RunOptions(
        output, in_place, limit, offset, name, no_resume, failfast, failed, executor, max_parallelism
    )
    _run((BatchedRepairStage if batch else RepairStage)(config, confidence_threshold), inputs, opts)


@app.command("distill")
def distill_cmd(
    inputs: Inputs,
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
    """Predictions → `expected_patches` (repair patch, else teacher patches); LLM fields removed."""
    from nextedit.teacher import DistillStage

    run_stage_command(
        DistillStage(),
        inputs,
        RunOptions(
            output, in_place, limit, offset, name, no_resume, failfast, failed, executor, max_parallelism
        ),
    )


@app.command("synthesize")
def synthesize_cmd(
    repo: Annotated[Path, typer.Option("--repo", help="A git repository (its commits are the material).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Example JSONL, appended to.")],
    llm: Backend,
    count: Annotated[
        int | None, typer.Option("--count", min=1, help="Stop after this many examples.")
    ] = None,
    max_commits: Annotated[
        int, typer.Option("--max-commits", min=1, help="Newest commits to look at.")
    ] = 100,
    state: Annotated[
        Path | None, typer.Option("--state", help="Commits already answered (default: <output>.state.json).")
    ] = None,
    cache: CachePath = None,
    no_cache: NoCache = False,
    cache_only: CacheOnly = False,
    timeout: Timeout = 600.0,
    max_parallelism: Annotated[int, typer.Option("--max-parallelism", min=1, help="Requests in flight.")] = 4,
) -> None:
    """An LLM turns commits into examples (§3.11): edit history + expected patch, validated on the repo."""
    from rich.console import Console

    from nextedit.errors import NexteditError
    from nextedit.teacher.llm_stage import RunStopped
    from nextedit.teacher.synthesize import synthesize

    config = _config(llm, cache, no_cache, cache_only, False, False, timeout, max_parallelism)
    try:
        result = synthesize(repo, config, output, state=state, max_commits=max_commits, count=count)
    except RunStopped as e:
        raise NexteditError(f"{e}; rerun to go on (answered commits are remembered)") from None
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(result.counts.items()))
    console = Console(stderr=True)
    console.print(
        f"{result.written} examples appended to {output} ({counts or 'no commits'})", soft_wrap=True
    )
    console.print(f"synthesize {config.backend}: {result.summary}", soft_wrap=True)
