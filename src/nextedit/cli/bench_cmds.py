"""Commands: `nextedit bench latency` (the model's prediction path)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from nextedit.cli.app import bench_app


@bench_app.command("latency")
def bench_latency_cmd(
    inputs: Annotated[list[str] | None, typer.Argument(help="Held-out examples (default: data/default/test.jsonl, else examples/).")] = None,
    model: Annotated[str | None, typer.Option(help="Model directory (default: the shipped models/nextedit-tiny).")] = None,
    limit: Annotated[int, typer.Option(help="Number of examples.")] = 50,
    prompt_format: Annotated[str, typer.Option("--format", help="Prompt format.")] = "zeta2_1",
    busy: Annotated[bool, typer.Option(help="Also run with a busy process on the other core.")] = False,
    threads: Annotated[int, typer.Option(help="Torch threads.")] = 1,
    json_out: Annotated[str | None, typer.Option("--json", help="Write the figures as JSON here.")] = None,
) -> None:
    """p50/p95/p99 end-to-end latency, forward passes per token and tokens/s, with and without
    speculative decoding, cold and with a warm prefix cache, other core idle (and busy)."""
    from rich.console import Console
    from rich.table import Table

    from nextedit.model.bench_latency import bench_latency, default_inputs

    rows = bench_latency(model, inputs or default_inputs(), limit=limit, prompt_format=prompt_format, busy=busy, threads=threads)
    table = Table(title="nextedit bench latency (ms; end to end: request → prompt → model → parse → edits)")
    cols = ["run", "n", "p50_ms", "p95_ms", "p99_ms", "passes_per_token", "copy_heavy_passes_per_token",
            "tokens_per_s", "draft_acceptance", "prompt_p50_ms", "model_p50_ms", "parse_p50_ms", "unparseable"]
    for c in cols:
        table.add_column(c.replace("_", " "), justify="right" if c != "run" else "left")
    for r in rows:
        table.add_row(*[f"{r.get(c, 0):.2f}" if isinstance(r.get(c), float) else str(r.get(c, "")) for c in cols])
    Console(width=max(160, Console().width)).print(table)
    if json_out:
        with open(json_out, "w") as f:
            json.dump(rows, f, indent=2)
