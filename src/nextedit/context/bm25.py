"""BM25 retrieval over 40-line chunks of a working tree (§1.10: k1=1.2, b=0.75), the fallback
context source when go-to-definition finds nothing.

Terms are identifiers, lower-cased, plus their camelCase/snake_case parts (``parseHttpRequest``
→ ``parsehttprequest``, ``parse``, ``http``, ``request``). The corpus is built lazily on first
search and refreshed per file by mtime/size.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nextedit.context.symbols import ContentCache

CHUNK_LINES = 40
K1 = 1.2
B = 0.75
MAX_FILE_BYTES = 1 << 20
MAX_QUERY_TERMS = 32

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


_parts_memo: dict[str, tuple[str, ...]] = {}


def _term_parts(word: str) -> tuple[str, ...]:
    """``word`` lower-cased, then its camelCase/snake_case sub-words (≥2 chars) if it has any."""
    out = _parts_memo.get(word)
    if out is None:
        low = word.lower()
        parts = [p.lower() for p in _PARTS.findall(word)]
        out = (low, *(p for p in parts if len(p) > 1 and p != low)) if len(parts) > 1 else (low,)
        if len(_parts_memo) < 1_000_000:
            _parts_memo[word] = out
    return out


def terms(text: str) -> list[str]:
    """BM25 terms of ``text`` (identifiers ≥2 chars and their sub-words, lower-cased)."""
    out: list[str] = []
    for word in _IDENT.findall(text):
        if len(word) >= 2:
            out.extend(_term_parts(word))
    return out


def term_counts(text: str) -> Counter[str]:
    """``Counter(terms(text))``, computed per distinct identifier (faster on real code)."""
    tf: Counter[str] = Counter()
    for word, n in Counter(_IDENT.findall(text)).items():
        if len(word) >= 2:
            for t in _term_parts(word):
                tf[t] += n
    return tf


@dataclass(frozen=True)
class Chunk:
    """Rows ``start_row..end_row`` (end inclusive) of ``path``."""

    path: str
    start_row: int
    end_row: int
    length: int  # number of terms
    tf: dict[str, int]


@dataclass(frozen=True)
class Hit:
    path: str
    start_row: int
    end_row: int
    score: float


def chunk_file(path: str, text: str, chunk_lines: int = CHUNK_LINES) -> list[Chunk]:
    lines = text.splitlines(keepends=True)
    out = []
    for start in range(0, len(lines), chunk_lines):
        tf = term_counts("".join(lines[start : start + chunk_lines]))
        if not tf:
            continue
        out.append(Chunk(path, start, min(len(lines), start + chunk_lines) - 1, sum(tf.values()), dict(tf)))
    return out


_chunk_cache = ContentCache()  # chunks by (path, content digest), shared across trees


class Bm25Index:
    """BM25 over the 40-line chunks of ``paths`` (relative to ``root``).

    ``paths`` may be a callable returning the current list (e.g. ``symbol_index.paths``).
    """

    def __init__(self, root: str | Path, paths: Iterable[str] | None = None) -> None:
        self.root = Path(root)
        self._paths_src = paths
        self._files: dict[str, tuple[int, int, list[Chunk]]] = {}
        # term → {(path, chunk index): (term frequency, chunk length)}
        self._postings: dict[str, dict[tuple[str, int], tuple[int, int]]] = {}
        self._total_len = 0
        self._n_chunks = 0
        self._lock = threading.Lock()

    def _list_paths(self) -> list[str]:
        src = self._paths_src
        if src is None:
            from nextedit.context.symbols import iter_source_files

            return [rel for rel, _st in iter_source_files(self.root)]
        return list(src() if callable(src) else src)

    def _drop(self, rel: str) -> None:
        old = self._files.pop(rel, None)
        if old is None:
            return
        for i, c in enumerate(old[2]):
            for t in c.tf:
                post = self._postings.get(t)
                if post is not None:
                    post.pop((rel, i), None)
                    if not post:
                        del self._postings[t]
            self._total_len -= c.length
            self._n_chunks -= 1

    def refresh(self) -> None:
        """(Re)index files whose mtime or size changed; drop vanished ones."""
        with self._lock:
            wanted = set(self._list_paths())
            for rel in [p for p in self._files if p not in wanted]:
                self._drop(rel)
            for rel in sorted(wanted):
                try:
                    st = os.stat(self.root / rel)
                except OSError:
                    self._drop(rel)
                    continue
                old = self._files.get(rel)
                if old is not None and old[0] == st.st_mtime_ns and old[1] == st.st_size:
                    continue
                self._drop(rel)
                if st.st_size > MAX_FILE_BYTES:
                    continue
                try:
                    raw = (self.root / rel).read_bytes()
                except OSError:
                    continue
                key = (rel, hashlib.blake2b(raw, digest_size=16).digest())
                chunks = _chunk_cache.get(key)
                if chunks is None:
                    chunks = chunk_file(rel, raw.decode("utf-8", errors="replace"))
                    _chunk_cache.put(key, chunks)
                self._files[rel] = (st.st_mtime_ns, st.st_size, chunks)
                for i, c in enumerate(chunks):
                    for t, f in c.tf.items():
                        self._postings.setdefault(t, {})[(rel, i)] = (f, c.length)
                    self._total_len += c.length
                    self._n_chunks += 1

    def search(
        self, query: str | list[str], k: int = 5, exclude: Iterable[tuple[str, int, int]] = ()
    ) -> list[Hit]:
        """Top ``k`` chunks for ``query`` (text or terms), best first; chunks overlapping an
        ``exclude`` entry ``(path, first_row, last_row)`` are skipped. Builds lazily."""
        if not self._files:
            self.refresh()
        q = terms(query) if isinstance(query, str) else query
        qset = set(q)
        if not qset or not self._n_chunks:
            return []
        with self._lock:
            n = self._n_chunks
            avg = self._total_len / n
            scores: dict[tuple[str, int], float] = {}
            # Score with the rarest query terms only: very common terms (in over
            # 5% of the chunks of a large corpus) barely change the ranking and dominate the cost.
            posted = sorted((len(self._postings[t]), t) for t in qset if t in self._postings)
            max_df = n // 20 if n >= 500 else n
            for df, t in posted[:MAX_QUERY_TERMS]:
                if df > max_df:
                    break
                post = self._postings[t]
                w = math.log(1 + (n - df + 0.5) / (df + 0.5))
                for key, (f, length) in post.items():
                    scores[key] = scores.get(key, 0.0) + w * f * (K1 + 1) / (f + K1 * (1 - B + B * length / avg))
            excl = list(exclude)
            hits = []
            for (rel, i), score in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])):
                c = self._files[rel][2][i]
                if any(p == rel and c.start_row <= e and s <= c.end_row for p, s, e in excl):
                    continue
                hits.append(Hit(rel, c.start_row, c.end_row, score))
                if len(hits) >= k:
                    break
        return hits
