"""Power of the A/B analysis by simulation (``nextedit bench ab``).

For each relative lift of the acceptance rate (0 = an A/A experiment: the row is the false-positive
rate) and each number of users per arm, ``sims`` simulated experiments
(:mod:`nextedit.monitoring.simulation`) are analysed as ``nextedit ab report`` would, at ``looks``
equally spaced looks. Figures: the share of experiments that found the effect (two-sided, α = 0.05)

* ``fixed_cuped`` / ``fixed_plain``: one fixed-horizon test at the end, with and without CUPED;
* ``msprt``: the always-valid mixture SPRT at any of the looks (τ = ``tau_relative`` × the control
  rate, the report's default);
* ``alpha_spending``: the O'Brien–Fleming-type spending design over the looks;

and ``cuped_variance_reduction`` (mean ``1 - Var_cuped / Var_plain``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from nextedit.errors import NexteditError
from nextedit.monitoring import sequential
from nextedit.monitoring.ratio import ratio_difference
from nextedit.monitoring.simulation import UserModel, prefix, simulate_arm

ALPHA = 0.05


def bench_ab(
    *,
    users: Sequence[int] = (2000, 10000),
    lifts: Sequence[float] = (0.0, 0.02, 0.05, 0.10),
    sims: int = 400,
    looks: int = 10,
    tau_relative: float = 0.05,
    model: UserModel = UserModel(),  # noqa: B008 - frozen
    seed: int = 0,
    on_row: Callable[[dict], None] | None = None,
) -> list[dict]:
    """One row of power figures per (users per arm, lift); ``on_row`` is called as each is done."""
    if sims < 10 or looks < 1 or any(u < 10 * looks for u in users):
        raise NexteditError("bench ab: needs --sims >= 10, --looks >= 1 and --users >= 10 x looks")
    rng = np.random.default_rng(seed)
    fractions = [k / looks for k in range(1, looks + 1)]
    bounds = np.array(sequential.design(fractions, ALPHA, "obrien-fleming").z_bounds)
    tau = tau_relative * model.acceptance
    rows = []
    for n in users:
        for lift in lifts:
            treatment = simulate_arm(rng, model, n, sims=sims, lift=lift)
            control = simulate_arm(rng, model, n, sims=sims)
            msprt = np.zeros(sims, dtype=bool)
            spending = np.zeros(sims, dtype=bool)
            for k, f in enumerate(fractions):
                m = max(2, int(round(n * f)))
                d = ratio_difference(prefix(treatment, m), prefix(control, m))
                msprt |= sequential.msprt_p_value(d.value, d.variance, tau) <= ALPHA
                spending |= np.abs(d.value / np.sqrt(d.variance)) >= bounds[k]
            plain = ratio_difference(treatment, control, cuped=False)
            row = {
                "users_per_arm": n,
                "lift": f"{100 * lift:+.0f}%",
                "diff_pp": 100 * model.acceptance * lift,
                "fixed_cuped": float(np.mean(d.p_value() < ALPHA)),
                "fixed_plain": float(np.mean(plain.p_value() < ALPHA)),
                "msprt": float(np.mean(msprt)),
                "alpha_spending": float(np.mean(spending)),
                "cuped_variance_reduction": float(np.mean(d.variance_reduction)),
            }
            rows.append(row)
            if on_row:
                on_row(row)
    return rows
