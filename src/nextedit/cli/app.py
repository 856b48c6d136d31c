"""The typer application and its sub-groups. Command modules import these and register on them."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="nextedit",
    help="Next-edit prediction: data pipeline, offline evaluation, model training and a Zed-compatible server.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
ingest_app = typer.Typer(help="Turn git history or PyPI release diffs into examples.", no_args_is_help=True)
dataset_app = typer.Typer(help="Build train/valid/test datasets.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks that print figures.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(dataset_app, name="dataset")
app.add_typer(bench_app, name="bench")
