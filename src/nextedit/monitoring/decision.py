"""From comparisons to a one-line decision: ship an arm, keep the control, or keep running.

Every comparison is judged on its **sequential** (always-valid or repeated) interval, so the
decision may be read at any look:

* the primary metric (acceptance rate by default; higher is better) is ``better`` when the interval
  lies above 0, ``worse`` below 0, else ``inconclusive``; secondary metrics (kept rate) are judged
  the same way but only reported;
* a guardrail (latency p95, error rate; lower is better) has a non-inferiority margin ``δ`` (the
  largest increase we accept): ``within margin`` when the interval's upper end is below ``δ``,
  ``beyond margin`` when its lower end is above ``δ``, else ``inconclusive``.

Per arm: **ship** when the primary metric is better and every guardrail is within its margin;
**keep** (the control) when the primary metric is worse or a guardrail is beyond its margin;
**keep running** otherwise. Over the experiment: a sample-ratio mismatch overrides everything (keep
the control, fix the assignment: no figure can be trusted); else ship the arm with the largest
primary gain among those to ship; else keep when every arm is to keep; else keep running.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

SHIP, KEEP, KEEP_RUNNING = "ship", "keep", "keep running"
PRIMARY, SECONDARY, GUARDRAIL = "primary", "secondary", "guardrail"


@dataclass(frozen=True)
class Comparison:
    """``arm - control`` for one metric. ``ci``/``p_value``: fixed-horizon (valid for one look at a
    size fixed in advance); ``sequential_ci``/``sequential_p``: valid at every look. ``margin``: a
    guardrail's non-inferiority margin, in the metric's units."""

    arm: str
    control: str
    metric: str
    role: str
    diff: float
    ci: tuple[float, float]
    p_value: float
    sequential_ci: tuple[float, float]
    sequential_p: float
    control_value: float
    margin: float | None = None
    variance_reduction: float | None = 0.0  # CUPED's 1 - Var_cuped/Var_plain; None: not applicable

    @property
    def verdict(self) -> str:
        lo, hi = self.sequential_ci
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return "no data"
        if self.role == GUARDRAIL:
            assert self.margin is not None
            return (
                "within margin"
                if hi < self.margin
                else "beyond margin"
                if lo > self.margin
                else "inconclusive"
            )
        return "better" if lo > 0 else "worse" if hi < 0 else "inconclusive"


@dataclass(frozen=True)
class Decision:
    action: str  # ship | keep | keep running
    arm: str | None  # the arm to ship (ship) or the control (keep); None while running
    why: str
    per_arm: dict[str, tuple[str, str]] = field(default_factory=dict)  # arm -> (action, why)

    @property
    def line(self) -> str:
        return f"{self.action}{' ' + self.arm if self.arm and self.action == SHIP else ''}: {self.why}"


def _pct(c: Comparison) -> str:
    lo, hi = c.sequential_ci
    if c.verdict == "no data":
        return "no data yet"
    if c.metric.endswith("_ms"):
        return f"{c.diff:+.1f} ms ({lo:+.1f}..{hi:+.1f})"
    return f"{100 * c.diff:+.2f} pp ({100 * lo:+.2f}..{100 * hi:+.2f})"


def decide_arm(comparisons: list[Comparison]) -> tuple[str, str]:
    """(action, why) for one arm from its comparisons against the control."""
    primary = next(c for c in comparisons if c.role == PRIMARY)
    guardrails = [c for c in comparisons if c.role == GUARDRAIL]
    beyond = [c for c in guardrails if c.verdict == "beyond margin"]
    pending = [c for c in guardrails if c.verdict != "within margin"]
    if beyond:
        return KEEP, "; ".join(f"{c.metric} {_pct(c)} is beyond its margin" for c in beyond)
    if primary.verdict == "worse":
        return KEEP, f"{primary.metric} is worse: {_pct(primary)}"
    if primary.verdict == "better" and not pending:
        names = " and ".join(c.metric for c in guardrails) or "no guardrail"
        return SHIP, f"{primary.metric} {_pct(primary)}, {names} within margins"
    reasons = []
    if primary.verdict != "better":
        reasons.append(f"{primary.metric} not yet significant: {_pct(primary)}")
    reasons += [f"{c.metric} not yet within its margin: {_pct(c)}" for c in pending]
    return KEEP_RUNNING, "; ".join(reasons)


def decide(comparisons: list[Comparison], *, control: str, srm_p: float | None, srm_alpha: float) -> Decision:
    """The experiment's decision (see the module docstring)."""
    if srm_p is not None and srm_p < srm_alpha:
        return Decision(
            KEEP,
            control,
            f"sample ratio mismatch (p = {srm_p:.2g} < {srm_alpha}): users are not split as configured; "
            "fix the assignment before reading any result",
        )
    arms = list(dict.fromkeys(c.arm for c in comparisons))
    if not arms:
        return Decision(KEEP_RUNNING, None, "no arm to compare with the control yet")
    per_arm = {a: decide_arm([c for c in comparisons if c.arm == a]) for a in arms}
    ships = [a for a in arms if per_arm[a][0] == SHIP]
    if ships:
        gain = {c.arm: c.diff for c in comparisons if c.role == PRIMARY}
        best = max(ships, key=lambda a: gain[a])
        return Decision(SHIP, best, f"{per_arm[best][1]} (vs {control})", per_arm)
    if all(per_arm[a][0] == KEEP for a in arms):
        return Decision(KEEP, control, "; ".join(f"{a}: {per_arm[a][1]}" for a in arms), per_arm)
    running = [a for a in arms if per_arm[a][0] == KEEP_RUNNING]
    return Decision(KEEP_RUNNING, None, "; ".join(f"{a}: {per_arm[a][1]}" for a in running), per_arm)
