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
    Failfast,
    InPlace,
    Inputs,
    Limit,
    NameFilter,
    NoResume,
    Offset,
    Output,
    stage_kwargs,
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
        return get_provider(spec)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--provider") from e


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
) -> None:
    """Run a provider on every example; writes `predictions[]` (resumable with -o)."""
    from nextedit.pipeline import run_stage
    from nextedit.predict.stage import PredictStage

    stage = PredictStage(_provider(provider), repetitions=repetitions)
    run_stage(stage, inputs, **stage_kwargs(output, in_place, limit, offset, name, no_resume, failfast))


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
) -> None:
    """Score each prediction against the expected patches; writes `score[]` (parallel to predictions)."""
    from nextedit.metrics.score import ScoreStage
    from nextedit.pipeline import run_stage

    stage = ScoreStage(beta=beta, whitespace=whitespace.value)
    run_stage(stage, inputs, **stage_kwargs(output, in_place, limit, offset, name, no_resume, failfast))
    _print_errors(stage.errors)


def _print_errors(errors: list[str]) -> None:
    if not errors:
        return
    from rich.console import Console

    console = Console(stderr=True)
    for msg in errors[:20]:
        console.print(f"[yellow]warning[/]: {msg}", highlight=False)
    if len(errors) > 20:
        console.print(f"[yellow]warning[/]: … {len(errors) - 20} more", highlight=False)


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
    limit: Limit = None,
    offset: Offset = 0,
    name: NameFilter = None,
    failfast: Failfast = False,
) -> None:
    """Predict (optional), score and print the §5.6 report table and summary."""
    import os

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from nextedit.cli.render import print_eval_report
    from nextedit.io.inputs import InputError, read_examples
    from nextedit.io.jsonl import JsonlWriter
    from nextedit.metrics.report import build_report
    from nextedit.metrics.score import ScoreStage
    from nextedit.pipeline.executor import print_stats
    from nextedit.predict.stage import PredictStage

    checks.existing_inputs(inputs)
    if provider is not None:
        checks.provider_spec(provider)
    checks.writable_output(summary_json, "--summary-json")
    checks.writable_output(output, "--output")
    err = Console(stderr=True)
    read_errors: list[str] = []

    def on_error(msg: str) -> None:
        if failfast:
            raise InputError(msg)
        read_errors.append(msg)
        err.print(f"[yellow]skipped[/]: {msg}", highlight=False)

    try:
        examples = [ex for ex in read_examples(inputs, on_error=on_error) if not name or name in ex.name]
    except InputError as e:
        err.print(f"[red]error[/]: {e}", highlight=False)
        raise typer.Exit(1) from e
    examples = examples[offset:]
    if limit is not None:
        examples = examples[:limit]
    stages = []
    if provider is not None:
        stages.append(PredictStage(_provider(provider), repetitions=repetitions))
    scorer = ScoreStage(beta=beta, whitespace=whitespace.value)
    stages.append(scorer)

    show = sys.stderr.isatty() or os.environ.get("NEXTEDIT_PROGRESS") == "1"
    scored = []
    with Progress(
        TextColumn("[bold]eval[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, disable=not show
    ) as bar:
        task = bar.add_task("eval", total=len(examples))

        def counted():
            for ex in examples:
                yield ex
                bar.advance(task)

        stream = counted()
        for st in stages:
            stream = st.run(stream)
        scored = list(stream)
    for st in stages:
        st.close()
        print_stats(st, read_errors if st is stages[-1] else None)
    _print_errors(scorer.errors)

    if output:
        with JsonlWriter(output) as w:
            for ex in scored:
                w.write(ex)

    rows = []
    for ex in scored:
        for i, s in enumerate(ex.score):
            rows.append((ex.name if len(ex.score) == 1 else f"{ex.name}#{i}", s))
    if not rows:
        err.print("[yellow]nothing to report[/]: no example has predictions (pass --provider)")
    out = Console(width=None if sys.stdout.isatty() else 160)
    report = build_report(rows, verbose=verbose)
    print_eval_report(report, out)
    summary = report.summary
    if provider is not None:
        summary["provider"] = provider
    if summary_json:
        Path(summary_json).parent.mkdir(parents=True, exist_ok=True)
        Path(summary_json).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        err.print(f"summary written to {summary_json}")


from nextedit.cli.app import bench_app  # noqa: E402


@bench_app.command("eval")
def bench_eval_cmd(
    inputs: Annotated[list[str] | None, typer.Argument(help="Examples (default: examples/).")] = None,
    providers: Annotated[
        list[str] | None, typer.Option("--provider", "-p", help="Request providers to time (repeatable).")
    ] = None,
    repeat: Annotated[int, typer.Option(help="Timed calls per example and provider.")] = 20,
) -> None:
    """Latency of request providers (p50/p95 ms per `predict_request`, request already built) and
    of scoring (ms per prediction), on the given examples."""
    import time

    from rich.console import Console
    from rich.table import Table

    from nextedit.io.inputs import read_examples
    from nextedit.metrics.report import percentile
    from nextedit.metrics.score import score_example
    from nextedit.predict.request_from_example import request_from_example
    from nextedit.predict.stage import PredictStage

    examples = list(read_examples(inputs or ["examples"]))
    requests = [request_from_example(ex) for ex in examples]
    table = Table(title=f"nextedit bench eval — {len(examples)} examples × {repeat}")
    for col in ("what", "n", "p50 ms", "p95 ms", "max ms"):
        table.add_column(col, justify="left" if col == "what" else "right")

    def add(what: str, times: list[float]) -> None:
        ms = [1000 * t for t in times]
        table.add_row(what, str(len(ms)), f"{percentile(ms, 50):.3f}", f"{percentile(ms, 95):.3f}", f"{max(ms):.3f}")

    for spec in providers or ["none", "heuristic"]:
        prov = _provider(spec)
        if not hasattr(prov, "predict_request"):
            continue
        prov.predict_request(requests[0])  # warm-up (imports, caches)
        times = []
        for req in requests:
            for _ in range(repeat):
                t0 = time.perf_counter()
                prov.predict_request(req)
                times.append(time.perf_counter() - t0)
        add(f"predict_request ({spec})", times)
        scored = list(PredictStage(prov).run(ex.model_copy(deep=True) for ex in examples))
        times = []
        for ex in scored:
            t0 = time.perf_counter()
            score_example(ex)
            times.append((time.perf_counter() - t0) / max(1, len(ex.predictions)))
        add(f"score ({spec}), per prediction", times)
    Console().print(table)
