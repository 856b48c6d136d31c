"""The SRM check validated by simulation, and the chi-square it rests on."""

from __future__ import annotations

import numpy as np
import pytest

from nextedit.monitoring.distributions import chi2_sf
from nextedit.monitoring.srm import SRM_ALPHA, srm_check, srm_chi2

USERS, SIMS = 20_000, 1000


def _p_values(rng: np.random.Generator, actual: list[float], configured: list[float]) -> np.ndarray:
    counts = rng.multinomial(USERS, actual, size=SIMS)
    chi2, df = srm_chi2(counts, configured)
    return np.array([chi2_sf(x, df) for x in chi2])


def test_srm_detected_when_weights_are_off_by_5_percent() -> None:
    rng = np.random.default_rng(3)
    p = _p_values(rng, [0.525, 0.475], [0.5, 0.5])  # the treatment gets 5 % more than configured
    assert np.mean(p < SRM_ALPHA) >= 0.99
    three = _p_values(rng, [0.4 * 1.05, 0.3, 0.3 - 0.4 * 0.05], [0.4, 0.3, 0.3])
    assert np.mean(three < SRM_ALPHA) >= 0.99


def test_no_false_alarm_when_users_follow_the_weights() -> None:
    rng = np.random.default_rng(4)
    p = _p_values(rng, [0.9, 0.1], [9, 1])  # weights need not sum to 1
    assert np.mean(p < SRM_ALPHA) <= 0.005
    assert 0.03 <= np.mean(p < 0.05) <= 0.07  # p-values uniform under H0


def test_srm_check_result() -> None:
    r = srm_check([10_500, 9_500], [1, 1])
    assert r.df == 1 and r.chi2 == pytest.approx(50.0) and r.mismatch
    assert r.expected == (10_000, 10_000)
    assert not srm_check([10_050, 9_950], [0.5, 0.5]).mismatch
    with pytest.raises(ValueError):
        srm_check([1], [1])


@pytest.mark.parametrize(
    ("x", "df", "p"),
    [
        (3.841458820694124, 1, 0.05),
        (5.991464547107979, 2, 0.05),
        (6.634896601021214, 1, 0.01),
        (0.5, 3, 0.918891),
    ],
)
def test_chi2_sf_known_values(x: float, df: int, p: float) -> None:
    assert chi2_sf(x, df) == pytest.approx(p, rel=1e-5)
