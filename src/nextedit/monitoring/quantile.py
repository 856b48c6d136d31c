"""Latency quantiles per arm with a user-cluster bootstrap.

A latency percentile is a property of requests, but requests are clustered in users (a user on a
slow network is slow every time), so the interval resamples **users**: the Poisson bootstrap gives
each user a weight ``w ~ Poisson(1)`` per replicate and takes the weighted quantile of the requests
(the smallest latency whose cumulative weight reaches ``q`` of the total, i.e. numpy's
``inverted_cdf``). That is equivalent to the multinomial cluster bootstrap for large user counts and
vectorizes: one sort, then a cumulative sum per replicate (replicates are processed in chunks of at
most ~2M cells, so memory stays bounded on a million requests).

Intervals are bootstrap percentiles; the standard error (the replicates' standard deviation) feeds
the normal approximations that the p-values and sequential tests need.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHUNK_CELLS = 2_000_000


@dataclass(frozen=True)
class QuantileBootstrap:
    """``value`` (the sample quantile) and ``replicates`` (one per bootstrap replicate; nan when an
    arm has no request)."""

    value: float
    replicates: np.ndarray

    @property
    def se(self) -> float:
        return float(np.std(self.replicates, ddof=1)) if self.replicates.size > 1 else float("nan")

    def ci(self, alpha: float = 0.05) -> tuple[float, float]:
        lo, hi = np.quantile(self.replicates, [alpha / 2, 1 - alpha / 2])
        return float(lo), float(hi)


def bootstrap_quantile(
    values: np.ndarray,
    user_index: np.ndarray,
    users: int,
    *,
    q: float = 0.95,
    replicates: int = 200,
    rng: np.random.Generator,
) -> QuantileBootstrap:
    """The ``q`` quantile of ``values`` (one per request; ``user_index[j]`` in ``[0, users)`` is the
    user of request ``j``) with ``replicates`` Poisson-bootstrap replicates over users."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return QuantileBootstrap(float("nan"), np.full(replicates, np.nan))
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    sorted_users = np.asarray(user_index)[order]
    value = float(np.quantile(sorted_values, q, method="inverted_cdf"))
    out = np.empty(replicates)
    chunk = max(1, CHUNK_CELLS // values.size)
    for start in range(0, replicates, chunk):
        b = min(chunk, replicates - start)
        weights = rng.poisson(1.0, size=(b, users)).astype(np.float64)
        cumulative = np.cumsum(weights[:, sorted_users], axis=1)
        total = cumulative[:, -1]
        position = (cumulative >= q * total[:, None]).argmax(axis=1)
        out[start : start + b] = np.where(total > 0, sorted_values[position], np.nan)
    return QuantileBootstrap(value, out[np.isfinite(out)] if np.isfinite(out).any() else out)


def quantile_difference(treatment: QuantileBootstrap, control: QuantileBootstrap) -> QuantileBootstrap:
    """``treatment - control`` with the replicates of the two (independent) arms paired by index."""
    n = min(treatment.replicates.size, control.replicates.size)
    return QuantileBootstrap(
        treatment.value - control.value, treatment.replicates[:n] - control.replicates[:n]
    )


def bootstrap_quantile_binned(
    counts: np.ndarray,
    bin_values: np.ndarray,
    *,
    q: float = 0.95,
    replicates: int = 200,
    rng: np.random.Generator,
) -> QuantileBootstrap:
    """:func:`bootstrap_quantile` of binned requests: ``counts[i, j]`` requests of user ``i`` in the
    bin that stands for ``bin_values[j]`` (ascending). The same Poisson weights per user, the same
    inverted-cdf quantile; one replicate costs a (users × bins) product instead of a pass over
    every request."""
    counts = np.asarray(counts, dtype=float)
    users = counts.shape[0]
    total = counts.sum(axis=0)
    if total.sum() == 0:
        return QuantileBootstrap(float("nan"), np.full(replicates, np.nan))
    cum = np.cumsum(total)
    value = float(bin_values[int(np.argmax(cum >= q * cum[-1]))])
    weights = rng.poisson(1.0, size=(replicates, users)).astype(np.float64)
    cumulative = np.cumsum(weights @ counts, axis=1)
    last = cumulative[:, -1]
    position = (cumulative >= q * last[:, None]).argmax(axis=1)
    out = np.where(last > 0, np.asarray(bin_values, dtype=float)[position], np.nan)
    return QuantileBootstrap(value, out[np.isfinite(out)] if np.isfinite(out).any() else out)
