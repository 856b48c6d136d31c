"""Sequential tests validated by simulation: 1,000 A/A experiments, each looked at 10 times.

Users enter one after the other; look ``k`` analyses the first ``k/10`` of each arm's 2,000 users
(acceptance rate, delta method with CUPED). Peeking with a fixed-horizon test inflates the false
positive rate far above α; the alpha-spending design holds it at α; the mixture SPRT stays below α
(it is valid for unlimited looks, so 10 looks cost it power, not validity).
"""

from __future__ import annotations

import numpy as np
import pytest

from nextedit.monitoring import sequential
from nextedit.monitoring.ratio import ratio_difference
from nextedit.monitoring.simulation import UserModel, prefix, simulate_arm

SIMS, USERS, LOOKS, ALPHA = 1000, 2000, 10, 0.05
MODEL = UserModel()


@pytest.fixture(scope="module")
def aa_looks():
    """(diff, variance) arrays of shape (looks, sims) for 1,000 A/A experiments."""
    rng = np.random.default_rng(1)
    t = simulate_arm(rng, MODEL, USERS, sims=SIMS)
    c = simulate_arm(rng, MODEL, USERS, sims=SIMS)
    looks = [
        ratio_difference(prefix(t, USERS * k // LOOKS), prefix(c, USERS * k // LOOKS)) for k in range(1, 11)
    ]
    return np.array([d.value for d in looks]), np.array([d.variance for d in looks])


def test_peeking_with_a_fixed_horizon_test_inflates_false_positives(aa_looks) -> None:
    diff, var = aa_looks
    z = diff / np.sqrt(var)
    assert 0.03 <= np.mean(np.abs(z[-1]) >= 1.96) <= 0.07  # one look: calibrated
    assert np.mean((np.abs(z) >= 1.96).any(axis=0)) > 0.12  # ten looks: not


@pytest.mark.parametrize("spending", ["obrien-fleming", "pocock"])
def test_alpha_spending_holds_alpha_at_10_looks(aa_looks, spending: str) -> None:
    diff, var = aa_looks
    bounds = np.array(sequential.design([k / LOOKS for k in range(1, 11)], ALPHA, spending).z_bounds)
    rejected = (np.abs(diff / np.sqrt(var)) >= bounds[:, None]).any(axis=0)
    assert 0.03 <= rejected.mean() <= 0.07, rejected.mean()


def test_msprt_false_positives_stay_below_alpha_and_its_interval_covers_at_every_look(aa_looks) -> None:
    diff, var = aa_looks
    tau = 0.05 * MODEL.acceptance
    p = sequential.msprt_p_value(diff, var, tau)
    false_positives = np.mean((p <= ALPHA).any(axis=0))
    assert false_positives <= ALPHA, false_positives
    lo, hi = sequential.msprt_interval(diff, var, tau, ALPHA)
    assert np.mean(((lo <= 0) & (hi >= 0)).all(axis=0)) >= 1 - ALPHA  # simultaneous coverage


def test_design_matches_known_boundaries() -> None:
    one = sequential.design([1.0], 0.05)
    assert one.z_bounds[0] == pytest.approx(1.959964, abs=1e-5)
    of = sequential.design([0.2, 0.4, 0.6, 0.8, 1.0], 0.05, "obrien-fleming")
    assert of.z_bounds[0] == pytest.approx(1.959964 / np.sqrt(0.2), abs=1e-4)  # α(t1) spent exactly
    assert of.alpha_spent[-1] == pytest.approx(0.05)
    assert list(of.z_bounds) == sorted(of.z_bounds, reverse=True)
    pocock = sequential.design([0.2, 0.4, 0.6, 0.8, 1.0], 0.05, "pocock")
    assert max(pocock.z_bounds) - min(pocock.z_bounds) < 0.3 and 2.3 < pocock.z_bounds[-1] < 2.5
    with pytest.raises(ValueError, match="increase"):
        sequential.design([0.5, 0.4])


def test_repeated_p_value_agrees_with_the_boundary() -> None:
    fractions = [0.25, 0.5, 0.75, 1.0]
    bound = sequential.design(fractions, 0.05).z_bounds[-1]
    assert sequential.repeated_p_value(bound + 0.01, fractions) <= 0.05 + 1e-3
    assert sequential.repeated_p_value(bound - 0.05, fractions) > 0.05
    assert sequential.repeated_p_value(0.1, fractions) == 1.0
