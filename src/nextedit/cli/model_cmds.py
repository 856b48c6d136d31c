"""Commands of the model area: tokenizer training, model training, export, synthetic SFT data.

Heavy imports (torch, transformers) happen inside the commands.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from nextedit.cli import checks
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
from nextedit.prompts.registry import DEFAULT_FORMAT


@app.command("train-tokenizer")
def train_tokenizer_cmd(
    corpus: Annotated[
        list[str], typer.Argument(help="Corpus .jsonl (lines with 'text') or directories of .py files.")
    ],
    out: Annotated[str, typer.Option("--out", "-o", help="Directory for the HF tokenizer files.")],
    vocab_size: Annotated[
        int, typer.Option("--vocab-size", help="Total vocabulary incl. marker tokens.")
    ] = 6144,
    max_bytes: Annotated[
        int, typer.Option("--max-bytes", help="Train on at most this many bytes.")
    ] = 50_000_000,
) -> None:
    """Train the byte-level BPE tokenizer (every prompt-format marker is one token)."""
    from nextedit.model.tokenizer import describe, iter_corpus_texts, train_tokenizer

    tok = train_tokenizer(iter_corpus_texts(corpus, max_bytes=max_bytes), vocab_size)
    tok.save_pretrained(out)
    typer.echo(json.dumps({"out": out, **describe(tok)}))


@app.command("cursor-line-pairs")
def cursor_line_pairs_cmd(
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
    """SFT pairs for cursor-line decoding from zeta2_1 SFT examples (format-prompt output): prompt +
    answer prefix → rest of the cursor line."""
    from nextedit.training.cursor_line_pairs import CursorLinePairsStage

    run_stage_command(
        CursorLinePairsStage(),
        inputs,
        RunOptions(output, in_place, limit, offset, name, no_resume, failfast, failed, executor, max_parallelism),
    )


@app.command("train")
def train_cmd(
    recipe: Annotated[
        str, typer.Option("--recipe", "-r", help="Recipe TOML (see recipes/).")
    ] = "recipes/tiny.toml",
    out: Annotated[
        str | None, typer.Option("--out", "-o", help="Checkpoint directory (default: recipe's `out`).")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from the latest checkpoint in --out.")
    ] = False,
    max_steps: Annotated[
        int | None, typer.Option("--max-steps", help="Stop after this global step (schedule unchanged).")
    ] = None,
) -> None:
    """Train (or continue training) a model from a recipe; logs to <out>/train_log.jsonl."""
    from nextedit.training.recipe import load_recipe
    from nextedit.training.train import train

    checks.existing_inputs([recipe], "--recipe")
    try:
        r = load_recipe(recipe)
    except (OSError, ValueError) as e:
        raise typer.BadParameter(str(e), param_hint="--recipe") from e
    checks.existing_inputs(checks.recipe_inputs(r, out), f"--recipe {recipe}")
    checks.writable_directory(out or r.out, "--out")
    summary = train(r, out=out, resume=resume, max_steps=max_steps, progress=RichTrainProgress())
    typer.echo(json.dumps(summary, default=str))


class RichTrainProgress:
    """``nextedit train``'s rendering of :class:`nextedit.training.progress.TrainProgress`: on a
    terminal a bar (phase, step/total, loss, tokens/s, time left) on stderr; elsewhere each step
    record as one JSON line on stdout. Messages are yellow lines on stderr."""

    def __init__(self) -> None:
        import sys

        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.console = Console(stderr=True, highlight=False)
        self.bar = Progress(
            TextColumn("[bold]{task.fields[phase]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[tps]} tok/s"),
            TimeRemainingColumn(),
            console=self.console,
            disable=not sys.stderr.isatty(),
        )
        self.task = None

    def start(self, total_steps: int, start_step: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task(
            "train", total=total_steps, completed=start_step, phase="", loss="-", tps="-"
        )

    def logged(self, record: dict) -> None:
        if self.bar.disable:
            typer.echo(json.dumps(record))
            return
        self.bar.update(
            self.task,
            completed=record["step"],
            phase=record["phase"],
            loss=f"{record['loss']:.3f}",
            tps=f"{record['tokens_per_s']:.0f}",
        )

    def message(self, text: str) -> None:
        from rich.markup import escape

        self.console.print(f"[yellow]{escape(text)}[/]", soft_wrap=True)

    def finish(self) -> None:
        self.bar.stop()


@app.command("export-model")
def export_model_cmd(
    checkpoint: Annotated[
        str, typer.Argument(help="A checkpoint dir, a run dir (uses its `best`) or its best/latest file.")
    ],
    dest: Annotated[
        str, typer.Argument(help="Destination directory (weights, config, tokenizer, serving.json).")
    ],
    base: Annotated[str | None, typer.Option("--base", help="Base checkpoint for LoRA adapters.")] = None,
    serving: Annotated[
        str | None,
        typer.Option(
            "--serving", help="serving.json to ship (a file or a model dir; default: the checkpoint's own)."
        ),
    ] = None,
    default_serving: Annotated[
        bool,
        typer.Option(
            "--default-serving", help="Export without a serving.json: serve with the engine defaults."
        ),
    ] = False,
) -> None:
    """Copy what a model needs to serve as it was measured: weights, tokenizer, configs and
    serving.json (no optimizer state). Refuses when no serving.json is found, unless told."""
    from pathlib import Path

    from nextedit.training.train import ExportError, export_model, latest_checkpoint

    path = Path(checkpoint)
    checks.existing_inputs([checkpoint], "CHECKPOINT")
    checks.writable_directory(dest, "DEST")
    if path.is_file():  # a run's `best` / `latest` marker file naming a checkpoint
        path = path.parent / path.read_text().strip()
    if not (path / "config.json").exists() and not (path / "adapter_config.json").exists():
        best = path / "best"
        path = path / best.read_text().strip() if best.exists() else latest_checkpoint(path)
        if path is None:
            raise typer.BadParameter(f"{checkpoint} has no checkpoint", param_hint="CHECKPOINT")
    try:
        out, serving_src = export_model(
            path, dest, base=base, serving=serving, default_serving=default_serving
        )
    except ExportError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2) from e
    files = ", ".join(sorted(f.name for f in out.iterdir() if f.is_file()))
    source = f"serving.json from {serving_src}" if serving_src else "no serving.json (engine defaults)"
    typer.echo(f"exported {path} -> {out}: {files}; {source}")
    if serving_src is None:
        typer.secho(
            "warning: no serving.json: context window, decode mode and confidence gate are the engine "
            "defaults, which is not how the shipped models are measured",
            fg="yellow",
            err=True,
        )


@app.command("synthesize-edits")
def synthesize_edits_cmd(
    sources: Annotated[list[str], typer.Argument(help="Corpus .jsonl or directories of .py files.")],
    output: Annotated[str, typer.Option("--output", "-o", help="Output JSONL of formatted SFT examples.")],
    n: Annotated[int, typer.Option("--n", help="Number of examples.")] = 1000,
    kinds: Annotated[
        str, typer.Option("--kinds", help="Comma list: copy,complete,rename,insert_arg,noedit.")
    ] = "",
    max_lines: Annotated[int, typer.Option("--max-lines", help="Snippet size limit (lines).")] = 40,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    format_name: Annotated[
        str, typer.Option("--format", help="Prompt format of the edit kinds.")
    ] = DEFAULT_FORMAT,
) -> None:
    """Synthetic next-edit SFT examples (prompt.input / prompt.expected_output) from plain code."""
    from rich.progress import track

    from nextedit.io.jsonl import JsonlWriter
    from nextedit.training.synthetic import synthetic_examples

    gen = synthetic_examples(
        sources,
        n=n,
        kinds=[k for k in kinds.split(",") if k] or None,
        max_lines=max_lines,
        seed=seed,
        format_name=format_name,
    )
    w = JsonlWriter(output)
    for ex in track(gen, total=n, description="synthesize", transient=True):
        w.write(ex)
    w.close()
    typer.echo(json.dumps({"output": output, "examples": w.count}))
