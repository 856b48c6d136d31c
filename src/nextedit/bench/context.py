"""Context benchmark: symbol-index build time for a tree and per-request ``build_request`` latency
with a warm index.

    python -m nextedit.bench.context TREE [--requests 200] [--context lsp] [--workers 1] [--seed 0]

Cursors are sampled uniformly among the indexed files (one random line each). Prints files,
symbols, build seconds, and request latency p50/p90/max in milliseconds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from nextedit.context.bm25 import Bm25Index
from nextedit.context.builder import build_request
from nextedit.context.symbols import SymbolIndex


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tree")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--context", default="lsp", choices=["lsp", "bm25", "all", "none"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1, help="processes for the index build")
    args = ap.parse_args(argv)

    root = Path(args.tree)
    t0 = time.perf_counter()
    index = SymbolIndex(root, workers=args.workers).build()
    build_s = time.perf_counter() - t0
    print(f"index: {len(index)} files, {index.symbol_count()} symbols, built in {build_s:.2f} s")
    t0 = time.perf_counter()
    index.update()
    print(f"index: no-change rescan {time.perf_counter() - t0:.2f} s")

    bm25 = Bm25Index(root, index.paths) if args.context in ("lsp", "bm25", "all") else None
    if bm25 is not None:
        t0 = time.perf_counter()
        bm25.refresh()
        print(f"bm25: built in {time.perf_counter() - t0:.2f} s")

    rng = random.Random(args.seed)
    paths = index.paths()
    latencies: list[float] = []
    related = 0
    for _ in range(args.requests):
        rel = rng.choice(paths)
        text = (root / rel).read_text(encoding="utf-8", errors="replace")
        data = text.encode("utf-8")
        starts = [0] + [i + 1 for i, b in enumerate(data) if b == 0x0A]
        cursor = rng.choice(starts)
        t0 = time.perf_counter()
        req = build_request(root, rel, cursor, [], text=text, index=index, bm25=bm25, context=args.context)  # type: ignore[arg-type]
        latencies.append((time.perf_counter() - t0) * 1000)
        related += bool(req.related_files)
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    print(
        f"build_request ({args.context}): n={len(latencies)} p50={statistics.median(latencies):.1f} ms "
        f"p90={p(0.9):.1f} ms max={latencies[-1]:.1f} ms; with related files: {related}/{len(latencies)}"
    )


if __name__ == "__main__":
    main()
