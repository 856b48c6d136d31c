"""`nextedit pull` (production examples from the telemetry store, §3.12) and `nextedit telemetry
purge` (retention, ``[privacy] retention_days``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nextedit.cli import checks
from nextedit.cli.app import app
from nextedit.cli.options import Inputs, NoResume, Output, RunOptions, run_and_report, run_stage_command

telemetry_app = typer.Typer(help="The server's telemetry store.", no_args_is_help=True)
app.add_typer(telemetry_app, name="telemetry")


@app.command("pull")
def pull(
    store: Annotated[str, typer.Argument(help="Store URL: sqlite:///path.db or postgresql://...")],
    kind: Annotated[str, typer.Option("--kind", help="settled | accepted | rejected | captured.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Examples JSONL (resumable).")],
    since: Annotated[
        str | None, typer.Option("--since", help="Only reports after this time (unix seconds or ISO 8601).")
    ] = None,
    no_resume: NoResume = False,
) -> None:
    """Examples from what users did with the server's predictions; only rows whose client allowed
    data collection are exported."""
    from nextedit.data.pull import PULL_KINDS, StoreReader, parse_since
    from nextedit.pipeline import ExampleWriter

    if kind not in PULL_KINDS:
        raise typer.BadParameter(f"must be one of {', '.join(PULL_KINDS)}", param_hint="--kind")
    try:
        t = parse_since(since)
    except ValueError as e:
        raise typer.BadParameter(str(e).removeprefix("--since: "), param_hint="--since") from None
    checks.writable_output(output, "--output")
    reader = StoreReader(store, kind, since=t)  # type: ignore[arg-type]
    try:
        reader.check()
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="STORE_URL") from None
    run_and_report([reader, ExampleWriter(output)], RunOptions(str(output), no_resume=no_resume))


@telemetry_app.command("purge")
def purge(
    store: Annotated[str, typer.Option("--store", help="Store URL: sqlite:///path.db or postgresql://...")],
    older_than: Annotated[float, typer.Option("--older-than", help="Delete rows older than DAYS days.")],
) -> None:
    """Delete requests and outcome reports older than ``--older-than`` days."""
    from nextedit.server.telemetry.retention import purge as purge_rows

    if not older_than > 0:
        raise typer.BadParameter("must be a number of days > 0", param_hint="--older-than")
    try:
        n = purge_rows(store, older_than)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--store") from None
    typer.echo(f"deleted {n['requests']} requests and {n['outcome_events']} outcome events")


@app.command("filter-settled")
def filter_settled_cmd(
    inputs: Inputs,
    output: Output = None,
    provider: Annotated[
        str, typer.Option("--provider", "-p", help=f"The student: {checks.provider_choices()}")
    ] = "heuristic",
    samples: Annotated[int, typer.Option("--samples", "-n", min=1, help="Student samples per example.")] = 8,
    band: Annotated[
        str, typer.Option("--band", help="Quantiles LOW,HIGH of the distance distribution to keep.")
    ] = "0.25,0.75",
    no_resume: NoResume = False,
) -> None:
    """Keep settled examples whose student distance to the settled state lies in the middle band (§3.8)."""
    from nextedit.cli.eval_cmds import _provider
    from nextedit.data.filter_settled import FilterSettled

    try:
        low, high = (float(x) for x in band.split(","))
    except ValueError:
        raise typer.BadParameter("give two quantiles, e.g. 0.25,0.75", param_hint="--band") from None
    if not 0 <= low <= high <= 1:
        raise typer.BadParameter("quantiles must satisfy 0 <= LOW <= HIGH <= 1", param_hint="--band")
    run_stage_command(
        lambda: FilterSettled(_provider(provider), samples=samples, band=(low, high)),
        inputs,
        RunOptions(output, no_resume=no_resume),
    )
