"""The decision rules on hand-made comparisons (each rule once)."""

from __future__ import annotations

import math

from nextedit.monitoring.decision import GUARDRAIL, KEEP, KEEP_RUNNING, PRIMARY, SHIP, Comparison, decide


def comparison(
    metric: str, role: str, seq_ci: tuple[float, float], *, arm: str = "b", margin=None
) -> Comparison:  # noqa: ANN001
    diff = sum(seq_ci) / 2
    return Comparison(arm, "a", metric, role, diff, seq_ci, 0.01, seq_ci, 0.01, 0.3, margin)


def arm(primary: tuple[float, float], latency: tuple[float, float], *, name: str = "b") -> list[Comparison]:
    return [
        comparison("acceptance_rate", PRIMARY, primary, arm=name),
        comparison("latency_p95_ms", GUARDRAIL, latency, arm=name, margin=20.0),
    ]


def test_ship_needs_a_better_primary_and_every_guardrail_within_margin() -> None:
    d = decide(arm((0.01, 0.03), (-5.0, 10.0)), control="a", srm_p=0.5, srm_alpha=0.001)
    assert (d.action, d.arm) == (SHIP, "b") and d.line.startswith("ship b: acceptance_rate +2.00 pp")
    d = decide(arm((0.01, 0.03), (-5.0, 25.0)), control="a", srm_p=0.5, srm_alpha=0.001)
    assert d.action == KEEP_RUNNING and "latency_p95_ms not yet within its margin" in d.why


def test_keep_when_worse_or_beyond_a_margin() -> None:
    assert decide(arm((-0.03, -0.01), (-5.0, 5.0)), control="a", srm_p=None, srm_alpha=0.001).action == KEEP
    d = decide(arm((0.01, 0.03), (25.0, 40.0)), control="a", srm_p=None, srm_alpha=0.001)
    assert d.action == KEEP and "beyond its margin" in d.why


def test_srm_overrides_everything_and_the_best_arm_ships() -> None:
    d = decide(arm((0.01, 0.03), (-5.0, 10.0)), control="a", srm_p=1e-6, srm_alpha=0.001)
    assert (d.action, d.arm) == (KEEP, "a") and "sample ratio mismatch" in d.line
    both = arm((0.01, 0.03), (-5.0, 10.0)) + arm((0.02, 0.06), (-5.0, 10.0), name="c")
    assert decide(both, control="a", srm_p=0.3, srm_alpha=0.001).arm == "c"


def test_no_data_is_not_a_verdict() -> None:
    c = comparison("acceptance_rate", PRIMARY, (math.nan, math.nan))
    assert c.verdict == "no data"
    assert decide([c], control="a", srm_p=None, srm_alpha=0.001).action == KEEP_RUNNING
