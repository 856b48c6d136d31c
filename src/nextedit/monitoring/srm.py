"""Sample-ratio mismatch: are the users split between arms as the configured weights say?

A mismatch (a bug in assignment, a crash that drops one arm's telemetry, a client pinning itself)
makes every other figure of the experiment untrustworthy, so it is checked first. Pearson's
chi-square of the user counts against ``weights / Σ weights`` with ``arms - 1`` degrees of freedom;
the conventional alarm is ``p < 0.001`` (a strict level because the check runs on every report).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nextedit.monitoring.distributions import chi2_sf

SRM_ALPHA = 0.001


@dataclass(frozen=True)
class SrmResult:
    chi2: float
    df: int
    p_value: float
    expected: tuple[float, ...]  # users expected per arm
    mismatch: bool  # p_value < SRM_ALPHA


def srm_chi2(counts: np.ndarray, weights: Sequence[float]) -> tuple[np.ndarray, int]:
    """Chi-square statistics of ``counts`` (``(..., arms)``) against ``weights``, and the df."""
    counts = np.asarray(counts, dtype=float)
    share = np.asarray(weights, dtype=float)
    share = share / share.sum()
    expected = counts.sum(axis=-1, keepdims=True) * share
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = np.where(expected > 0, (counts - expected) ** 2 / expected, 0.0).sum(axis=-1)
    return chi2, len(share) - 1


def srm_check(counts: Sequence[int], weights: Sequence[float], *, alpha: float = SRM_ALPHA) -> SrmResult:
    """The SRM check of one experiment (``counts[i]`` users in the arm of weight ``weights[i]``)."""
    if len(counts) != len(weights) or len(counts) < 2:
        raise ValueError("srm_check needs one weight per arm and at least two arms")
    chi2, df = srm_chi2(np.asarray(counts), weights)
    p = chi2_sf(float(chi2), df)
    total = float(sum(counts))
    expected = tuple(total * w / float(sum(weights)) for w in weights)
    return SrmResult(float(chi2), df, p, expected, p < alpha)
