"""Commands: `nextedit bench latency` (the model's prediction path)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from nextedit.cli.app import bench_app


@bench_app.command("latency")
def bench_latency_cmd(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(help="Held-out examples (default: data/default/test.jsonl, else examples/)."),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Model directory (default: the shipped models/nextedit-tiny).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Number of examples.")] = 50,
    prompt_format: Annotated[str, typer.Option("--format", help="Prompt format.")] = "zeta2_1",
    busy: Annotated[bool, typer.Option(help="Also run with a busy process on the other core.")] = False,
    threads: Annotated[int, typer.Option(help="Torch threads.")] = 1,
    decode: Annotated[
        str | None, typer.Option(help="block | cursor_line (default: the model's serving.json).")
    ] = None,
    json_out: Annotated[str | None, typer.Option("--json", help="Write the figures as JSON here.")] = None,
) -> None:
    """p50/p95/p99 end-to-end latency, forward passes per token and tokens/s, with and without
    speculative decoding, cold and with a warm prefix cache, other core idle (and busy)."""
    from rich.console import Console
    from rich.table import Table

    from nextedit.bench.latency import bench_latency, default_inputs

    rows = bench_latency(
        model,
        inputs or default_inputs(),
        limit=limit,
        prompt_format=prompt_format,
        busy=busy,
        threads=threads,
        decode=decode,
    )
    table = Table(title="nextedit bench latency (ms; end to end: request → prompt → model → parse → edits)")
    cols = [
        "run",
        "n",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "passes_per_token",
        "long_passes_per_token",
        "copy_heavy_passes_per_token",
        "copy_heavy_tokens",
        "tokens_per_s",
        "draft_acceptance",
        "prompt_p50_ms",
        "model_p50_ms",
        "parse_p50_ms",
        "unparseable",
    ]
    for c in cols:
        table.add_column(c.replace("_", " "), justify="right" if c != "run" else "left")
    for r in rows:
        table.add_row(
            *[f"{r.get(c, 0):.2f}" if isinstance(r.get(c), float) else str(r.get(c, "")) for c in cols]
        )
    console = Console(width=max(160, Console().width))
    console.print(table)
    if rows[0]["decode"] == "cursor_line":
        console.print(
            "cursor_line decoding is greedy (line completions are new code that prompt lookup rarely "
            "drafts), so its spec rows repeat the greedy ones; --decode block shows speculative decoding."
        )
    if json_out:
        with open(json_out, "w") as f:
            json.dump(rows, f, indent=2)


@bench_app.command("gate")
def bench_gate_cmd(
    inputs: Annotated[list[str], typer.Argument(help="Held-out examples (the validation split, not test).")],
    model: Annotated[
        str | None, typer.Option(help="Model directory (default: the shipped models/nextedit-tiny).")
    ] = None,
    predictions: Annotated[
        str,
        typer.Option(
            "--predictions",
            "-p",
            help="Ungated predictions JSONL (written, resumable; reused when complete).",
        ),
    ] = "gate-predictions.jsonl",
    prompt_format: Annotated[str, typer.Option("--format", help="Prompt format.")] = "zeta2_1",
    limit: Annotated[int | None, typer.Option(help="Use the first N examples.")] = None,
    write: Annotated[
        bool, typer.Option("--write", help="Store the best gate in the model's serving.json.")
    ] = False,
) -> None:
    """Calibrate the confidence gate: predict without a gate, then print delta chrF / kept rate /
    reversal for a range of thresholds on min and mean token log-probability."""
    from dataclasses import replace

    from rich.console import Console
    from rich.table import Table

    from nextedit.io.inputs import read_examples
    from nextedit.model.engine import DEFAULT_MODEL_DIR
    from nextedit.model.serving import ServingConfig
    from nextedit.pipeline.executor import run_stage
    from nextedit.predict.local import LocalProvider
    from nextedit.predict.stage import PredictStage
    from nextedit.training.gate_calibration import calibrate, gate_samples

    model_dir = model or str(DEFAULT_MODEL_DIR)
    provider = LocalProvider(model_dir, prompt_format, gate=False)
    run_stage(PredictStage(provider), inputs, predictions, limit=limit)
    samples = gate_samples(read_examples([predictions]))
    rows, best = calibrate(samples)
    table = Table(title=f"confidence gate on {len(samples)} examples ({model_dir})")
    for c in ("measure", "threshold", "shown", "delta chrF", "kept rate", "reversal", "exact-lines F1"):
        table.add_column(c, justify="left" if c == "measure" else "right")
    for r in rows:
        mark = " ←" if best and r["measure"] == best.measure and r["threshold"] == best.threshold else ""
        table.add_row(
            r["measure"] + mark,
            "-" if r["threshold"] is None else f"{r['threshold']:.3f}",
            f"{100 * r['shown']:.1f}%",
            f"{r['delta_chrf']:.2f}",
            f"{100 * r['kept_rate']:.1f}%",
            f"{100 * r['reversal']:.2f}%",
            f"{r['f1']:.3f}",
        )
    Console(width=max(120, Console().width)).print(table)
    if best is None:
        typer.echo("no threshold beats the ungated model")
    if write:
        path = replace(ServingConfig.load(model_dir), gate=best).save(model_dir)
        typer.echo(f"wrote {path}")
