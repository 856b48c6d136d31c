"""Synthetic users for validating the statistics (tests) and for power figures (``bench ab``).

A user has an activity ``λ ~ Gamma(shape, mean_shown / shape)`` (predictions shown per experiment
period: a few heavy users, many light ones) and an acceptance propensity ``p ~ Beta`` with mean
``acceptance`` and ``a + b = concentration`` (between-user heterogeneity). Over the experiment it is
shown ``n ~ Poisson(λ)`` predictions and accepts ``y ~ Binomial(n, min(1, p (1 + lift)))``; over a
pre-period of relative length ``pre_period`` it was shown ``n0 ~ Poisson(λ · pre_period)`` and
accepted ``y0 ~ Binomial(n0, p)`` — the same user, untreated, which is what CUPED exploits.

The arm's true acceptance rate (ratio of expected sums) is ``E[λ p'] / E[λ] = E[p']`` since ``λ`` and
``p`` are independent: ``acceptance · (1 + lift)`` up to the clipping at 1, which the defaults make
negligible (``P(p (1 + lift) > 1) < 1e-6`` for lifts up to 20 %).

Arrays are ``shape + (users,)``: a leading axis of simulations runs a thousand experiments at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nextedit.monitoring.ratio import RatioSample


@dataclass(frozen=True)
class UserModel:
    mean_shown: float = 20.0
    activity_shape: float = 1.0
    acceptance: float = 0.3
    concentration: float = 10.0
    pre_period: float = 1.0  # 0: no pre-period

    def true_rate(self, lift: float = 0.0) -> float:
        return self.acceptance * (1.0 + lift)


def simulate_arm(
    rng: np.random.Generator, model: UserModel, users: int, *, sims: int = 1, lift: float = 0.0
) -> RatioSample:
    """``sims`` independent arms of ``users`` users each (arrays ``(sims, users)``)."""
    shape = (sims, users)
    activity = rng.gamma(model.activity_shape, model.mean_shown / model.activity_shape, size=shape)
    a = model.acceptance * model.concentration
    propensity = rng.beta(a, model.concentration - a, size=shape)
    shown = rng.poisson(activity)
    accepted = rng.binomial(shown, np.minimum(1.0, propensity * (1.0 + lift)))
    if model.pre_period <= 0:
        return RatioSample(accepted.astype(float), shown.astype(float))
    shown_pre = rng.poisson(activity * model.pre_period)
    accepted_pre = rng.binomial(shown_pre, propensity)
    return RatioSample(
        accepted.astype(float), shown.astype(float), accepted_pre.astype(float), shown_pre.astype(float)
    )


def prefix(sample: RatioSample, users: int) -> RatioSample:
    """The first ``users`` users of each simulated arm: the data of an earlier look (users enter
    the experiment one after the other)."""

    def cut(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else a[..., :users]

    return RatioSample(cut(sample.y), cut(sample.n), cut(sample.y_pre), cut(sample.n_pre))
