"""Delta method and CUPED validated by simulation: interval coverage of a known effect."""

from __future__ import annotations

import numpy as np
import pytest

from nextedit.monitoring.ratio import RatioSample, ratio_difference, ratio_estimate
from nextedit.monitoring.simulation import UserModel, simulate_arm

SIMS, USERS, LIFT = 1000, 2000, 0.05
MODEL = UserModel()


@pytest.fixture(scope="module")
def experiments():
    rng = np.random.default_rng(7)
    return simulate_arm(rng, MODEL, USERS, sims=SIMS, lift=LIFT), simulate_arm(rng, MODEL, USERS, sims=SIMS)


@pytest.mark.parametrize("cuped", [True, False])
def test_known_effect_interval_coverage(experiments, cuped: bool) -> None:
    treatment, control = experiments
    d = ratio_difference(treatment, control, cuped=cuped)
    true = MODEL.true_rate(LIFT) - MODEL.true_rate()
    lo, hi = d.ci(0.05)
    coverage = np.mean((lo <= true) & (true <= hi))
    assert 0.93 <= coverage <= 0.97, coverage
    assert abs(np.mean(d.value) - true) < 0.1 * true  # unbiased (to simulation noise)


def test_cuped_cuts_variance_and_keeps_the_estimate(experiments) -> None:
    treatment, control = experiments
    plain = ratio_difference(treatment, control, cuped=False)
    adjusted = ratio_difference(treatment, control)
    assert np.mean(adjusted.variance) < 0.7 * np.mean(plain.variance)
    assert np.mean(adjusted.variance_reduction) > 0.3
    # the variance it claims is the variance it has, across the 1,000 experiments
    assert np.var(adjusted.value) == pytest.approx(np.mean(adjusted.variance), rel=0.15)


def test_request_level_test_overstates_significance_the_delta_method_does_not(experiments) -> None:
    """The A/A half of the simulation: a two-proportion z-test on requests ignores that a user's
    requests are correlated and rejects far too often; the delta method over users does not."""
    _, control = experiments
    a, b = (
        RatioSample(control.y[:, :1000], control.n[:, :1000]),
        RatioSample(control.y[:, 1000:], control.n[:, 1000:]),
    )
    d = ratio_difference(a, b, cuped=False)
    assert 0.03 <= np.mean(d.p_value() < 0.05) <= 0.07
    ya, na, yb, nb = a.y.sum(-1), a.n.sum(-1), b.y.sum(-1), b.n.sum(-1)
    pooled = (ya + yb) / (na + nb)
    z = (ya / na - yb / nb) / np.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
    assert np.mean(np.abs(z) >= 1.96) > 0.15


def test_ratio_estimate_of_one_arm() -> None:
    s = RatioSample(np.array([1.0, 2.0, 0.0, 3.0]), np.array([2.0, 4.0, 1.0, 5.0]))
    est = ratio_estimate(s)
    assert est.value == pytest.approx(6 / 12)
    lo, hi = est.ci()
    assert lo < est.value < hi
    empty = ratio_estimate(RatioSample(np.zeros(3), np.zeros(3)))
    assert np.isnan(empty.value)
