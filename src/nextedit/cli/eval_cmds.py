"""`nextedit predict`, `nextedit score`, `nextedit eval`: offline evaluation (zeta.md §3.3, §5).

predict and score are resumable stages (JSONL in → JSONL out); eval = [predict in memory] + score +
the §5.6 report (and ``--summary-json``). Inputs may be .jsonl, .json, .md or directories of them.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from nextedit.cli import checks
from nextedit.cli.app import app
from nextedit.cli.options import (
    SKIPPED_EXIT,
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


class WhitespaceMode(StrEnum):
    collapse = "collapse"
    ignore = "ignore"


ProviderOpt = Annotated[
    str,
    typer.Option("--provider", "-p", help=checks.provider_choices()),
]
Repetitions = Annotated[int, typer.Option("--repetitions", min=1, help="Predictions per example.")]
Beta = Annotated[
    float, typer.Option("--beta", help="delta chrF β: 0.5 = current Zed (precision-weighted), 2 = legacy.")
]
Whitespace = Annotated[
    WhitespaceMode, typer.Option("--whitespace", help="delta chrF whitespace: collapse (current) or ignore (legacy).")
]


def _provider(spec: str):
    from nextedit.predict.registry import get_provider

    checks.provider_spec(spec)  # names a provider, its model directory exists: before any loading
    try:
        provider = get_provider(spec)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--provider") from e
    provider.check()  # ProviderUnavailable (one line, exit 1): e.g. a backend that does not answer
    return provider


@app.command("predict")
def predict_cmd(
    inputs: Inputs,
    provider: ProviderOpt = "heuristic",
    repetitions: Repetitions = 1,
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
    """Run a provider on every example; writes `predictions[]` (resumable with -o)."""
    from nextedit.predict.stage import PredictStage

    run_stage_command(
        lambda: PredictStage(_provider(provider), repetitions=repetitions),
        inputs,
        RunOptions(output, in_place, limit, offset, name, no_resume, failfast, failed, executor, max_parallelism),
    )


@app.command("score")
def score_cmd(
    inputs: Inputs,
    output: Output = None,
    beta: Beta = 0.5,
    whitespace: Whitespace = WhitespaceMode.collapse,
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
    """Score each prediction against the expected patches; writes `score[]` (parallel to predictions)."""
    from nextedit.metrics.score import ScoreStage

    run_stage_command(  # its warnings (unscorable, excluded) are messages of the run
        ScoreStage(beta=beta, whitespace=whitespace.value),
        inputs,
        RunOptions(output, in_place, limit, offset, name, no_resume, failfast, failed, executor, max_parallelism),
    )


@app.command("eval")
def eval_cmd(
    inputs: Inputs,
    provider: Annotated[
        str | None,
        typer.Option(
            "--provider",
            "-p",
            help=f"Predict first (in memory) with this provider ({checks.provider_choices()}); else use predictions[].",
        ),
    ] = None,
    repetitions: Repetitions = 1,
    summary_json: Annotated[str | None, typer.Option("--summary-json", help="Write the SummaryJson here.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show every row, not the first 20.")] = False,
    beta: Beta = 0.5,
    whitespace: Whitespace = WhitespaceMode.collapse,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Also write the scored examples (JSONL).")
    ] = None,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", min=0, help="Bootstrap resamples for the 95% intervals (0 = none).")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    limit: Limit = None,
    offset: Offset = 0,
    name: NameFilter = None,
    no_resume: NoResume = False,
    failfast: Failfast = False,
    failed: Failed = FailedHandling.keep,
    executor: ExecutorOpt = ExecutorKind.local,
    max_parallelism: MaxParallelism = 1,
) -> None:
    """Predict (optional), score and print the §5.6 report table and summary."""
    from rich.console import Console

    from nextedit.cli.progress import RichProgress
    from nextedit.cli.render import print_eval_report
    from nextedit.io.inputs import read_examples
    from nextedit.metrics.report import build_report
    from nextedit.metrics.score import ScoreStage
    from nextedit.pipeline import ExampleReader, ExampleWriter, MemoryWriter, make_executor, run_pipeline
    from nextedit.predict.stage import PredictStage

    checks.existing_inputs(inputs)
    if provider is not None:
        checks.provider_spec(provider)
    checks.writable_output(summary_json, "--summary-json")
    checks.writable_output(output, "--output")
    err = Console(stderr=True)
    steps = [PredictStage(_provider(provider), repetitions=repetitions)] if provider is not None else []
    scorer = ScoreStage(beta=beta, whitespace=whitespace.value)
    writer = ExampleWriter(output) if output else MemoryWriter()
    result = run_pipeline(  # the scorer's warnings (unscorable, excluded) are messages of the run
        [ExampleReader(inputs, failfast=failfast), *steps, scorer, writer],
        make_executor(executor.value, max_parallelism),
        limit=limit,
        offset=offset,
        name=name,
        failed=failed.value,
        failfast=failfast,
        resume=not no_resume,
        progress=RichProgress(),
        label="eval",
    )
    scored = list(read_examples([output])) if output else writer.examples

    rows = []
    for ex in scored:
        for i, s in enumerate(ex.score):
            rows.append((ex.name if len(ex.score) == 1 else f"{ex.name}#{i}", s))
    if not rows:
        err.print("[yellow]nothing to report[/]: no example has predictions (pass --provider)")
    out = Console(width=None if sys.stdout.isatty() else 160)
    report = build_report(rows, verbose=verbose, resamples=bootstrap, seed=seed)
    print_eval_report(report, out)
    summary = report.summary
    if provider is not None:
        summary["provider"] = provider
    if summary_json:
        Path(summary_json).parent.mkdir(parents=True, exist_ok=True)
        Path(summary_json).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        err.print(f"summary written to {summary_json}")
    if not result.clean:
        raise typer.Exit(SKIPPED_EXIT)


from nextedit.cli.app import bench_app  # noqa: E402


@bench_app.command("eval")
def bench_eval_cmd(
    inputs: Annotated[list[str] | None, typer.Argument(help="Examples (default: examples/).")] = None,
    providers: Annotated[
        list[str] | None, typer.Option("--provider", "-p", help="Request providers to time (repeatable).")
    ] = None,
    repeat: Annotated[int, typer.Option(help="Timed calls per example and provider.")] = 20,
) -> None:
    """Latency of request providers (p50/p95 ms per `predict`, request already built) and
    of scoring (ms per prediction), on the given examples."""
    from rich.console import Console
    from rich.table import Table

    from nextedit.bench.eval import bench_eval
    from nextedit.io.inputs import read_examples

    checks.existing_inputs(inputs or ["examples"])
    examples = list(read_examples(inputs or ["examples"]))
    if not examples:
        raise typer.BadParameter("no examples in the inputs", param_hint="INPUTS")
    specs = providers or ["none", "heuristic"]
    rows = bench_eval(examples, [(spec, _provider(spec)) for spec in specs], repeat=repeat)
    table = Table(title=f"nextedit bench eval — {len(examples)} examples × {repeat}")
    for col in ("what", "n", "p50 ms", "p95 ms", "max ms"):
        table.add_column(col, justify="left" if col == "what" else "right")
    for r in rows:
        table.add_row(r.what, str(r.n), f"{r.p50_ms:.3f}", f"{r.p95_ms:.3f}", f"{r.max_ms:.3f}")
    Console().print(table)
