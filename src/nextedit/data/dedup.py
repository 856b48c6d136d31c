"""`dedup` (zeta.md §3.1 ``--max-duplicates K``).

1. Exact duplicates of ``cursor_position`` are removed (the first one is kept).
2. Near duplicates: MinHash (128 hashes) over the shingles of each example's ``cursor_position``
   — 5-grams of its non-whitespace code tokens (§5.3 tokenizer) joined by ``\\0`` — and LSH
   (32 bands × 4 rows) to find candidate pairs; a pair whose estimated Jaccard similarity is
   ≥ ``threshold`` (0.5) is joined with union-find.
3. From each cluster at most ``K`` examples are kept by greedy max-min diversity: start with the
   first member (input order), then repeatedly add the member whose smallest distance
   ``1 − est_jaccard`` to those already kept is largest (ties → earlier member).

Output keeps the input order. Hashing is deterministic (blake2b + fixed multipliers).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

import numpy as np

from nextedit.pipeline.stage import Stage
from nextedit.schema.example import Example
from nextedit.text.tokenize import tokenize

NUM_HASHES = 128
BANDS = 32
SHINGLE = 5
_MASK32 = np.uint64(0xFFFFFFFF)


def _params() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20260101)
    seeds = rng.integers(1, 2**63, size=NUM_HASHES, dtype=np.uint64)
    mults = rng.integers(1, 2**63, size=NUM_HASHES, dtype=np.uint64) | np.uint64(1)
    return seeds, mults


_SEEDS, _MULTS = _params()


def shingles(text: str, n: int = SHINGLE) -> set[str]:
    toks = [t for t in tokenize(text) if not t.isspace()]
    if len(toks) < n:
        return {"\0".join(toks)} if toks else set()
    return {"\0".join(toks[i : i + n]) for i in range(len(toks) - n + 1)}


def minhash(sh: set[str]) -> np.ndarray:
    """128 minimum hash values (uint64 holding 32-bit values); all-max for an empty set."""
    if not sh:
        return np.full(NUM_HASHES, 0xFFFFFFFF, dtype=np.uint64)
    x = np.fromiter(
        (int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little") for s in sorted(sh)),
        dtype=np.uint64,
        count=len(sh),
    )
    with np.errstate(over="ignore"):
        h = ((x[None, :] ^ _SEEDS[:, None]) * _MULTS[:, None]) >> np.uint64(32)
    return h.min(axis=1)


def est_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.count_nonzero(a == b)) / NUM_HASHES


class _UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def max_min_diverse(members: list[int], sigs: list[np.ndarray], k: int) -> list[int]:
    """Greedy max-min diversity selection of ``k`` members (first member first)."""
    if len(members) <= k:
        return members
    chosen = [members[0]]
    best = {m: 1.0 - est_jaccard(sigs[m], sigs[members[0]]) for m in members[1:]}
    while len(chosen) < k and best:
        pick = max(best, key=lambda m: (best[m], -m))
        chosen.append(pick)
        del best[pick]
        for m in best:
            best[m] = min(best[m], 1.0 - est_jaccard(sigs[m], sigs[pick]))
    return sorted(chosen)


def dedup_indices(texts: list[str], max_duplicates: int, threshold: float = 0.5) -> list[int]:
    """Indices of the texts to keep (ascending)."""
    seen: dict[str, int] = {}
    uniq: list[int] = []
    for i, t in enumerate(texts):
        if t not in seen:
            seen[t] = i
            uniq.append(i)
    sigs_u = [minhash(shingles(texts[i])) for i in uniq]
    n = len(uniq)
    uf = _UnionFind(n)
    rows = NUM_HASHES // BANDS
    for b in range(BANDS):
        buckets: dict[bytes, int] = {}
        for j in range(n):
            key = sigs_u[j][b * rows : (b + 1) * rows].tobytes()
            first = buckets.setdefault(key, j)
            if (
                first != j
                and uf.find(first) != uf.find(j)
                and est_jaccard(sigs_u[first], sigs_u[j]) >= threshold
            ):
                uf.union(first, j)
    clusters: dict[int, list[int]] = {}
    for j in range(n):
        clusters.setdefault(uf.find(j), []).append(j)
    keep: list[int] = []
    for members in clusters.values():
        keep.extend(max_min_diverse(members, sigs_u, max_duplicates))
    return sorted(uniq[j] for j in keep)


class DedupStage(Stage):
    """Whole-stream stage: drop exact and near duplicates (see module doc)."""

    name = "dedup"

    def __init__(self, max_duplicates: int = 4, threshold: float = 0.5):
        super().__init__()
        self.max_duplicates, self.threshold = max_duplicates, threshold

    def run(self, examples: Iterable[Example]) -> Iterator[Example]:
        import time

        exs = list(examples)
        self.stats.seen += len(exs)
        t0 = time.perf_counter()
        keep = dedup_indices([ex.cursor_position for ex in exs], self.max_duplicates, self.threshold)
        self.stats.seconds += time.perf_counter() - t0
        first: dict[str, int] = {}
        kept = set(keep)
        for i, ex in enumerate(exs):
            first.setdefault(ex.cursor_position, i)
            if i in kept:
                self.stats.written += 1
                yield ex
            elif first[ex.cursor_position] != i:
                self.stats.drop("exact duplicate")
            else:
                self.stats.drop("near duplicate")
