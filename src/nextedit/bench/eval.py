"""Latency of request providers and of scoring (``nextedit bench eval``).

For each provider: the time of one ``predict`` call on a request already built (each example's
request ``repeat`` times, after one warm-up call), and the time :func:`~nextedit.metrics.score.score_example`
takes per prediction on that provider's answers. Providers that answer examples rather than
requests (:class:`~nextedit.schema.provider.ExampleAware`, e.g. ``oracle``) are left out. Not a test:
the numbers depend on the machine.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from nextedit.context.example_request import example_request
from nextedit.metrics.report import percentile
from nextedit.metrics.score import score_example
from nextedit.predict.stage import PredictStage
from nextedit.schema.example import Example
from nextedit.schema.provider import ExampleAware, Provider


@dataclass(frozen=True)
class Timing:
    """``n`` timed calls of ``what``: percentiles and maximum in milliseconds."""

    what: str
    n: int
    p50_ms: float
    p95_ms: float
    max_ms: float

    @classmethod
    def of(cls, what: str, seconds: Sequence[float]) -> Timing:
        ms = [1000 * t for t in seconds]
        return cls(what, len(ms), percentile(ms, 50), percentile(ms, 95), max(ms))


def bench_eval(
    examples: Sequence[Example], providers: Sequence[tuple[str, Provider | ExampleAware]], repeat: int = 20
) -> list[Timing]:
    """Two rows per request provider, named by its spec: ``predict (SPEC)`` (one row per call) and
    ``score (SPEC), per prediction`` (one row per example). ``examples`` must not be empty."""
    requests = [example_request(ex) for ex in examples]
    rows: list[Timing] = []
    for spec, provider in providers:
        if isinstance(provider, ExampleAware):  # answers examples, not requests: nothing to time
            continue
        provider.predict(requests[0])  # warm-up (imports, caches)
        times = []
        for request in requests:
            for _ in range(repeat):
                t0 = time.perf_counter()
                provider.predict(request)
                times.append(time.perf_counter() - t0)
        rows.append(Timing.of(f"predict ({spec})", times))
        predicted = list(PredictStage(provider).run(ex.model_copy(deep=True) for ex in examples))
        times = []
        for ex in predicted:
            t0 = time.perf_counter()
            score_example(ex)
            times.append((time.perf_counter() - t0) / max(1, len(ex.predictions)))
        rows.append(Timing.of(f"score ({spec}), per prediction", times))
    return rows
