"""`nextedit compare A.jsonl B.jsonl`: paired differences of two scored eval runs (``eval -o``), with
bootstrap intervals, overall, per kind of edit and per language (:mod:`nextedit.metrics.compare`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from nextedit.cli import checks
from nextedit.cli.app import app


def _cell(value: float | None, k: float) -> str:
    return "-" if value is None else f"{value * k:.2f}"


@app.command("compare")
def compare_cmd(
    a: Annotated[str, typer.Argument(help="Scored examples of run A (eval -o / score output).")],
    b: Annotated[str, typer.Argument(help="Scored examples of run B, same examples.")],
    plot: Annotated[str | None, typer.Option("--plot", help="Write a PNG of the differences here.")] = None,
    summary_json: Annotated[
        str | None, typer.Option("--summary-json", help="Write every row (JSON) here.")
    ] = None,
    bootstrap: Annotated[int, typer.Option("--bootstrap", min=0, help="Bootstrap resamples.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
) -> None:
    """B − A per prediction paired by example: delta chrF, kept rate (%) and shown (%), with 95%
    bootstrap intervals over examples; an interval excluding 0 is marked *."""
    from rich.console import Console

    from nextedit.cli.render import table
    from nextedit.io.inputs import InputError, read_examples
    from nextedit.metrics.compare import compare_runs, scale, write_plot

    checks.existing_inputs([a, b])
    checks.writable_output(plot, "--plot")
    checks.writable_output(summary_json, "--summary-json")
    try:
        runs = [list(read_examples([path])) for path in (a, b)]
    except InputError as e:
        raise typer.BadParameter(str(e), param_hint="A/B") from e
    if not any(ex.score for ex in runs[0]) or not any(ex.score for ex in runs[1]):
        raise typer.BadParameter("both files must hold scored examples (write them with `nextedit eval -o`)")
    result = compare_runs(runs[0], runs[1], resamples=bootstrap, seed=seed)
    rows = []
    for r in result.rows:
        k = scale(r.figure)
        d = r.diff
        ci = "-" if d.lo is None else f"[{d.lo * k:.2f}, {d.hi * k:.2f}]"
        mark = "*" if d.excludes_zero() else ""
        rows.append([r.group, r.figure, str(d.n), _cell(r.a, k), _cell(r.b, k), _cell(d.mean, k) + mark, ci])
    out = Console(width=None if sys.stdout.isatty() else 160)
    title = f"nextedit compare — B − A, {result.pairs} paired predictions, 95% bootstrap ({bootstrap}, seed {seed})"
    out.print(table(title, ["group", "figure", "examples", "A", "B", "B − A", "95% interval"], rows))
    out.print(f"A = {a}\nB = {b}", highlight=False)
    for what, names in (("only in A", result.only_in_a), ("only in B", result.only_in_b)):
        if names:
            out.print(
                f"[yellow]{what}[/]: {len(names)} ({', '.join(names[:5])}{' …' if len(names) > 5 else ''})"
            )
    if result.excluded:
        out.print(f"[yellow]left out[/] (excluded or unscored on a side): {len(result.excluded)}")
    if summary_json:
        Path(summary_json).parent.mkdir(parents=True, exist_ok=True)
        Path(summary_json).write_text(json.dumps({"a": a, "b": b, **result.to_dict()}, indent=1) + "\n")
    if plot:
        try:
            out.print(f"plot written to {write_plot(result, plot, labels=(Path(a).stem, Path(b).stem))}")
        except ImportError as e:
            raise typer.BadParameter(f"matplotlib is not installed ({e})", param_hint="--plot") from e
