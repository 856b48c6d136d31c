"""Benchmark figures for the terminal and for files: the benchmarks return rows of figures
(dicts), these show them as a table (:func:`nextedit.cli.render.table`) or write them as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def print_figures(
    title: str, rows: list[dict[str, Any]], columns: tuple[str, ...], *, width: int = 120
) -> None:
    """One table row per dict on stdout: floats with 2 decimals, missing figures blank, ``_`` in
    column names shown as spaces."""
    from rich.console import Console

    from nextedit.cli.render import table

    cells = [
        [f"{r[c]:.2f}" if isinstance(r.get(c), float) else str(r.get(c, "")) for c in columns] for r in rows
    ]
    Console(width=max(width, Console().width)).print(
        table(title, [c.replace("_", " ") for c in columns], cells)
    )


def write_json(path: str | Path | None, figures: Any) -> None:
    """Write ``figures`` as indented JSON to ``path`` (parents created); None = nothing."""
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
