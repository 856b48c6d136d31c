"""Rendering of library results for the terminal (rich lives here, not in the library).

Library code returns plain data (rows of strings, summary lines, warnings); these helpers print it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from nextedit.metrics.report import EvalReport


def table(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], total: Sequence[str] | None = None
) -> Table:
    """A rich table; the first column is left-aligned, the others right-aligned; ``total`` in bold."""
    t = Table(title=title)
    for i, col in enumerate(columns):
        t.add_column(col, justify="left" if i == 0 else "right")
    for row in rows:
        t.add_row(*row)
    if total is not None:
        t.add_section()
        t.add_row(*total, style="bold")
    return t


def print_eval_report(report: EvalReport, console: Console) -> None:
    """The §5.6 table, its summary lines, then each warning (bold yellow, on the same console)."""
    rows = list(report.rows)
    if report.hidden_rows:
        rows.append([f"… {report.hidden_rows} more (--verbose)", *[""] * (len(report.columns) - 1)])
    console.print(table(report.title, report.columns, rows, report.total))
    for line in report.lines:
        console.print(line, highlight=False)
    for line in report.warnings:
        console.print(f"[bold yellow]warning[/]: {line}", highlight=False)
