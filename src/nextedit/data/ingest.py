"""Source stages (commits / release pairs → examples) and their resumable runner.

A :class:`SourceStage` lists work items (:meth:`items`, one per commit or release pair) and turns
one item into examples (:meth:`examples_for`). From Python, ``stage.run()`` yields every example.
:func:`run_ingest` writes them to a JSONL file with a completion marker per item: after an item's
examples are flushed, ``<output>.done`` gets the line ``<key>\\t<total lines so far>``. A rerun
keeps the first ``total`` lines of the last consistent marker, drops anything after it (a torn or
partial item) and continues with the items not marked — no duplicates, nothing lost.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from nextedit.io.jsonl import read_valid_prefix
from nextedit.pipeline.executor import console, print_stats
from nextedit.pipeline.stage import Stage
from nextedit.schema.example import Example


@dataclass(frozen=True)
class IngestItem:
    key: str
    label: str
    data: Any = None


class SourceStage(Stage):
    """A stage that creates examples instead of transforming them (input stream ignored)."""

    name = "ingest"

    def __init__(self, on_error: Callable[[str], None] | None = None):
        super().__init__()
        self.errors: list[str] = []
        self._on_error = on_error

    def report(self, msg: str) -> None:
        """Record a skipped input (named in ``msg``)."""
        self.errors.append(msg)
        self.stats.count("skipped inputs")
        if self._on_error:
            self._on_error(msg)

    def items(self) -> Iterable[IngestItem]:
        raise NotImplementedError

    def examples_for(self, item: IngestItem) -> list[Example]:
        raise NotImplementedError

    def run(self, examples: Iterable[Example] = ()) -> Iterator[Example]:
        for item in self.items():
            yield from self._timed(item)

    def _timed(self, item: IngestItem) -> list[Example]:
        self.stats.seen += 1
        t0 = time.perf_counter()
        try:
            out = self.examples_for(item)
        finally:
            self.stats.seconds += time.perf_counter() - t0
        self.stats.written += len(out)
        return out


def _marker_path(output: str | Path) -> Path:
    return Path(str(output) + ".done")


def _resume_state(output: Path) -> list[tuple[str, int]]:
    """Marker entries ``(key, total lines)`` consistent with ``output``; the output is trimmed to
    the lines they own and the marker rewritten with exactly these entries."""
    marker = _marker_path(output)
    entries: list[tuple[str, int]] = []
    if output.exists() and marker.exists():
        valid = list(read_valid_prefix(output))
        for line in marker.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) != 2 or not parts[1].isdigit() or int(parts[1]) > len(valid):
                break
            entries.append((parts[0], int(parts[1])))
        keep = entries[-1][1] if entries else 0
        tmp = output.with_name(output.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for line in valid[:keep]:
                f.write(line if line.endswith("\n") else line + "\n")
        os.replace(tmp, output)
    with open(marker, "w", encoding="utf-8") as f:
        f.write("".join(f"{k}\t{n}\n" for k, n in entries))
    return entries


def run_ingest(
    stage: SourceStage,
    output: str | Path,
    *,
    resume: bool = True,
    progress: bool = True,
    limit: int | None = None,
) -> SourceStage:
    """Run a source stage into ``output`` (resumable, see module doc). ``limit`` caps items."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if not resume:
        output.unlink(missing_ok=True)
        _marker_path(output).unlink(missing_ok=True)
    entries = _resume_state(output)
    done = {k for k, _ in entries}
    running = entries[-1][1] if entries else 0
    items = list(stage.items())
    if limit is not None:
        items = items[:limit]
    show = progress and (sys.stderr.isatty() or os.environ.get("NEXTEDIT_PROGRESS") == "1")
    try:
        with (
            open(output, "a" if running else "w", encoding="utf-8") as out,
            open(_marker_path(output), "a", encoding="utf-8") as mk,
            Progress(
                TextColumn(f"[bold]{stage.name}[/]"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                disable=not show,
            ) as bar,
        ):
            task = bar.add_task(stage.name, total=len(items))
            for item in items:
                bar.advance(task)
                if item.key in done:
                    stage.stats.skipped_resume += 1
                    continue
                for ex in stage._timed(item):
                    out.write(ex.to_json() + "\n")
                    running += 1
                out.flush()
                mk.write(f"{item.key}\t{running}\n")
                mk.flush()
    finally:
        stage.close()
    if progress:
        print_stats(stage, stage.errors)
    return stage
