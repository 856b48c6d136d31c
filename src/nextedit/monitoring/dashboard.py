"""The dashboard's panels as JSON-ready dicts, read from the telemetry store's hourly rollup.

Each panel is one function of ``(engine, Filters)``; :mod:`~nextedit.monitoring.dashboard_app`
serves them under ``/dashboard/api/<panel>``. Closed hours come from
:mod:`~nextedit.monitoring.dashboard_rollup`'s tables, the open hours from the raw rows (so a
panel reads O(hours × groups) rows, not O(requests)). Rates are fractions in [0, 1]
(``None`` when the denominator is 0); latencies are milliseconds; times unix seconds.

Metric definitions (one source of truth, also shown on the page):

* shown rate = shown / requests; acceptance rate = accepted / shown (shown = accept events +
  reject events with ``was_shown``); kept rate and recall = mean ``edit_bytes_kept_rate`` /
  ``edit_bytes_recall_rate`` of the settled events the editor reported, ``kept_rate_inferred``
  / ``recall_inferred`` the same of those the server inferred (``outcome_events.source``; a
  store from before that column holds reports only).
* error rate = (HTTP ≥ 500, deadline or overload) / requests; cancel, 429 and deadline rates
  likewise; speculative acceptance = accepted / drafted tokens.
* File extension: ``requests.file_ext`` (of the request's cursor path, no dot; None when the
  request named no path, or on a store from before that column).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from nextedit.errors import NexteditError
from nextedit.monitoring import dashboard_rollup as R
from nextedit.server.telemetry.schema import requests

BUCKETS = {"hour": 3600, "day": 86400}
GROUPS = ("model_version", "experiment")
RECENT_ROWS = 50
OUTCOME_SOURCES = (
    "kept rate and recall are of settled reports from the editor; the *_inferred figures are of those the "
    "server inferred from successive prompts (outcome_events.source); accepts and rejects count both"
)


def _unindexed(col):  # noqa: ANN001, ANN202 - a SQL expression
    """``col || ''``: the same value, but no index on ``col`` can serve it. SQLite would otherwise
    answer a filtered "latest rows" query from the model_version index and sort a quarter of the
    table; walking the time index backwards stops after ``limit`` matches."""
    return col.concat("")


@dataclass(frozen=True)
class Filters:
    """What every panel is restricted to; ``since``/``until`` unix seconds (until exclusive)."""

    since: float
    until: float
    bucket: str = "hour"
    group: str = "model_version"
    model_version: str | None = None
    experiment: str | None = None
    api: str | None = None
    file_ext: str | None = None

    def check(self) -> Filters:
        if self.bucket not in BUCKETS:
            raise NexteditError(f"bucket: {self.bucket!r} is not one of {', '.join(BUCKETS)}")
        if self.group not in GROUPS:
            raise NexteditError(f"group: {self.group!r} is not one of {', '.join(GROUPS)}")
        if not (math.isfinite(self.since) and math.isfinite(self.until)) or self.until <= self.since:
            raise NexteditError("since/until: need finite unix seconds with since < until")
        return self

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in R.FILTERS}

    def keeps(self, row: dict) -> bool:
        return all(row.get(k) == v for k, v in self.as_dict().items() if v)


def _label(v: Any) -> str:
    return "(none)" if v is None else str(v)


def _rate(a: float, b: float) -> float | None:
    return a / b if b else None


def _split(engine: Engine, f: Filters) -> tuple[float, float, float]:
    """(since, boundary, until): [since, boundary) from the rollup, [boundary, until) raw."""
    wm = R.refresh(engine)
    boundary = min(max(f.since, wm), f.until)
    return f.since, boundary, f.until


def _live(engine: Engine, lo: float, hi: float, f: Filters) -> tuple[list[dict], list[dict]]:
    if hi <= lo:
        return [], []
    with engine.connect() as conn:
        rows, lat = R.aggregate(conn, lo, hi)
    return [r for r in rows if f.keeps(r)], [r for r in lat if f.keeps(r)]


def timeseries(engine: Engine, f: Filters) -> dict[str, Any]:
    """Per group and bucket: counts and the rates of the module docstring, plus totals per group."""
    since, boundary, until = _split(engine, f)
    width = BUCKETS[f.bucket]
    t = R.rollup
    bucket = (t.c.hour // width * width).label("bucket")  # integer division on both backends
    q = (
        select(bucket, t.c[f.group].label("grp"), *[func.sum(t.c[c]).label(c) for c in R.COUNTS])
        .where(t.c.hour >= since // 3600 * 3600, t.c.hour < boundary, R.filter_clause(t, f.as_dict()))
        .group_by(bucket, t.c[f.group])
    )
    cells: dict[tuple[int, str], dict[str, float]] = {}

    def add(b: int, g: str, m: dict) -> None:
        cell = cells.setdefault((b, g), dict.fromkeys(R.COUNTS, 0.0))
        for c in R.COUNTS:
            cell[c] += float(m[c] or 0)

    with engine.connect() as conn:
        for m in conn.execute(q).mappings():
            add(int(m["bucket"]), _label(m["grp"]), m)
    for m in _live(engine, boundary, until, f)[0]:
        add(int(m["hour"] // width * width), _label(m[f.group]), m)
    buckets = sorted({b for b, _ in cells})
    groups = sorted({g for _, g in cells})
    series = {g: {k: [] for k in (*R.COUNTS, *RATES)} for g in groups}
    totals = {g: dict.fromkeys(R.COUNTS, 0.0) for g in groups}
    for g in groups:
        for b in buckets:
            cell = cells.get((b, g), dict.fromkeys(R.COUNTS, 0.0))
            for c in R.COUNTS:
                series[g][c].append(cell[c])
                totals[g][c] += cell[c]
            for k, v in rates(cell).items():
                series[g][k].append(v)
    return {
        "bucket": f.bucket,
        "group": f.group,
        "buckets": buckets,
        "series": series,
        "totals": {g: {**tot, **rates(tot)} for g, tot in totals.items()},
        "outcome_sources": OUTCOME_SOURCES,
    }


RATES = (
    "shown_rate", "acceptance_rate", "kept_rate", "recall", "kept_rate_inferred", "recall_inferred",
    "error_rate", "cancel_rate",
    "overloaded_rate", "deadline_rate", "spec_acceptance",
)  # fmt: skip


def rates(c: dict[str, float]) -> dict[str, float | None]:
    """The rates of one cell of counts (definitions in the module docstring)."""
    n = c["requests"]
    return {
        "shown_rate": _rate(c["shown"], n),
        "acceptance_rate": _rate(c["accepted"], c["shown"]),
        "kept_rate": _rate(c["kept_sum"], c["kept_n"]),
        "recall": _rate(c["recall_sum"], c["recall_n"]),
        "kept_rate_inferred": _rate(c["kept_sum_inferred"], c["kept_n_inferred"]),
        "recall_inferred": _rate(c["recall_sum_inferred"], c["recall_n_inferred"]),
        "error_rate": _rate(c["errors"], n),
        "cancel_rate": _rate(c["canceled"], n),
        "overloaded_rate": _rate(c["overloaded"], n),
        "deadline_rate": _rate(c["deadline"], n),
        "spec_acceptance": _rate(c["spec_accepted"], c["spec_drafted"]),
    }


def percentile(counts: np.ndarray, q: float) -> float | None:
    """The ``q``-quantile (0..1) of a histogram over :data:`R.EDGES_MS` (geometric interpolation
    within the bin; within ~9 % of the exact value for bins of a quarter octave)."""
    total = counts.sum()
    if total <= 0:
        return None
    target = q * total
    cum = np.cumsum(counts)
    i = int(np.searchsorted(cum, target, side="left"))
    lo, hi = R.EDGES_MS[i], R.EDGES_MS[i + 1] if i + 1 < len(R.EDGES_MS) else R.EDGES_MS[i] * 2**0.25
    before = cum[i - 1] if i else 0.0
    frac = (target - before) / counts[i] if counts[i] else 0.0
    if lo <= 0:
        return float(hi * frac)
    return float(lo * (hi / lo) ** frac)


def latency(engine: Engine, f: Filters) -> dict[str, Any]:
    """p50/p95/p99 per group and stage of ``ok`` requests, and each group's histogram of the total."""
    since, boundary, until = _split(engine, f)
    t = R.latency
    q = (
        select(t.c[f.group].label("grp"), t.c.stage, t.c.bin, func.sum(t.c.n).label("n"))
        .where(t.c.hour >= since // 3600 * 3600, t.c.hour < boundary, R.filter_clause(t, f.as_dict()))
        .group_by(t.c[f.group], t.c.stage, t.c.bin)
    )
    nb = len(R.EDGES_MS)
    hist: dict[str, dict[str, np.ndarray]] = {}

    def add(g: str, stage: str, b: int, n: float) -> None:
        hist.setdefault(g, {s: np.zeros(nb) for s in R.STAGES})[stage][b] += n

    with engine.connect() as conn:
        for m in conn.execute(q).mappings():
            add(_label(m["grp"]), m["stage"], int(m["bin"]), float(m["n"]))
    for m in _live(engine, boundary, until, f)[1]:
        add(_label(m[f.group]), m["stage"], m["bin"], m["n"])
    out: dict[str, Any] = {"group": f.group, "stages": list(R.STAGES), "percentiles": {}, "histogram": {}}
    used = [i for i in range(nb) if any(h["total"][i] for h in hist.values())]
    lo, hi = (min(used), max(used) + 1) if used else (0, 0)
    out["histogram"]["edges_ms"] = [float(x) for x in R.EDGES_MS[lo : hi + 1]]
    for g, h in sorted(hist.items()):
        out["percentiles"][g] = {
            s: {f"p{int(q * 100)}": percentile(h[s], q) for q in (0.5, 0.95, 0.99)} for s in R.STAGES
        }
        out["histogram"][g] = h["total"][lo:hi].tolist()
    return out


def recent(engine: Engine, f: Filters, limit: int = RECENT_ROWS) -> dict[str, Any]:
    """The latest requests (newest first); ``output`` only where the client allowed collection."""
    r = requests.c
    cols = [r.id, r.created_at, r.model_version, r.experiment, r.api, r.status, r.http_status,
            r.total_ms, r.prompt_tokens, r.completion_tokens, r.outcome, r.can_collect_data, r.output]  # fmt: skip
    q = select(*cols).where(r.created_at >= f.since, r.created_at < f.until)
    for k, v in f.as_dict().items():
        if v:
            with engine.connect() as conn:
                col = R.file_ext_column(conn) if k == "file_ext" else r[k]
            q = q.where(_unindexed(col) == v)
    q = q.order_by(r.created_at.desc()).limit(limit)
    with engine.connect() as conn:
        rows = [dict(m) for m in conn.execute(q).mappings()]
    for row in rows:
        if not row.pop("can_collect_data"):
            row["output"] = None
    return {"rows": rows}


def options(engine: Engine) -> dict[str, Any]:
    """What the filters can choose: model versions, experiments, APIs and file extensions seen
    (keys ``model_versions``, ``experiments``, ``apis``, ``file_exts``), and the time span."""
    R.refresh(engine)
    t, r = R.rollup, requests.c
    open_hours = r.created_at >= R.watermark_for(time.time())
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for k in R.FILTERS:
            seen = {v for (v,) in conn.execute(select(t.c[k]).distinct())}
            col = R.file_ext_column(conn) if k == "file_ext" else r[k]
            live = select(_unindexed(col)).distinct().where(open_hours)
            seen |= {v for (v,) in conn.execute(live)}
            out[k + "s"] = sorted(v for v in seen if v is not None)
        lo = conn.execute(select(func.min(r.created_at))).scalar()  # one each: both in one scans
        hi = conn.execute(select(func.max(r.created_at))).scalar()
    out["span"] = [lo, hi]
    return out
