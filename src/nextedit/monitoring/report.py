"""The A/B report: per-arm figures, comparisons with the control, SRM, sequential tests, decision.

:func:`ab_report` reads the store and returns a JSON-ready dict; :func:`build_report` does the
statistics on per-user tables (:class:`~nextedit.monitoring.user_table.ArmUsers`) already read, so
simulations and tests can call it without a store. The dict (``docs/ab.md`` describes every field):

    {"window": {...}, "control": "control", "primary": "acceptance_rate",
     "sequential": {"method": "msprt" | "alpha-spending", ...parameters},
     "arms": [{"name", "weight", "users", "users_with_pre_period", "requests", "shown", "accepted",
               "settled", "metrics": {metric: {"value", "ci": [lo, hi]}}}],
     "comparisons": [{"arm", "control", "metric", "role", "diff", "relative_diff", "ci", "p_value",
                      "sequential": {"ci", "p_value"}, "margin", "cuped_variance_reduction",
                      "verdict"}],
     "srm": {"p_value", "chi2", "df", "observed", "expected", "mismatch"},
     "excluded": {"users_in_several_arms": n},
     "decision": {"action", "arm", "why", "line", "arms": {arm: {"action", "why"}}}}

Metrics: ``acceptance_rate``, ``kept_rate`` and ``error_rate`` are ratios over user clusters
(:mod:`~nextedit.monitoring.ratio`: delta method, CUPED with the pre-period); ``latency_p95_ms``
the p95 of ``ok`` requests' ``total_ms`` with a user-cluster bootstrap
(:mod:`~nextedit.monitoring.quantile`). ``ci``/``p_value`` are fixed-horizon 95 % figures;
``sequential`` holds the ones valid at every look (:mod:`~nextedit.monitoring.sequential`), and the
decision (:mod:`~nextedit.monitoring.decision`) uses only those. ``diff`` is in the metric's units
(a rate difference is a fraction: 0.02 = 2 percentage points).

The mSPRT mixing scale τ is ``tau_relative × |control value|`` for acceptance and kept rate, and the
non-inferiority margin for a guardrail (``latency_margin × control p95``; ``error_margin``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from nextedit.errors import NexteditError
from nextedit.monitoring import sequential
from nextedit.monitoring.decision import GUARDRAIL, PRIMARY, SECONDARY, Comparison, decide
from nextedit.monitoring.distributions import two_sided_p
from nextedit.monitoring.quantile import (
    QuantileBootstrap,
    bootstrap_quantile,
    bootstrap_quantile_binned,
    quantile_difference,
)
from nextedit.monitoring.ratio import RatioSample, ratio_difference, ratio_estimate
from nextedit.monitoring.srm import SRM_ALPHA, srm_check
from nextedit.monitoring.user_table import LATENCY_METRIC, RATIO_METRICS, ArmUsers
from nextedit.monitoring.window import Window, iso

DAY = 86400.0


@dataclass(frozen=True)
class ArmSpec:
    """One ``[[experiments]]`` entry as the report needs it; ``weight=None``: unknown (no config)."""

    name: str
    weight: float | None = None


@dataclass(frozen=True)
class AbSettings:
    """Parameters of the analysis (all documented in ``docs/ab.md``).

    ``latency_margin`` is relative (0.10: the arm's p95 may be at most 10 % above the control's);
    ``error_margin`` absolute (0.005: at most 0.5 percentage points more errors)."""

    alpha: float = 0.05
    primary: str = "acceptance_rate"
    tau_relative: float = 0.05
    latency_margin: float = 0.10
    error_margin: float = 0.005
    planned_users: int | None = None  # set: alpha spending over daily looks; None: mSPRT
    spending: str = "obrien-fleming"
    cuped: bool = True
    bootstrap: int = 200
    seed: int = 0

    def check(self) -> None:
        if self.primary not in ("acceptance_rate", "kept_rate"):
            raise NexteditError(f"--primary {self.primary!r}: expected acceptance_rate or kept_rate")
        if not 0 < self.alpha < 1:
            raise NexteditError(f"--alpha {self.alpha}: expected a number in (0, 1)")
        if self.planned_users is not None and self.planned_users < 1:
            raise NexteditError(f"--planned-users {self.planned_users}: expected a positive number")
        if self.spending not in sequential.SPENDING:
            raise NexteditError(
                f"--spending {self.spending!r}: expected one of {', '.join(sequential.SPENDING)}"
            )
        if self.latency_margin <= 0 or self.error_margin <= 0 or self.tau_relative <= 0:
            raise NexteditError("--latency-margin, --error-margin and --tau must be positive")


def _num(x: float | np.ndarray | None) -> float | None:
    """A JSON number: nan/inf (no data) become None."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _interval(lo: float, hi: float) -> list[float | None]:
    return [_num(lo), _num(hi)]


def _ratio_sample(arm: ArmUsers, metric: str, with_pre: bool) -> RatioSample:
    num, den = RATIO_METRICS[metric]
    if not with_pre:
        return RatioSample(arm.during[num], arm.during[den])
    return RatioSample(arm.during[num], arm.during[den], arm.pre[num], arm.pre[den])


def information_fractions(arms: Sequence[ArmUsers], since: float, until: float, planned: int) -> list[float]:
    """Information fraction (users seen / planned users, capped at 1) at the end of each UTC day
    after ``since`` and at ``until``: the looks of the alpha-spending test."""
    seen = np.sort(np.concatenate([a.first_seen for a in arms])) if arms else np.zeros(0)
    looks = [d for d in np.arange(math.floor(since / DAY) * DAY + DAY, until, DAY) if d > since] + [until]
    fractions: list[float] = []
    for t in looks:
        f = min(1.0, float(np.searchsorted(seen, t, side="right")) / planned)
        if f > 0 and (not fractions or f > fractions[-1]):
            fractions.append(f)
        if f >= 1.0:
            break
    return fractions or [min(1.0, max(len(seen), 1) / planned)]


def _p95(arm: ArmUsers, settings: AbSettings, rng: np.random.Generator) -> QuantileBootstrap:
    """The arm's latency p95 with its user-cluster bootstrap, of the binned latencies when it has them."""
    if arm.latency_hist is not None and arm.latency_bin_ms is not None:
        return bootstrap_quantile_binned(
            arm.latency_hist, arm.latency_bin_ms, q=0.95, replicates=settings.bootstrap, rng=rng
        )
    return bootstrap_quantile(
        arm.latency_ms, arm.latency_user, arm.users, q=0.95, replicates=settings.bootstrap, rng=rng
    )


def _exact_p(diff: float) -> float:
    """The p-value of a difference estimated without variance: 1 when it is 0, else 0."""
    return 1.0 if diff == 0 else 0.0


class _Sequential:
    """Turns (diff, variance, τ) into the sequential interval and p-value of the chosen method."""

    def __init__(self, settings: AbSettings, fractions: list[float] | None) -> None:
        self.settings = settings
        self.fractions = fractions
        self.bound = (
            sequential.design(fractions, settings.alpha, settings.spending).z_bounds[-1]
            if fractions
            else None
        )

    def describe(self) -> dict:
        s = self.settings
        if self.fractions is None:
            return {
                "method": "msprt",
                "alpha": s.alpha,
                "mixture": "normal",
                "tau_relative": s.tau_relative,
                "guardrail_tau": "the non-inferiority margin",
            }
        return {
            "method": "alpha-spending",
            "alpha": s.alpha,
            "spending": s.spending,
            "planned_users": s.planned_users,
            "looks": len(self.fractions),
            "information_fraction": self.fractions[-1],
            "z_bound": self.bound,
        }

    def __call__(self, diff: float, variance: float, tau: float) -> tuple[tuple[float, float], float]:
        if not (math.isfinite(diff) and math.isfinite(variance)):
            return (math.nan, math.nan), math.nan
        if variance == 0:  # e.g. no error in either arm: the difference is known exactly
            return (diff, diff), _exact_p(diff)
        if self.fractions is None:
            tau = tau if math.isfinite(tau) and tau > 0 else math.sqrt(variance)
            lo, hi = sequential.msprt_interval(diff, variance, tau, self.settings.alpha)
            return (float(lo), float(hi)), float(sequential.msprt_p_value(diff, variance, tau))
        se = math.sqrt(variance)
        z = diff / se
        p = sequential.repeated_p_value(z, self.fractions, self.settings.spending)
        return (diff - self.bound * se, diff + self.bound * se), p


def build_report(
    arms: Sequence[ArmUsers],
    specs: Sequence[ArmSpec],
    control: str,
    settings: AbSettings,
    *,
    window: Window,
    excluded_users: int = 0,
) -> dict:
    """The report dict of the module docstring from per-user tables (``arms`` in ``specs`` order)."""
    settings.check()
    by_name = {a.name: a for a in arms}
    if control not in by_name:
        raise NexteditError(f"--control {control!r}: not an experiment ({', '.join(by_name)})")
    rng = np.random.default_rng(settings.seed)
    since = window.since if window.since is not None else window.until
    fractions = (
        information_fractions(arms, since, window.until, settings.planned_users)
        if settings.planned_users
        else None
    )
    seq = _Sequential(settings, fractions)
    latency: dict[str, QuantileBootstrap] = {a.name: _p95(a, settings, rng) for a in arms}
    weights = {s.name: s.weight for s in specs}
    arm_rows = []
    for a in arms:
        metrics = {}
        for name in RATIO_METRICS:
            est = ratio_estimate(_ratio_sample(a, name, False))
            metrics[name] = {"value": _num(est.value), "ci": _interval(*est.ci(settings.alpha))}
        lat = latency[a.name]
        metrics[LATENCY_METRIC] = {"value": _num(lat.value), "ci": _interval(*lat.ci(settings.alpha))}
        arm_rows.append(
            {
                "name": a.name,
                "weight": weights.get(a.name),
                "users": a.users,
                "users_with_pre_period": a.users_with_pre_period,
                "requests": a.requests(),
                **{k: int(a.during[k].sum()) for k in ("shown", "accepted", "settled")},
                "metrics": metrics,
            }
        )
    secondary = "kept_rate" if settings.primary == "acceptance_rate" else "acceptance_rate"
    roles = {
        settings.primary: PRIMARY,
        secondary: SECONDARY,
        LATENCY_METRIC: GUARDRAIL,
        "error_rate": GUARDRAIL,
    }
    ctrl = by_name[control]
    comparisons = [
        _compare(a, ctrl, metric, role, latency, settings, seq)
        for a in arms
        if a.name != control
        for metric, role in roles.items()
    ]
    srm = _srm(arms, weights)
    decision = decide(comparisons, control=control, srm_p=srm["p_value"], srm_alpha=SRM_ALPHA)
    return {
        "window": {
            "since": iso(window.since),
            "until": iso(window.until),
            "pre_since": iso(window.pre_since),
        },
        "control": control,
        "primary": settings.primary,
        "settings": asdict(settings),
        "sequential": seq.describe(),
        "arms": arm_rows,
        "comparisons": [_comparison_row(c) for c in comparisons],
        "srm": srm,
        "excluded": {"users_in_several_arms": excluded_users},
        "decision": {
            "action": decision.action,
            "arm": decision.arm,
            "why": decision.why,
            "line": decision.line,
            "arms": {a: {"action": act, "why": why} for a, (act, why) in decision.per_arm.items()},
        },
    }


def _compare(
    arm: ArmUsers,
    ctrl: ArmUsers,
    metric: str,
    role: str,
    latency: dict[str, QuantileBootstrap],
    settings: AbSettings,
    seq: _Sequential,
) -> Comparison:
    margin = None
    if metric == LATENCY_METRIC:
        d = quantile_difference(latency[arm.name], latency[ctrl.name])
        control_value = latency[ctrl.name].value
        diff, variance, ci = d.value, d.se**2, d.ci(settings.alpha)
        p = float(two_sided_p(diff / d.se)) if d.se > 0 else math.nan
        reduction = None  # no covariate for a quantile
        margin = settings.latency_margin * control_value
        tau = margin
    else:
        with_pre = settings.cuped and arm.users_with_pre_period > 1 and ctrl.users_with_pre_period > 1
        d = ratio_difference(_ratio_sample(arm, metric, with_pre), _ratio_sample(ctrl, metric, with_pre))
        control_value = float(ratio_estimate(_ratio_sample(ctrl, metric, False)).value)
        diff, variance = float(d.value), float(d.variance)
        ci = tuple(float(x) for x in d.ci(settings.alpha))
        p = _exact_p(diff) if variance == 0 else float(d.p_value())
        reduction = float(d.variance_reduction)
        if metric == "error_rate":
            margin = tau = settings.error_margin
        else:
            tau = settings.tau_relative * abs(control_value)
    seq_ci, seq_p = seq(float(diff), float(variance), float(tau))
    return Comparison(
        arm=arm.name,
        control=ctrl.name,
        metric=metric,
        role=role,
        diff=float(diff),
        ci=(float(ci[0]), float(ci[1])),
        p_value=p,
        sequential_ci=seq_ci,
        sequential_p=seq_p,
        control_value=float(control_value),
        margin=margin,
        variance_reduction=reduction,
    )


def _comparison_row(c: Comparison) -> dict:
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = c.diff / c.control_value if c.control_value else math.nan
    return {
        "arm": c.arm,
        "control": c.control,
        "metric": c.metric,
        "role": c.role,
        "diff": _num(c.diff),
        "relative_diff": _num(relative),
        "ci": _interval(*c.ci),
        "p_value": _num(c.p_value),
        "sequential": {"ci": _interval(*c.sequential_ci), "p_value": _num(c.sequential_p)},
        "margin": _num(c.margin),
        "cuped_variance_reduction": _num(c.variance_reduction),
        "verdict": c.verdict,
    }


def _srm(arms: Sequence[ArmUsers], weights: dict[str, float | None]) -> dict:
    live = [a for a in arms if (weights.get(a.name) or 0) > 0]
    if any(weights.get(a.name) is None for a in arms) or len(live) < 2 or sum(a.users for a in live) == 0:
        why = (
            "no configured weights (give --config)"
            if any(w is None for w in weights.values())
            else ("fewer than two arms with a weight and users")
        )
        return {"p_value": None, "skipped": why}
    r = srm_check([a.users for a in live], [weights[a.name] for a in live])
    return {
        "p_value": r.p_value,
        "chi2": r.chi2,
        "df": r.df,
        "observed": {a.name: a.users for a in live},
        "expected": {a.name: e for a, e in zip(live, r.expected, strict=True)},
        "mismatch": r.mismatch,
        "alpha": SRM_ALPHA,
    }


def ab_report(
    specs: Sequence[ArmSpec],
    store_url: str,
    window: Window,
    *,
    control: str | None = None,
    settings: AbSettings = AbSettings(),  # noqa: B008 - frozen
    rollup: bool = True,
) -> dict:
    """Read the arms of ``specs`` from the store at ``store_url`` over ``window`` and report.
    ``rollup``: closed hours from :mod:`~nextedit.monitoring.ab_rollup` (refreshed, so the
    derived tables are created on first use); ``False``: every raw row (the same figures).

    ``window.since = None``: from the first request of any arm. ``window.pre_since = None``: a
    pre-period as long as the period, just before it (``settings.cuped=False``: none)."""
    from nextedit.monitoring.arm_reader import read_arms
    from nextedit.monitoring.store_reader import experiment_start, open_store_readonly

    settings.check()
    window.check()
    names = [s.name for s in specs]
    if len(names) < 2:
        raise NexteditError(f"an A/B report needs at least two experiments, got {names or 'none'}")
    control = control or names[0]
    if control not in names:
        raise NexteditError(f"--control {control!r}: not an experiment ({', '.join(names)})")
    engine = open_store_readonly(store_url)
    try:
        since = window.since
        if since is None:
            since = experiment_start(engine, names, window.until)
            if since is None:
                raise NexteditError(
                    f"{store_url}: no request of experiment {', '.join(names)} before {iso(window.until)}"
                )
        pre_since = window.pre_since
        if settings.cuped and pre_since is None:
            pre_since = since - (window.until - since)
        if not settings.cuped:
            pre_since = None
        resolved = Window(since, window.until, pre_since)
        arms, several = read_arms(
            engine, names, since=since, until=window.until, pre_since=pre_since, rollup=rollup
        )
    finally:
        engine.dispose()
    if not any(a.users for a in arms):
        raise NexteditError(
            f"{store_url}: no user of experiment {', '.join(names)} between {iso(since)} and {iso(window.until)}"
        )
    return build_report(arms, specs, control, settings, window=resolved, excluded_users=several)


def arms_from_config(config) -> list[ArmSpec]:  # noqa: ANN001 - a nextedit.server.config.ServerConfig
    """The arms of a server config: its ``[[experiments]]`` entries in order, with their weights."""
    return [ArmSpec(e.name, e.weight) for e in config.experiments]
