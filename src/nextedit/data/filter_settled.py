"""Settled-data filtering (zeta.md §3.8, §3.13): keep the examples the current student finds
neither trivial nor hopeless.

Settled data is noisy (users change their mind, agents rewrite regions). For each example the
student (any :class:`~nextedit.schema.provider.Provider`) is sampled ``samples`` times; each
answer's excerpt after the edit is compared with the settled state (the excerpt with
``expected_patches[0]`` applied) by character Levenshtein distance, and the example's distance
is the median of its samples. Over the whole input the band is ``[quantile(low),
quantile(high)]`` of those distances: examples below it are *too close* (the student already
writes the settled state: nothing to learn; distance 0 always counts as too close), above it
*too far* (noise). Kept examples carry ``telemetry.student_distance`` (characters) and
``telemetry.student_distances``; the band and the counts are in the stage's stats
(``band.low_chars``/``band.high_chars``, dropped ``too close``/``too far``).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Iterator

from nextedit.context.example_request import example_request
from nextedit.pipeline.stage import Stage
from nextedit.schema.example import Example
from nextedit.schema.provider import ExampleAware, Provider
from nextedit.schema.request import Zeta2PromptInput
from nextedit.text.diff import common_affixes
from nextedit.text.patch import PatchError, apply_patch


def levenshtein(a: str, b: str) -> int:
    """Character edit distance (insert, delete, substitute: cost 1 each); the common prefix and
    suffix are stripped first, so the cost is quadratic only in the part that differs."""
    p, s = common_affixes(a, b)
    a, b = a[p : len(a) - s], b[p : len(b) - s]
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def quantile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolated quantile ``q`` (0..1) of a non-empty sorted list."""
    pos = q * (len(sorted_values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def settled_state(example: Example, request: Zeta2PromptInput) -> str:
    """The excerpt once the region settled: ``expected_patches[0]`` applied (``ValueError`` when
    there is none or it does not apply)."""
    if not example.expected_patches:
        raise ValueError("no expected patch")
    return apply_patch(
        request.cursor_excerpt, example.expected_patches[0], start_row=request.excerpt_start_row or 0
    )


def predicted_state(provider: Provider, request: Zeta2PromptInput) -> str:
    """The excerpt after one student answer (unchanged for "no edit" or an error)."""
    pred = provider.predict(request)
    data = request.cursor_excerpt.encode("utf-8")
    s, e = pred.editable_range
    if pred.error or pred.is_no_edit(request.cursor_excerpt) or not (0 <= s <= e <= len(data)):
        return request.cursor_excerpt
    return (data[:s] + pred.output.encode("utf-8") + data[e:]).decode("utf-8", "replace")


class FilterSettled(Stage):
    """The §3.8 filter (module doc). Sees the whole stream (the band is a property of all of it)."""

    name = "filter-settled"

    def __init__(
        self, provider: Provider | ExampleAware, *, samples: int = 8, band: tuple[float, float] = (0.25, 0.75)
    ):
        super().__init__()
        low, high = band
        if not (0 <= low <= high <= 1):
            raise ValueError(f"--band must be two quantiles 0 <= low <= high <= 1, not {low},{high}")
        if samples < 1:
            raise ValueError("--samples must be at least 1")
        self.provider, self.samples, self.band = provider, samples, (low, high)

    def distances(self, example: Example) -> list[int] | None:
        """The student's distances to the settled state, or None (counted drop)."""
        try:
            request = example_request(example)
            target = settled_state(example, request)
        except (ValueError, PatchError):
            self.stats.drop("no settled state")
            return None
        provider = (
            self.provider.for_example(example) if isinstance(self.provider, ExampleAware) else self.provider
        )
        return [levenshtein(predicted_state(provider, request), target) for _ in range(self.samples)]

    def run(self, examples: Iterable[Example]) -> Iterator[Example]:
        scored: list[tuple[Example, float, list[int]]] = []
        for ex in examples:
            self.stats.seen += 1
            ds = self.distances(ex)
            if ds is not None:
                scored.append((ex, float(statistics.median(ds)), ds))
        if not scored:
            return
        ordered = sorted(d for _, d, _ in scored)
        lo, hi = quantile(ordered, self.band[0]), quantile(ordered, self.band[1])
        self.stats.counters["band.low_chars"] = lo
        self.stats.counters["band.high_chars"] = hi
        self.stats.note(
            f"band: student distance in [{lo:g}, {hi:g}] characters (quantiles {self.band[0]:g}-{self.band[1]:g}"
            f" of {len(scored)} examples, {self.samples} samples each)"
        )
        for ex, d, ds in scored:
            if d == 0 or d < lo:
                self.stats.drop("too close")
            elif d > hi:
                self.stats.drop("too far")
            else:
                ex.telemetry = {**(ex.telemetry or {}), "student_distance": d, "student_distances": ds}
                self.stats.written += 1
                yield ex
