"""Commands: ``nextedit bench latency | gate | context | text | ab | llm | dashboard | teacher`` (``bench serve`` lives with serve).

Each checks its inputs and outputs first, calls the measuring code in :mod:`nextedit.bench` (or
:mod:`nextedit.training.gate_calibration`), which returns rows of figures, and renders them here.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from nextedit.cli import checks
from nextedit.cli.app import bench_app
from nextedit.cli.figures import print_figures, write_json
from nextedit.prompts.registry import DEFAULT_FORMAT

ModelDir = Annotated[
    str | None,
    typer.Option("--model", help="Model directory (default: $NEXTEDIT_MODEL_DIR or the shipped nextedit-tiny)."),
]
PromptFormatOpt = Annotated[str, typer.Option("--format", help=f"Prompt format (default {DEFAULT_FORMAT}).")]

LATENCY_COLUMNS = (
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
)


def check_format(name: str, param: str = "--format") -> None:
    from nextedit.prompts.registry import get_format

    try:
        get_format(name)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint=param) from None


@bench_app.command("latency")
def bench_latency_cmd(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(help="Held-out examples (default: data/default/test.jsonl, else examples/)."),
    ] = None,
    model: ModelDir = None,
    limit: Annotated[int, typer.Option(help="Number of examples.")] = 50,
    prompt_format: PromptFormatOpt = DEFAULT_FORMAT,
    busy: Annotated[bool, typer.Option(help="Also run with a busy process on the other core.")] = False,
    threads: Annotated[int, typer.Option(help="Torch threads.")] = 1,
    decode: Annotated[
        str | None, typer.Option(help="block | cursor_line (default: the model's serving.json).")
    ] = None,
    json_out: Annotated[str | None, typer.Option("--json", help="Write the figures as JSON here.")] = None,
) -> None:
    """p50/p95/p99 end-to-end latency, forward passes per token and tokens/s, with and without
    speculative decoding, cold and with a warm prefix cache, other core idle (and busy)."""
    from nextedit.bench.latency import bench_latency, default_inputs

    inputs = inputs or default_inputs()
    checks.existing_inputs(inputs)
    model_dir = checks.model_directory(model)
    check_format(prompt_format)
    if decode not in (None, "block", "cursor_line"):
        raise typer.BadParameter(f"{decode!r}: expected block or cursor_line", param_hint="--decode")
    checks.writable_output(json_out, "--json")
    rows = bench_latency(
        str(model_dir),
        inputs,
        limit=limit,
        prompt_format=prompt_format,
        busy=busy,
        threads=threads,
        decode=decode,
    )
    print_figures(
        "nextedit bench latency (ms; end to end: request → prompt → model → parse → edits)",
        rows,
        LATENCY_COLUMNS,
        width=160,
    )
    if rows and rows[0]["decode"] == "cursor_line":
        typer.echo(
            "cursor_line decoding is greedy (line completions are new code that prompt lookup rarely "
            "drafts), so its spec rows repeat the greedy ones; --decode block shows speculative decoding."
        )
    write_json(json_out, rows)


@bench_app.command("gate")
def bench_gate_cmd(
    inputs: Annotated[list[str], typer.Argument(help="Held-out examples (the validation split, not test).")],
    model: ModelDir = None,
    predictions: Annotated[
        str,
        typer.Option(
            "--predictions",
            "-p",
            help="Ungated predictions JSONL (written, resumable; reused when complete).",
        ),
    ] = "gate-predictions.jsonl",
    prompt_format: PromptFormatOpt = DEFAULT_FORMAT,
    limit: Annotated[int | None, typer.Option(help="Use the first N examples.")] = None,
    write: Annotated[
        bool, typer.Option("--write", help="Store the best gate in the model's serving.json.")
    ] = False,
) -> None:
    """Calibrate the confidence gate: predict without a gate, then print delta chrF / kept rate /
    reversal for a range of thresholds on min and mean token log-probability."""
    from dataclasses import replace

    from nextedit.cli.progress import RichProgress
    from nextedit.io.inputs import read_examples
    from nextedit.model.serving import SERVING_FILE, ServingConfig
    from nextedit.pipeline import run_stage
    from nextedit.predict.local import LocalModel
    from nextedit.predict.model_provider import ModelProvider
    from nextedit.predict.stage import PredictStage
    from nextedit.training.gate_calibration import calibrate, gate_samples

    checks.existing_inputs(inputs)
    model_dir = checks.model_directory(model)
    check_format(prompt_format)
    checks.writable_output(predictions, "--predictions")
    if write:
        checks.writable_output(model_dir / SERVING_FILE, "--write")
    provider = ModelProvider(LocalModel(model_dir, prompt_format, gate=False))
    run_stage(PredictStage(provider), inputs, predictions, limit=limit, progress=RichProgress())
    samples = gate_samples(read_examples([predictions]))
    rows, best = calibrate(samples)
    shown = [
        {
            "measure": r["measure"]
            + (" ←" if best and (r["measure"], r["threshold"]) == (best.measure, best.threshold) else ""),
            "threshold": "-" if r["threshold"] is None else f"{r['threshold']:.3f}",
            "shown": f"{100 * r['shown']:.1f}%",
            "delta chrF": f"{r['delta_chrf']:.2f}",
            "kept rate": f"{100 * r['kept_rate']:.1f}%",
            "reversal": f"{100 * r['reversal']:.2f}%",
            "exact-lines F1": f"{r['f1']:.3f}",
        }
        for r in rows
    ]
    columns = ("measure", "threshold", "shown", "delta chrF", "kept rate", "reversal", "exact-lines F1")
    print_figures(f"confidence gate on {len(samples)} examples ({model_dir})", shown, columns)
    if best is None:
        typer.echo("no threshold beats the ungated model")
    if write:
        path = replace(ServingConfig.load(model_dir), gate=best).save(model_dir)
        typer.echo(f"wrote {path}")


class ContextMode(StrEnum):
    lsp = "lsp"
    bm25 = "bm25"
    all = "all"
    none = "none"


@bench_app.command("context")
def bench_context_cmd(
    tree: Annotated[str, typer.Argument(help="A source tree to index (e.g. a checkout).")],
    requests: Annotated[int, typer.Option(help="build_request calls at random cursors.")] = 200,
    context: Annotated[ContextMode, typer.Option(help="Context kind of the requests.")] = ContextMode.lsp,
    workers: Annotated[int, typer.Option(help="Processes for the index build.")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed of the cursors.")] = 0,
    json_out: Annotated[
        str | None, typer.Option("--json", help="Also write the figures as JSON here.")
    ] = None,
) -> None:
    """Symbol-index build time of a tree and build_request latency (p50/p90/max ms) with a warm index."""
    from nextedit.bench.context import bench_context

    if not Path(tree).is_dir():
        raise typer.BadParameter(f"{tree}: not a directory", param_hint="TREE")
    checks.writable_output(json_out, "--json")
    figures = bench_context(tree, requests=requests, context=context.value, seed=seed, workers=workers)
    print_figures(f"nextedit bench context: {tree}", [figures], tuple(figures))
    write_json(json_out, figures)


@bench_app.command("text")
def bench_text_cmd(
    lines: Annotated[int, typer.Option(help="Lines of the synthetic file.")] = 2000,
    repeat: Annotated[int, typer.Option(help="Timed calls per utility.")] = 5,
) -> None:
    """Mean ms per call of line_diff, unified_diff, granular_edits and apply_patch on a synthetic file."""
    from nextedit.bench.text import bench_text

    figures = bench_text(lines, repeat)
    print_figures("nextedit bench text (ms per call)", [figures], tuple(figures))


@bench_app.command("ab")
def bench_ab_cmd(
    users: Annotated[list[int] | None, typer.Option(help="Users per arm (repeatable).")] = None,
    lift: Annotated[
        list[float] | None, typer.Option(help="Relative acceptance lifts (repeatable; 0 = A/A).")
    ] = None,
    sims: Annotated[int, typer.Option(help="Simulated experiments per row.")] = 400,
    looks: Annotated[int, typer.Option(help="Looks of the sequential tests.")] = 10,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    json_out: Annotated[
        str | None, typer.Option("--json", help="Also write the figures as JSON here.")
    ] = None,
) -> None:
    """Power of `nextedit ab report` by simulation: share of experiments that find each lift of the
    acceptance rate (fixed horizon with/without CUPED, mSPRT and alpha spending over the looks)."""
    from nextedit.bench.ab import bench_ab

    checks.writable_output(json_out, "--json")
    rows = bench_ab(
        users=users or (2000, 10000),
        lifts=lift or (0.0, 0.02, 0.05, 0.10),
        sims=sims,
        looks=looks,
        seed=seed,
    )
    columns = tuple(rows[0]) if rows else ()
    print_figures(
        f"nextedit bench ab (power at α = 0.05, {sims} simulations per row, {looks} looks)", rows, columns
    )
    write_json(json_out, rows)


@bench_app.command("llm")
def bench_llm_cmd(
    requests: Annotated[int, typer.Option(help="Requests per measurement.")] = 200,
    json_out: Annotated[
        str | None, typer.Option("--json", help="Also write the figures as JSON here.")
    ] = None,
) -> None:
    """The LLM client layer against a loopback replay server: ms per request (raw HTTP, the SDK, the
    client), its overhead, cache hits per second and requests/s at max_parallelism 1, 4 and 16."""
    from nextedit.bench.llm import bench_llm

    if requests < 1:
        raise typer.BadParameter(f"{requests}: expected at least 1", param_hint="--requests")
    checks.writable_output(json_out, "--json")
    figures = bench_llm(requests)
    print_figures(
        "nextedit bench llm (loopback replay server, openai-compatible backend)", [figures], tuple(figures)
    )
    write_json(json_out, figures)


@bench_app.command("durability")
def bench_durability_cmd(
    kills: Annotated[int, typer.Option(help="kill -9 rounds per store (plus one SIGTERM round).")] = 3,
    threads: Annotated[int, typer.Option(help="Client threads of the load.")] = 8,
    load_s: Annotated[float, typer.Option("--load-s", help="Seconds of load before each kill.")] = 3.0,
    postgres: Annotated[
        str | None,
        typer.Option(
            help="PostgreSQL server URL to also run against (a fresh database per round; "
            "default $NEXTEDIT_TEST_POSTGRES_URL, else SQLite only)."
        ),
    ] = None,
    server_pythonpath: Annotated[
        str | None, typer.Option(help="Run the server from this source tree (PYTHONPATH), to compare.")
    ] = None,
    json_out: Annotated[
        str | None, typer.Option("--json", help="Also write the figures as JSON here.")
    ] = None,
) -> None:
    """Acknowledged telemetry lost when the server is killed under load: outcome rows (target 0),
    prediction rows and how far back their loss reaches, and the reporting endpoints' p50/p95."""
    import os

    from nextedit.bench.durability import DurabilityBenchError, bench_durability

    if kills < 0 or threads < 1 or load_s <= 0:
        raise typer.BadParameter("--kills ≥ 0, --threads ≥ 1 and --load-s > 0 are required")
    checks.writable_output(json_out, "--json")
    try:
        rows = bench_durability(
            postgres_url=postgres or os.environ.get("NEXTEDIT_TEST_POSTGRES_URL"),
            kills=kills,
            threads=threads,
            load_s=load_s,
            pythonpath=server_pythonpath,
            log=lambda m: typer.echo(m, err=True),
        )
    except DurabilityBenchError as e:
        raise typer.BadParameter(str(e)) from None
    print_figures("nextedit bench durability", rows, tuple(rows[0]) if rows else ())
    write_json(json_out, rows)


@bench_app.command("dashboard")
def bench_dashboard_cmd(
    store: Annotated[Path, typer.Option(help="SQLite file to create and fill (must not exist).")] = Path(
        "bench-dashboard.db"
    ),
    requests: Annotated[int, typer.Option(help="Request rows to write.")] = 1_000_000,
    events: Annotated[int, typer.Option(help="Outcome events to write.")] = 1_000_000,
    repeat: Annotated[int, typer.Option(help="Runs per panel (the median is shown).")] = 3,
    json_out: Annotated[
        str | None, typer.Option("--json", help="Also write the figures as JSON here.")
    ] = None,
) -> None:
    """Fill a SQLite store with a realistic mix of requests and outcome events (bulk inserts) and
    time every dashboard panel's query (target ≤ 500 ms each, first render ≤ 1 s)."""
    from nextedit.bench.dashboard import bench_dashboard

    if store.exists():
        raise typer.BadParameter(f"{store}: already exists; give a new file", param_hint="--store")
    if requests < 1 or events < 0:
        raise typer.BadParameter("need at least 1 request and 0 or more events", param_hint="--requests")
    checks.writable_output(json_out, "--json")
    rows = bench_dashboard(store, n_requests=requests, n_events=events, repeat=repeat)
    print_figures(f"nextedit bench dashboard ({store}, ms, median of {repeat})", rows, ("panel", "ms", "target_ms"))
    write_json(json_out, rows)


@bench_app.command("teacher")
def bench_teacher_cmd(
    examples: Annotated[
        Path, typer.Option("--examples", help="Example files or a directory of them (default ./examples).")
    ] = Path("examples"),
    count: Annotated[
        int, typer.Option("--count", help="Examples per run (the set repeated, each copy distinct).")
    ] = 200,
    parallelism: Annotated[
        str, typer.Option("--parallelism", help="Comma-separated --max-parallelism values.")
    ] = "1,4,16",
    provider: Annotated[
        str, typer.Option(help="The local teacher's provider: heuristic or hybrid.")
    ] = "heuristic",
    json_out: Annotated[
        str | None, typer.Option("--json", help="Also write the figures as JSON here.")
    ] = None,
) -> None:
    """The teacher stage against `nextedit serve` as the local teacher (a child process on loopback):
    examples/s and requests/s at each --max-parallelism with a fresh cache, a rerun from the cache (0
    requests, cache hits/s) and the client layer's overhead per request."""
    from nextedit.bench.teacher import PROVIDERS, bench_teacher
    from nextedit.errors import NexteditError

    if not examples.exists():
        raise typer.BadParameter(f"{examples}: no such file or directory", param_hint="--examples")
    try:
        levels = tuple(int(p) for p in parallelism.split(","))
    except ValueError:
        levels = ()
    if not levels or min(levels) < 1:
        raise typer.BadParameter(
            f"{parallelism!r}: expected integers ≥ 1, e.g. 1,4,16", param_hint="--parallelism"
        )
    if provider not in PROVIDERS:
        raise typer.BadParameter(
            f"{provider!r}: expected one of {', '.join(PROVIDERS)}", param_hint="--provider"
        )
    if count < 1:
        raise typer.BadParameter(f"{count}: expected at least 1", param_hint="--count")
    checks.writable_output(json_out, "--json")
    try:
        bench = bench_teacher(
            examples,
            examples=count,
            parallelism=levels,
            provider=provider,
            log=lambda m: typer.echo(m, err=True),
        )
    except NexteditError as e:
        raise typer.BadParameter(str(e)) from None
    print_figures(
        f"nextedit bench teacher (local teacher: nextedit serve --provider {provider})",
        bench.rows,
        tuple(bench.rows[0]),
    )
    print_figures(
        "the client layer per request (ms, against the loopback replay server)",
        [bench.client_layer],
        tuple(bench.client_layer),
    )
    write_json(json_out, bench.to_dict())
