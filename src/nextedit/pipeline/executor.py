"""Local executor: read inputs → stage → write output, resumable, with a progress bar and stats.

Resume: if the output exists, its complete lines are kept; inputs whose ``spec_hash`` matches a
kept line that the stage calls complete are skipped. A torn last line (interrupted write) is dropped.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from nextedit.io.inputs import expand_inputs, read_examples
from nextedit.io.jsonl import JsonlWriter, read_valid_prefix
from nextedit.pipeline.stage import Stage
from nextedit.schema.example import Example

console = Console(stderr=True)


def _count_lines(paths: list[str]) -> int | None:
    """Cheap total for the progress bar: line count of plain files, ``None`` if unknown."""
    total = 0
    for p in paths:
        if p == "-" or p.endswith((".gz", ".zst", ".zstd")):
            return None
        if p.endswith((".md", ".json")):
            total += 1
            continue
        with open(p, "rb") as f:
            total += sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    return total


def _filtered(
    examples: Iterable[Example], offset: int, limit: int | None, name: str | None
) -> Iterator[Example]:
    n = 0
    for i, ex in enumerate(examples):
        if i < offset:
            continue
        if name and name not in ex.name:
            continue
        if limit is not None and n >= limit:
            return
        n += 1
        yield ex


def run_stage(
    stage: Stage,
    inputs: list[str],
    output: str | None,
    *,
    in_place: bool = False,
    resume: bool = True,
    limit: int | None = None,
    offset: int = 0,
    name: str | None = None,
    progress: bool = True,
    failfast: bool = False,
) -> Stage:
    """Run ``stage`` over ``inputs`` and write ``output`` (``-``/None = stdout). Returns the stage."""
    paths = expand_inputs(inputs)
    if in_place:
        if len(paths) != 1 or not paths[0].endswith(".jsonl"):
            raise ValueError("--in-place needs exactly one plain .jsonl input")
        output = paths[0]
    out_path = output or "-"
    errors: list[str] = []

    def on_error(msg: str) -> None:
        if failfast:
            raise ValueError(msg)
        errors.append(msg)
        console.print(f"[yellow]skipped[/]: {msg}")

    done: set[str] = set()
    kept_lines: list[str] = []
    if resume and out_path != "-" and Path(out_path).exists() and not in_place:
        for line in read_valid_prefix(out_path):
            ex = Example.from_json(line)
            if stage.is_complete(ex):
                done.add(ex.spec_hash())
                kept_lines.append(line)

    source: Iterable[Example] = read_examples(paths, on_error=on_error)
    source = _filtered(source, offset, limit, name)

    tmp_in_place = None
    if in_place:
        fd, tmp_in_place = tempfile.mkstemp(suffix=".jsonl", dir=os.path.dirname(os.path.abspath(out_path)))
        os.close(fd)
        writer = JsonlWriter(tmp_in_place)
    else:
        writer = JsonlWriter(out_path)
    for line in kept_lines:  # rewrite kept lines so a torn tail disappears
        writer.write_line(line)

    def pending() -> Iterator[Example]:
        for ex in source:
            if done and ex.spec_hash() in done:
                stage.stats.skipped_resume += 1
                continue
            yield ex

    total = _count_lines(paths) if limit is None and not name else limit
    show = progress and sys.stderr.isatty() or os.environ.get("NEXTEDIT_PROGRESS") == "1"
    try:
        with Progress(
            TextColumn(f"[bold]{stage.name}[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not show,
            transient=False,
        ) as bar:
            task = bar.add_task(stage.name, total=total)

            def counted() -> Iterator[Example]:
                for ex in pending():
                    yield ex
                    bar.advance(task)

            for ex in stage.run(counted()):
                writer.write(ex)
    finally:
        writer.close()
        stage.close()
        if tmp_in_place:
            shutil.move(tmp_in_place, out_path)
    print_stats(stage, errors)
    return stage


def print_stats(stage: Stage, errors: list[str] | None = None) -> None:
    """Print a stage's counters as a small table on stderr."""
    s = stage.stats
    table = Table(title=f"{stage.name}: stats", show_header=False)
    table.add_row("examples in", str(s.seen))
    table.add_row("examples out", str(s.written))
    if s.skipped_resume:
        table.add_row("already done (resume)", str(s.skipped_resume))
    for reason, n in sorted(s.dropped.items()):
        table.add_row(f"dropped: {reason}", str(n))
    for key, n in sorted(s.counters.items()):
        table.add_row(key, str(n))
    if errors:
        table.add_row("unreadable inputs", str(len(errors)))
    if s.seen:
        table.add_row("ms / example", f"{1000 * s.seconds / s.seen:.2f}")
    console.print(table)
