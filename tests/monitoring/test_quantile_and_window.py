"""The user-cluster bootstrap of the latency p95 validated by simulation; the report's time parser."""

from __future__ import annotations

import numpy as np
import pytest

from nextedit.errors import NexteditError
from nextedit.monitoring.quantile import bootstrap_quantile
from nextedit.monitoring.window import Window, iso, parse_time

USERS, PER_USER, SIMS = 400, 6, 200


def _latencies(rng: np.random.Generator, sims: int) -> np.ndarray:
    """(sims, users, requests) latencies in ms: a per-user slowness times per-request noise."""
    user = rng.normal(0.0, 0.4, size=(sims, USERS, 1))
    return np.exp(np.log(120.0) + user + rng.normal(0.0, 0.3, size=(sims, USERS, PER_USER)))


def test_cluster_bootstrap_interval_covers_the_true_p95() -> None:
    rng = np.random.default_rng(11)
    true_p95 = float(np.quantile(_latencies(rng, 1000).ravel(), 0.95))  # 2.4M draws of the mixture
    users = np.repeat(np.arange(USERS), PER_USER)
    covered = naive_covered = 0
    for sample in _latencies(rng, SIMS).reshape(SIMS, -1):
        lo, hi = bootstrap_quantile(sample, users, USERS, replicates=100, rng=rng).ci(0.05)
        covered += lo <= true_p95 <= hi
        # the same bootstrap with every request its own cluster ignores the per-user slowness
        iid = bootstrap_quantile(sample, np.arange(sample.size), sample.size, replicates=100, rng=rng)
        naive_covered += iid.ci(0.05)[0] <= true_p95 <= iid.ci(0.05)[1]
    assert 0.90 <= covered / SIMS <= 0.99, covered / SIMS
    assert naive_covered < covered


def test_bootstrap_quantile_value_and_empty_arm() -> None:
    rng = np.random.default_rng(0)
    values = np.arange(1.0, 101.0)
    b = bootstrap_quantile(values, np.arange(100) % 10, 10, replicates=50, rng=rng)
    assert b.value == 95.0 and b.replicates.size == 50 and b.se > 0
    empty = bootstrap_quantile(np.zeros(0), np.zeros(0, dtype=int), 0, replicates=5, rng=rng)
    assert np.isnan(empty.value)


def test_parse_time() -> None:
    now = 1_764_547_200.0
    assert parse_time("2025-12-01", now=now) == now
    assert parse_time("2025-12-01T01:00:00+01:00") == now
    assert parse_time("2025-12-01T00:00:00Z") == now
    assert parse_time("1764547200") == now
    assert parse_time("7d", now=now) == now - 7 * 86400
    assert parse_time("36h", now=now) == now - 36 * 3600
    assert iso(now) == "2025-12-01T00:00:00Z"
    with pytest.raises(NexteditError, match="--until 'soon'"):
        parse_time("soon", "--until")
    with pytest.raises(NexteditError, match="--pre-since"):
        Window(since=now, until=now + 10, pre_since=now + 5).check()
