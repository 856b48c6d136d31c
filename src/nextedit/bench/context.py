"""Context benchmark (``nextedit bench context TREE``): symbol-index build time for a tree and
per-request ``build_request`` latency with a warm index.

Cursors are sampled uniformly among the indexed files (one random line each). Returns files,
symbols, build seconds, and request latency p50/p90/max in milliseconds.
"""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path
from typing import Any

from nextedit.context.bm25 import Bm25Index
from nextedit.context.builder import build_request
from nextedit.context.symbols import SymbolIndex

CONTEXT_MODES = ("lsp", "bm25", "all", "none")


def bench_context(
    tree: str | Path, *, requests: int = 200, context: str = "lsp", seed: int = 0, workers: int = 1
) -> dict[str, Any]:
    """Index ``tree`` (``workers`` processes), rescan it unchanged, build the BM25 index when
    ``context`` uses it, then time ``requests`` calls of ``build_request`` at random cursors.
    Times in seconds (``*_s``) and milliseconds (``*_ms``)."""
    if context not in CONTEXT_MODES:
        raise ValueError(f"context must be one of {', '.join(CONTEXT_MODES)}, not {context!r}")
    root = Path(tree)
    t0 = time.perf_counter()
    index = SymbolIndex(root, workers=workers).build()
    figures: dict[str, Any] = {
        "files": len(index),
        "symbols": index.symbol_count(),
        "index_build_s": time.perf_counter() - t0,
    }
    t0 = time.perf_counter()
    index.update()
    figures["index_rescan_s"] = time.perf_counter() - t0

    bm25 = Bm25Index(root, index.paths) if context in ("lsp", "bm25", "all") else None
    if bm25 is not None:
        t0 = time.perf_counter()
        bm25.refresh()
        figures["bm25_build_s"] = time.perf_counter() - t0

    rng = random.Random(seed)
    paths = index.paths()
    latencies: list[float] = []
    related = 0
    for _ in range(requests if paths else 0):
        rel = rng.choice(paths)
        text = (root / rel).read_text(encoding="utf-8", errors="replace")
        data = text.encode("utf-8")
        starts = [0] + [i + 1 for i, b in enumerate(data) if b == 0x0A]
        cursor = rng.choice(starts)
        t0 = time.perf_counter()
        req = build_request(root, rel, cursor, [], text=text, index=index, bm25=bm25, context=context)  # type: ignore[arg-type]
        latencies.append((time.perf_counter() - t0) * 1000)
        related += bool(req.related_files)
    latencies.sort()
    figures.update(
        context=context,
        requests=len(latencies),
        with_related_files=related,
        p50_ms=statistics.median(latencies) if latencies else None,
        p90_ms=latencies[min(len(latencies) - 1, int(0.9 * len(latencies)))] if latencies else None,
        max_ms=latencies[-1] if latencies else None,
    )
    return figures
