"""Ratio metrics over user clusters: the delta method, and CUPED with a pre-period covariate.

The unit of randomization is the user, so a per-request rate (accepted / shown, errors / requests,
kept-rate sum / settled) is a **ratio of two per-user sums**: ``R = Σ y_i / Σ n_i`` over the users
``i`` of an arm. Its variance comes from the delta method on the user totals, which is the same as
the variance of the mean of the *linearized* per-user values

    l_i = (y_i - R n_i) / n̄          Var(R̂) ≈ Var(l) / m            (m users, n̄ = mean n_i)

A plain two-proportion test on requests would treat a user's correlated requests as independent and
overstate significance; this does not.

**CUPED.** When users have a pre-period (their rows before the experiment started), the same ratio
over the pre-period, linearized with the pooled pre-period ratio ``R0`` of both arms,
``x_i = (y0_i - R0 n0_i) / n̄0``, is a covariate that treatment cannot have changed. With the pooled
within-arm slope ``θ = Σ_a Cov(l, x) / Σ_a Var(x)``, the adjusted difference

    Δ̂ = (R̂_t - R̂_c) - θ (x̄_t - x̄_c)      Var(Δ̂) = Var_t(l - θx)/m_t + Var_c(l - θx)/m_c

is unbiased (randomization makes ``E[x̄_t - x̄_c] = 0``) with its variance cut by about
``ρ²`` (the squared correlation of ``l`` and ``x``). Users without a pre-period get ``x_i = 0`` (the
covariate's mean), which costs variance reduction, not validity.

Every function works on the last axis and broadcasts over leading ones: one experiment passes 1-D
per-user arrays, a simulation passes ``(simulations, users)`` arrays.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from nextedit.monitoring.distributions import norm_ppf, two_sided_p


@dataclass(frozen=True)
class RatioSample:
    """One arm's per-user totals: ``y`` numerators, ``n`` denominators (same shape, users last);
    ``y_pre``/``n_pre`` the same ratio over each user's pre-period (zeros where a user has none)."""

    y: np.ndarray
    n: np.ndarray
    y_pre: np.ndarray | None = None
    n_pre: np.ndarray | None = None

    @property
    def users(self) -> int:
        return self.y.shape[-1]


@dataclass(frozen=True)
class Estimate:
    """A point estimate and the variance of its estimator (same units squared)."""

    value: np.ndarray | float
    variance: np.ndarray | float

    @property
    def se(self) -> np.ndarray | float:
        return np.sqrt(self.variance)

    def ci(self, alpha: float = 0.05) -> tuple[np.ndarray | float, np.ndarray | float]:
        """Two-sided ``1 - alpha`` normal interval."""
        half = norm_ppf(1 - alpha / 2) * self.se
        return self.value - half, self.value + half

    def p_value(self) -> np.ndarray | float:
        """Two-sided p-value of ``value = 0``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return two_sided_p(np.asarray(self.value / self.se, dtype=float))


@dataclass(frozen=True)
class Difference(Estimate):
    """``treatment - control`` of a ratio metric; ``variance_reduction`` is ``1 - Var_cuped/Var_plain``
    (0 without a pre-period)."""

    variance_reduction: np.ndarray | float = 0.0


F = TypeVar("F", bound=Callable)


def _no_data_is_nan(fn: F) -> F:
    """An arm with no user (or no denominator) gives nan figures, without numpy's warnings."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _mean(a: np.ndarray) -> np.ndarray:
    return a.mean(axis=-1)


def _linearized(y: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(R̂, per-user linearized values l_i); nan where an arm has no denominator."""
    r = y.sum(axis=-1) / n.sum(axis=-1)
    return r, (y - r[..., None] * n) / _mean(n)[..., None]


def _var(a: np.ndarray) -> np.ndarray:
    """Sample variance (ddof 1) along the last axis."""
    return a.var(axis=-1, ddof=1)


def _centered_cov(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return ((a - _mean(a)[..., None]) * (b - _mean(b)[..., None])).sum(axis=-1)


@_no_data_is_nan
def ratio_estimate(sample: RatioSample) -> Estimate:
    """One arm's ``Σy / Σn`` with its delta-method variance (no covariate)."""
    r, lin = _linearized(sample.y, sample.n)
    return Estimate(r, _var(lin) / sample.users)


@_no_data_is_nan
def ratio_difference(treatment: RatioSample, control: RatioSample, *, cuped: bool = True) -> Difference:
    """``R_t - R_c`` with the delta-method variance, CUPED-adjusted when both arms carry a pre-period
    (``cuped=False`` gives the plain delta-method difference)."""
    rt, lt = _linearized(treatment.y, treatment.n)
    rc, lc = _linearized(control.y, control.n)
    plain_var = _var(lt) / treatment.users + _var(lc) / control.users
    diff = rt - rc
    if not (cuped and treatment.y_pre is not None and control.y_pre is not None):
        return Difference(diff, plain_var, 0.0)
    y0 = np.concatenate([treatment.y_pre, control.y_pre], axis=-1)
    n0 = np.concatenate([treatment.n_pre, control.n_pre], axis=-1)
    r0 = (y0.sum(axis=-1) / n0.sum(axis=-1))[..., None]
    scale = _mean(n0)[..., None]
    # no pre-period at all (in some simulation): a zero covariate, hence θ = 0 and no adjustment
    xt = np.nan_to_num((treatment.y_pre - r0 * treatment.n_pre) / scale, nan=0.0, posinf=0.0, neginf=0.0)
    xc = np.nan_to_num((control.y_pre - r0 * control.n_pre) / scale, nan=0.0, posinf=0.0, neginf=0.0)
    theta = (_centered_cov(lt, xt) + _centered_cov(lc, xc)) / (_centered_cov(xt, xt) + _centered_cov(xc, xc))
    theta = np.where(np.isfinite(theta), theta, 0.0)[..., None]
    adj_diff = diff - theta[..., 0] * (_mean(xt) - _mean(xc))
    adj_var = _var(lt - theta * xt) / treatment.users + _var(lc - theta * xc) / control.users
    reduction = 1.0 - adj_var / plain_var
    return Difference(adj_diff, adj_var, reduction)
