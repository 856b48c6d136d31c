"""The rich rendering of a pipeline run on stderr (the library reports through a listener).

:class:`RichProgress` implements :class:`nextedit.pipeline.ProgressListener`: a bar with the step,
done/total, elapsed and remaining time (shown on a terminal or with ``NEXTEDIT_PROGRESS=1``),
one yellow line per skipped input or failed example, and at the end one stats table per run.
"""

from __future__ import annotations

import os
import sys

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from nextedit.pipeline import RunResult, Stage, Writer

MAX_MESSAGES = 50  # per run; the rest are counted


class RichProgress:
    """Progress bar, messages and a stats table for each run (see module doc)."""

    def __init__(self, console: Console | None = None, bar: bool | None = None, table: bool = True) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self.bar = (
            bar if bar is not None else sys.stderr.isatty() or os.environ.get("NEXTEDIT_PROGRESS") == "1"
        )
        self.table = table
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._label = ""
        self._messages = 0

    def start(self, label: str, total: int | None) -> None:
        self._label, self._messages = label, 0
        self._progress = Progress(
            TextColumn("[bold]{task.description}[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=self.console,
            disable=not self.bar,
        )
        self._progress.start()
        self._task = self._progress.add_task(escape(label), total=total)

    def advance(self, items: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, items)

    def message(self, text: str) -> None:
        self._messages += 1
        if self._messages <= MAX_MESSAGES:
            self.console.print(f"[yellow]{escape(text)}[/]", soft_wrap=True)  # one line, as grep wants it
        elif self._messages == MAX_MESSAGES + 1:
            self.console.print("[yellow]… more messages are counted in the stats table[/]")

    def finish(self, result: RunResult) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        if self.table:
            self.console.print(stats_table(self._label, result))
        self.console.print(summary_line(result), soft_wrap=True)


def stats_table(label: str, result: RunResult) -> Table:
    """One row per step: inputs (examples; commits for a source) and examples out, ms per input,
    and the step's own counters."""
    table = Table(title=escape(label), title_justify="left")
    for col in ("step", "in", "out", "ms per input", "counters"):
        table.add_column(col, justify="left" if col in ("step", "counters") else "right")
    for stage in result.stages:
        if isinstance(stage, Writer):
            continue
        table.add_row(*_row(stage))
    return table


def _row(stage: Stage) -> list[str]:
    s = stage.stats
    notes = [f"dropped ({reason}): {n}" for reason, n in sorted(s.dropped.items())]
    notes += [f"{key}: {n}" for key, n in sorted(s.counters.items())]
    if s.skipped_resume:
        notes.append(f"done by an earlier run: {s.skipped_resume}")
    ms = f"{1000 * s.seconds / s.seen:.2f}" if s.seen else "-"
    return [escape(stage.name), str(s.seen), str(s.written), ms, escape("; ".join(notes))]


def summary_line(result: RunResult) -> str:
    writer = result.stages[-1]
    where = f" to {escape(writer.path)}" if isinstance(writer, Writer) and writer.path else ""
    parts = [f"{result.lines} examples written{where}"]
    if result.resumed:
        parts.append(f"{result.resumed} items done by an earlier run")
    if result.unreadable:
        parts.append(f"[yellow]{result.unreadable} unreadable inputs skipped[/]")
    if result.failed:
        failed_file = getattr(writer, "failed_path", None)
        parts.append(
            f"[yellow]{result.failed} failed[/]"
            + (f" (see {escape(str(failed_file))})" if failed_file else "")
        )
    return ", ".join(parts) + f" ({result.seconds:.1f} s)"
