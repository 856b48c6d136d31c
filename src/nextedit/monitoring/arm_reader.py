"""The arms of an A/B report read from the telemetry store: per-user totals and latency histograms.

:func:`read_arms` takes the whole hours below the watermark from :mod:`~nextedit.monitoring.ab_rollup`
(refreshed first; a derived table) and the rest from the raw rows
(:mod:`~nextedit.monitoring.store_reader`), latencies as per-user histograms
(:data:`~nextedit.monitoring.user_table.LATENCY_EDGES_MS`), so a report reads O(hours × users) rows
rather than O(requests).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from nextedit.monitoring import ab_rollup
from nextedit.monitoring.store_reader import StoreError, _one_line
from nextedit.monitoring.user_table import LATENCY_BIN_MS, TOTALS, ArmUsers


def read_arms(
    engine: Engine,
    arms: Sequence[str],
    *,
    since: float,
    until: float,
    pre_since: float | None,
    rollup: bool = True,
) -> tuple[list[ArmUsers], int]:
    """Per-user totals of each arm over ``[since, until)``, pre-period totals over
    ``[pre_since, since)``, and each user's latency histogram (:data:`LATENCY_EDGES_MS`); returns
    the arms (in ``arms`` order) and the number of users left out because they appear in several
    arms (pinned or reassigned clients). ``rollup``: closed hours from
    :mod:`~nextedit.monitoring.ab_rollup` (refreshed first), the rest from the raw rows; the
    figures are the same as with ``rollup=False`` (all raw rows) for outcomes reported within
    :data:`~nextedit.monitoring.ab_rollup.SETTLE_S` of their request's hour."""
    try:
        if rollup:
            ab_rollup.refresh(engine)
        with engine.connect() as conn:
            totals, cells = ab_rollup.period(conn, since, until, arms, rollup=rollup)
            pre: dict[tuple, dict[str, float]] = {}
            if pre_since is not None and pre_since < since:
                pre, _ = ab_rollup.period(conn, pre_since, since, None, rollup=rollup)
    except SQLAlchemyError as e:
        raise StoreError(
            f"{engine.url.render_as_string(hide_password=True)}: query failed: {_one_line(e)}"
        ) from None
    arm_of: dict[str, str] = {}
    several: set[str] = set()
    for client, experiment in totals:
        if arm_of.setdefault(client, experiment) != experiment:
            several.add(client)
    clients = {a: sorted(c for c, e in arm_of.items() if e == a and c not in several) for a in arms}
    indexes = {a: {c: i for i, c in enumerate(clients[a])} for a in arms}
    used = sorted({b for (_, _, b) in cells})
    col = {b: j for j, b in enumerate(used)}
    per_arm: dict[str, tuple[list[int], list[int], list[int]]] = {a: ([], [], []) for a in arms}
    for (c, e, b), n in cells.items():  # one pass: (user, column, count) per arm
        i = indexes[e].get(c) if e in indexes else None
        if i is not None:
            rows, cols, counts = per_arm[e]
            rows.append(i)
            cols.append(col[b])
            counts.append(n)
    out: list[ArmUsers] = []
    for name in arms:
        ids = clients[name]
        arm = ArmUsers.empty(name, ids)
        for c, i in indexes[name].items():
            t = totals[(c, name)]
            for k in TOTALS:
                arm.during[k][i] = t[k]
            for k in TOTALS:
                arm.pre[k][i] = pre.get((c, None), {}).get(k, 0.0)
            arm.first_seen[i] = t.get("first_seen", since)
        hist = np.zeros((len(ids), len(used)))
        rows, cols, counts = per_arm[name]
        np.add.at(hist, (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)), counts)
        arm.latency_hist = hist
        arm.latency_bin_ms = LATENCY_BIN_MS[np.array(used, dtype=np.int64)]
        out.append(arm)
    return out, len(several)
