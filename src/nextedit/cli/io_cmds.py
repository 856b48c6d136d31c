"""`nextedit read`: normalise inputs (.md eval cases, JSONL, JSON, directories) to JSONL or to `.md` files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from nextedit.cli.app import app
from nextedit.cli.options import (
    SKIPPED_EXIT,
    Failfast,
    Inputs,
    Limit,
    NameFilter,
    NoResume,
    Offset,
    Output,
    RunOptions,
    run_stage_command,
)

Markdown = Annotated[
    str | None,
    typer.Option(
        "--markdown",
        help="Write one Zed eval case <name>.md per example into this directory instead of JSONL.",
    ),
]


def markdown_filename(name: str, index: int, taken: set[str]) -> str:
    """A safe, unique ``.md`` file name for an example (``example-<index>`` when it has no name)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or f"example-{index}"
    candidate, k = stem, 2
    while candidate.lower() in taken:
        candidate, k = f"{stem}-{k}", k + 1
    taken.add(candidate.lower())
    return candidate + ".md"


@app.command("read")
def read_cmd(
    inputs: Inputs,
    output: Output = None,
    markdown: Markdown = None,
    limit: Limit = None,
    offset: Offset = 0,
    name: NameFilter = None,
    no_resume: NoResume = False,
    failfast: Failfast = False,
) -> None:
    """Read examples from any inputs and write normalised JSONL (or `.md` eval cases with --markdown).

    Unreadable files and lines are reported with file and line and skipped (exit code 3);
    --failfast stops at the first one with exit code 1.
    """
    from rich.console import Console

    from nextedit.io.inputs import InputError, read_examples
    from nextedit.io.markdown import example_to_markdown

    console = Console(stderr=True)
    if markdown is None:
        opts = RunOptions(output, limit=limit, offset=offset, name=name, no_resume=no_resume, failfast=failfast)
        run_stage_command(None, inputs, opts)
        return

    if output:
        console.print("[red]error[/]: --markdown and --output are exclusive")
        raise typer.Exit(2)
    out_dir = Path(markdown)
    out_dir.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []

    def on_error(msg: str) -> None:
        if failfast:
            raise InputError(msg)
        errors.append(msg)
        console.print(f"[yellow]skipped[/]: {msg}")

    taken: set[str] = set()
    written = 0
    try:
        for i, ex in enumerate(read_examples(inputs, on_error=on_error)):
            if i < offset or (name and name not in ex.name):
                continue
            if limit is not None and written >= limit:
                break
            path = out_dir / markdown_filename(ex.name, i, taken)
            path.write_text(example_to_markdown(ex), encoding="utf-8")
            written += 1
    except InputError as e:
        console.print(f"[red]error[/]: {e}")
        raise typer.Exit(1) from None
    console.print(
        f"read: wrote {written} eval case(s) to {out_dir}/"
        + (f", {len(errors)} warning(s)" if errors else "")
    )
    if errors:
        raise typer.Exit(SKIPPED_EXIT)
