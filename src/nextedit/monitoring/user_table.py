"""Per-user totals of one experiment arm: the unit of analysis of an A/B report.

Users are client ids (``requests.client_id``: a hash of the client's key). For each user of an arm,
over the experiment period and over the user's pre-period:

=============  ===================================================================================
``requests``   requests of the user (any status)
``errors``     requests that failed on the server's side: HTTP ≥ 500, ``deadline_exceeded`` or
               ``overloaded`` (client errors, cancellations and supersessions are not errors)
``shown``      predictions shown: an ``accept`` event, or a ``reject`` event with ``was_shown``
``accepted``   predictions with an ``accept`` event
``settled``    ``settled`` events that carry ``edit_bytes_kept_rate``
``kept_sum``   the sum of those kept rates (kept rate = kept_sum / settled: each settled prediction
               weighs the same)
=============  ===================================================================================

and the latencies (``total_ms``, milliseconds, server side) of the arm's ``ok`` requests with the
user of each. :data:`RATIO_METRICS` names each rate as a (numerator, denominator) pair of these
totals: one definition for the report, the simulations and the documentation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

TOTALS = ("requests", "errors", "shown", "accepted", "settled", "kept_sum")

# metric -> (numerator total, denominator total); every one is a ratio over user clusters
RATIO_METRICS: dict[str, tuple[str, str]] = {
    "acceptance_rate": ("accepted", "shown"),
    "kept_rate": ("kept_sum", "settled"),
    "error_rate": ("errors", "requests"),
}
LATENCY_METRIC = "latency_p95_ms"
#: latency bins of a report read from the store, in ms: 2^(k/32) from 1/16 ms to 2^17 ms (~ 131 s),
#: bin i = [EDGES[i], EDGES[i+1]) (the last one open); a bin stands for its geometric middle, so a
#: binned p95 is within 1.1 % of the exact one (the guardrail margin is 10 %)
LATENCY_EDGES_MS = np.array([0.0] + [2.0 ** (k / 32) for k in range(-128, 545)])
LATENCY_BIN_MS = np.append([LATENCY_EDGES_MS[1] / 2], np.sqrt(LATENCY_EDGES_MS[1:-1] * LATENCY_EDGES_MS[2:]))
LATENCY_BIN_MS = np.append(LATENCY_BIN_MS, LATENCY_EDGES_MS[-1])


def _zeros(n: int) -> dict[str, np.ndarray]:
    return {k: np.zeros(n) for k in TOTALS}


@dataclass
class ArmUsers:
    """One arm: ``client_ids[i]`` is user ``i``; ``during[k][i]`` / ``pre[k][i]`` its totals (``k`` in
    :data:`TOTALS`) in the experiment period / its pre-period (zeros when it has none);
    ``first_seen[i]`` the unix time of its first request in the period; ``latency_ms[j]`` the
    latency of ``ok`` request ``j``, made by user ``latency_user[j]`` — or, read from the store,
    ``latency_hist[i, j]`` the number of user ``i``'s ``ok`` requests in the latency bin that stands
    for ``latency_bin_ms[j]`` ms (then ``latency_ms`` is empty and the p95 is of the bins)."""

    name: str
    client_ids: list[str]
    during: dict[str, np.ndarray]
    pre: dict[str, np.ndarray]
    first_seen: np.ndarray
    latency_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    latency_user: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    latency_hist: np.ndarray | None = None
    latency_bin_ms: np.ndarray | None = None

    @classmethod
    def empty(cls, name: str, client_ids: list[str]) -> ArmUsers:
        n = len(client_ids)
        return cls(name, client_ids, _zeros(n), _zeros(n), np.zeros(n))

    @property
    def users(self) -> int:
        return len(self.client_ids)

    @property
    def users_with_pre_period(self) -> int:
        return int(np.count_nonzero(self.pre["requests"]))

    def requests(self) -> int:
        return int(self.during["requests"].sum())
