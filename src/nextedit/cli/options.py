"""Options shared by every pipeline-stage command (JSONL in → JSONL out)."""

from __future__ import annotations

from typing import Annotated

import typer

Inputs = Annotated[
    list[str], typer.Argument(help="Input .jsonl(.gz/.zst), .json, .md files, directories of them, or - for stdin.")
]
Output = Annotated[str | None, typer.Option("--output", "-o", help="Output JSONL (default: stdout).")]
InPlace = Annotated[bool, typer.Option("--in-place", "-i", help="Rewrite the single input file.")]
Limit = Annotated[int | None, typer.Option("--limit", help="Process at most N examples.")]
Offset = Annotated[int, typer.Option("--offset", help="Skip the first N examples.")]
NameFilter = Annotated[str | None, typer.Option("--name", help="Only examples whose name contains this.")]
NoResume = Annotated[bool, typer.Option("--no-resume", help="Redo everything even if the output exists.")]
Failfast = Annotated[bool, typer.Option("--failfast", help="Stop at the first unreadable input.")]


def stage_kwargs(
    output: str | None, in_place: bool, limit: int | None, offset: int, name: str | None, no_resume: bool, failfast: bool
) -> dict:
    """Map the shared options onto :func:`nextedit.pipeline.run_stage` keyword arguments."""
    return dict(
        output=output, in_place=in_place, limit=limit, offset=offset, name=name, resume=not no_resume, failfast=failfast
    )
