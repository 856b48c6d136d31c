"""Sequential inference: results a team may read every day without inflating false positives.

Two methods, both on a difference estimate ``Δ̂`` with (estimated) variance ``V`` that is, over the
life of an experiment, approximately a Brownian motion observed at information ``1/V``:

**Mixture SPRT (default; no horizon).** The normal-mixture sequential probability ratio test
(Robbins 1970; Johari, Pekelis & Walsh, "Always valid inference", 2017). With a normal mixing
distribution ``N(0, τ²)`` over the true difference, the likelihood ratio of ``H0: Δ = θ`` is

    Λ(θ) = sqrt(V / (V + τ²)) · exp( τ² (Δ̂ - θ)² / (2 V (V + τ²)) )

a non-negative martingale under H0, so ``P(sup_t Λ_t ≥ 1/α) ≤ α`` (Ville's inequality). Hence

* the always-valid p-value ``p_t = min(1, 1 / Λ_t(0))``: ``P(∃t: p_t ≤ α) ≤ α``;
* the always-valid interval ``{θ: Λ_t(θ) < 1/α}``:
  ``Δ̂ ± sqrt( V (V + τ²) / τ² · (2 ln(1/α) + ln((V + τ²) / V)) )``, which covers the true
  difference at every look simultaneously with probability ``≥ 1 - α``.

Valid for any number of looks, at any times, for ever; the price is conservatism: with 10 looks the
false-positive rate is about 1 % at α = 0.05 (``tests/monitoring/test_sequential.py`` measures it).
``τ`` (the mixing standard deviation, in the metric's units) should be about the size of effect one
cares about: the report uses ``tau_relative × |control value|`` for acceptance and kept rate and the
non-inferiority margin for the guardrails (:mod:`nextedit.monitoring.report`).

**Alpha spending (with a planned horizon).** When the team names the information it will collect
(``--planned-users``), a group-sequential test with a Lan–DeMets spending function spends exactly α
over the looks: the O'Brien–Fleming-type ``α(t) = 2 - 2Φ(z_{α/2} / √t)`` (default) or the
Pocock-type ``α(t) = α ln(1 + (e - 1) t)``, where ``t`` is the information fraction at a look
(users so far / planned users, capped at 1). Looks may be taken at any times (the boundaries of
look ``k`` depend only on the fractions of looks ``1..k``); the report assumes one look per UTC day
since the start (looking less often than that only makes it conservative). Boundaries come from the
exact recursive integration of the Brownian motion over the looks (Armitage, McPherson & Rowe 1969)
on a grid. The repeated confidence interval at look ``k`` is ``Δ̂ ± c_k √V`` and the repeated
p-value the smallest α at which look ``k`` would reject. The false-positive rate at 10 looks is α.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from nextedit.monitoring.distributions import norm_ppf, norm_sf

# ------------------------------------------------------------------------------------------ mSPRT


def msprt_log_lr(diff, variance, tau: float | np.ndarray, theta: float = 0.0):  # noqa: ANN001, ANN201
    """``ln Λ(θ)`` of the normal-mixture SPRT (arrays broadcast)."""
    v = np.asarray(variance, dtype=float)
    t2 = np.asarray(tau, dtype=float) ** 2
    d = np.asarray(diff, dtype=float) - theta
    with np.errstate(divide="ignore", invalid="ignore"):
        return 0.5 * np.log(v / (v + t2)) + t2 * d * d / (2.0 * v * (v + t2))


def msprt_p_value(diff, variance, tau):  # noqa: ANN001, ANN201
    """Always-valid p-value ``min(1, 1/Λ(0))``."""
    return np.exp(-np.maximum(msprt_log_lr(diff, variance, tau), 0.0))


def msprt_interval(diff, variance, tau, alpha: float = 0.05):  # noqa: ANN001, ANN201
    """Always-valid ``1 - alpha`` interval ``(lo, hi)`` around ``diff``."""
    v = np.asarray(variance, dtype=float)
    t2 = np.asarray(tau, dtype=float) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        half = np.sqrt(v * (v + t2) / t2 * (2.0 * math.log(1.0 / alpha) + np.log((v + t2) / v)))
    return np.asarray(diff) - half, np.asarray(diff) + half


# ----------------------------------------------------------------------------- alpha spending

SpendingFunction = Callable[[float, float], float]  # (information fraction t, alpha) -> alpha spent by t


def obrien_fleming(t: float, alpha: float) -> float:
    """Lan–DeMets O'Brien–Fleming-type spending: ``2 - 2Φ(z_{α/2}/√t)`` (spends little early)."""
    if t <= 0:
        return 0.0
    return min(alpha, 2.0 * norm_sf(norm_ppf(1 - alpha / 2) / math.sqrt(min(t, 1.0))))


def pocock(t: float, alpha: float) -> float:
    """Lan–DeMets Pocock-type spending: ``α ln(1 + (e - 1) t)`` (spends evenly)."""
    return alpha * math.log(1.0 + (math.e - 1.0) * min(max(t, 0.0), 1.0))


SPENDING: dict[str, SpendingFunction] = {"obrien-fleming": obrien_fleming, "pocock": pocock}


@dataclass(frozen=True)
class GroupSequentialDesign:
    """Two-sided boundaries ``z_bounds[k]`` (on the z-scale) for looks at information fractions
    ``fractions`` (increasing, in (0, 1]); ``alpha_spent[k]`` is the cumulative α spent by look k."""

    fractions: tuple[float, ...]
    z_bounds: tuple[float, ...]
    alpha_spent: tuple[float, ...]


def _crossing_probability(density: np.ndarray, grid: np.ndarray, h: float, step_sd: float, b: float) -> float:
    """P(|W_next| ≥ b and no earlier crossing) given the continuation sub-density on ``grid``."""
    upper = norm_sf((b - grid) / step_sd)
    lower = norm_sf((b + grid) / step_sd)
    return float(np.sum(density * (upper + lower)) * h)


@lru_cache(maxsize=16)
def _propagation(
    fractions: tuple[float, ...], points: int
) -> tuple[np.ndarray, float, tuple[np.ndarray, ...]]:
    """The grid over ``±8√t_max``, its step, and the normal kernel carrying the sub-density from each
    look to the next (independent of α, so a p-value's bisection reuses them). The grid has at least
    ``points`` values and 12 per standard deviation of the smallest step (at most 4001)."""
    half_width = 8.0 * math.sqrt(fractions[-1])
    steps = [math.sqrt(b - a) for a, b in zip(fractions, fractions[1:], strict=False)]
    if steps:
        points = max(points, min(4001, int(2 * half_width * 12 / min(steps)) + 1))
    grid = np.linspace(-half_width, half_width, points)
    h = float(grid[1] - grid[0])
    kernels = tuple(
        np.exp(-0.5 * ((grid[:, None] - grid[None, :]) / sd) ** 2) * (h / (math.sqrt(2 * math.pi) * sd))
        for sd in steps
    )
    return grid, h, kernels


def design(
    fractions: Sequence[float], alpha: float = 0.05, spending: str = "obrien-fleming", *, points: int = 801
) -> GroupSequentialDesign:
    """Boundaries of a Lan–DeMets group-sequential design for looks at ``fractions``.

    Works on the Brownian motion ``W(t) ~ N(0, t)``: the continuation sub-density after each look is
    carried to the next by a normal kernel on a grid (:func:`_propagation`); each boundary
    ``b_k = c_k √t_k`` solves ``P(first crossing at k) = α(t_k) - α(t_{k-1})`` by bisection.
    """
    spend = SPENDING.get(spending)
    if spend is None:
        raise ValueError(f"unknown spending function {spending!r}; expected one of {', '.join(SPENDING)}")
    ts = tuple(min(float(t), 1.0) for t in fractions)
    if not ts or any(t <= 0 for t in ts) or any(b <= a for a, b in zip(ts, ts[1:], strict=False)):
        raise ValueError(f"information fractions must increase within (0, 1]: {list(fractions)}")
    grid, h, kernels = _propagation(ts, points)
    half_width = float(grid[-1])
    t1 = ts[0]
    density = np.exp(-0.5 * grid**2 / t1) / math.sqrt(2 * math.pi * t1)  # W(t1) ~ N(0, t1)
    bounds: list[float] = []
    spent: list[float] = []
    cumulative = 0.0
    for k, t in enumerate(ts):
        target = max(spend(t, alpha) - cumulative, 0.0)
        if k == 0:
            b = -math.sqrt(t) * norm_ppf(target / 2) if target > 1e-300 else half_width
        else:
            b = _solve_boundary(density, grid, h, math.sqrt(t - ts[k - 1]), target, half_width)
            density = kernels[k - 1] @ density
        b = min(b, half_width)
        density = np.where(np.abs(grid) < b, density, 0.0)
        cumulative += target
        bounds.append(b / math.sqrt(t))
        spent.append(cumulative)
    return GroupSequentialDesign(ts, tuple(bounds), tuple(spent))


def _solve_boundary(
    density: np.ndarray, grid: np.ndarray, h: float, step_sd: float, target: float, hi: float
) -> float:
    if target <= 0:
        return hi
    lo = 0.0
    if _crossing_probability(density, grid, h, step_sd, hi) >= target:
        return hi
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if _crossing_probability(density, grid, h, step_sd, mid) > target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def repeated_p_value(
    z: float, fractions: Sequence[float], spending: str = "obrien-fleming", *, tolerance: float = 1e-4
) -> float:
    """The smallest α at which the last look (z-score ``z``) would cross its boundary."""
    if not math.isfinite(z):
        return float("nan")
    lo, hi = 1e-8, 0.5
    if abs(z) < design(fractions, hi, spending).z_bounds[-1]:
        return 1.0  # not significant even at α = 0.5
    while hi - lo > tolerance * max(lo, 1e-3):
        mid = math.sqrt(lo * hi) if hi / lo > 10 else 0.5 * (lo + hi)
        if abs(z) >= design(fractions, mid, spending).z_bounds[-1]:
            hi = mid
        else:
            lo = mid
    return hi
