"""`split` (zeta.md §3.9): cut a dataset into files that never share a group.

Sizes: ``N%`` (``round(total · N / 100)`` examples), an absolute ``N``, or ``rest`` (at most one).
Examples are grouped by a stratification key — ``cursor-path`` (default), ``project`` (first path
component of ``cursor_path``), ``repo`` (``repository_url``), ``repo-name`` (``repository_url``
without a ``==version`` / ``@revision`` suffix, so all releases of a PyPI package stay together;
our addition) or ``none`` (every example alone); an example without the key is its own group.
Groups are sorted by key, shuffled with ``random.Random(seed)``, and each non-rest output in
order takes whole groups until it reaches its target (it may overshoot); ``rest`` takes what is
left. Within each output, examples keep their input order.

Split is not a pipeline step: it must see every example before it can place one (groups are
shuffled as a whole), and it has several outputs, while a pipeline streams shards into one writer.
So it works on a list in memory (``dataset build`` then runs each part through its own pipeline,
from an :class:`~nextedit.pipeline.ExampleList`), and :func:`write_parts` writes each part with the
pipeline's own :class:`~nextedit.pipeline.ExampleWriter`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from nextedit.pipeline import ExampleWriter
from nextedit.schema.example import Example

STRATIFY = ("cursor-path", "project", "repo", "repo-name", "none")


@dataclass(frozen=True)
class SplitSpec:
    """One output: ``path`` and its size (``percent``, ``count`` or ``rest``)."""

    path: str
    percent: float | None = None
    count: int | None = None
    rest: bool = False

    @classmethod
    def parse(cls, text: str) -> SplitSpec:
        """``train.jsonl=80%`` / ``valid.jsonl=500`` / ``test.jsonl=rest``."""
        if "=" not in text:
            raise ValueError(f"{text!r}: expected PATH=SIZE (80%, 500 or rest)")
        path, size = text.rsplit("=", 1)
        size = size.strip()
        if size == "rest":
            return cls(path, rest=True)
        if size.endswith("%"):
            return cls(path, percent=float(size[:-1]))
        if size.isdigit():
            return cls(path, count=int(size))
        raise ValueError(f"{text!r}: size must be N%, N or rest")

    def target(self, total: int) -> int:
        if self.percent is not None:
            return round(total * self.percent / 100)
        return self.count or 0


def group_key(ex: Example, stratify: str) -> str | None:
    if stratify == "cursor-path":
        return ex.cursor_path or None
    if stratify == "project":
        return ex.cursor_path.split("/", 1)[0] if ex.cursor_path else None
    if stratify == "repo":
        return ex.repository_url or None
    if stratify == "repo-name":
        return re.sub(r"(==.*|@[^/]*)$", "", ex.repository_url) or None
    if stratify == "none":
        return None
    raise ValueError(f"unknown stratification {stratify!r} (choose from {', '.join(STRATIFY)})")


def split_examples(
    examples: Sequence[Example], specs: Sequence[SplitSpec], seed: int = 0, stratify: str = "cursor-path"
) -> list[list[Example]]:
    """Assign examples to ``specs`` (see module doc); returns one list per spec."""
    if sum(s.rest for s in specs) > 1:
        raise ValueError("only one output can be `rest`")
    groups: dict[str, list[int]] = {}
    singles: list[list[int]] = []
    for i, ex in enumerate(examples):
        key = group_key(ex, stratify)
        if key is None:
            singles.append([i])
        else:
            groups.setdefault(key, []).append(i)
    ordered = [groups[k] for k in sorted(groups)] + singles
    random.Random(seed).shuffle(ordered)
    total = len(examples)
    assign: list[list[int]] = [[] for _ in specs]
    pos = 0
    for si, spec in enumerate(specs):
        if spec.rest:
            continue
        target = spec.target(total)
        while pos < len(ordered) and len(assign[si]) < target:
            assign[si].extend(ordered[pos])
            pos += 1
    rest = next((i for i, s in enumerate(specs) if s.rest), None)
    if rest is not None:
        for g in ordered[pos:]:
            assign[rest].extend(g)
    return [[examples[i] for i in sorted(idx)] for idx in assign]


def write_parts(specs: Sequence[SplitSpec], parts: Sequence[Sequence[Example]]) -> None:
    """Write each part to its spec's path (JSONL, ``.gz``/``.zst`` by suffix), replacing the file."""
    for spec, part in zip(specs, parts, strict=True):
        for _ in ExampleWriter(spec.path).run(part):
            pass
