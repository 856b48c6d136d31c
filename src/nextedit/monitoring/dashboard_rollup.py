"""The dashboard's hourly rollup of the telemetry store, kept up to date incrementally.

Two derived tables live next to the server's tables (the server never reads them; dropping them
loses nothing, the next refresh rebuilds them):

* ``dashboard_rollup`` — one row per (hour, model_version, experiment, api, file_ext): request, error,
  cancel, 429 and deadline counts, token sums, speculative drafted/accepted sums, and the outcome
  events of that hour (shown, accepted, rejected; settled, with counts and sums of kept rate and
  recall, apart for reported and for inferred events, ``outcome_events.source``).
* ``dashboard_latency`` — per (hour, model_version, experiment, api, file_ext, stage, bin): how many ``ok``
  requests had that stage's latency in that bin (:data:`EDGES_MS`, four bins per octave).

An outcome event counts in the hour it was *reported* (its ``created_at``), under the model
version / experiment / API of its request. Hours before the **watermark** (the start of the hour
that began :data:`SETTLE_S` seconds ago or earlier) are in the tables; :func:`refresh` adds the
hours that closed since the last call, so each refresh reads one hour or so of raw rows. The
open hours are read from the raw tables on every query (:func:`aggregate`, the same code).
Units: times are unix seconds, latencies milliseconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    false,
    func,
    inspect,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.engine import Connection, Engine

from nextedit.monitoring.rollup_refresh import refresh_rollup
from nextedit.server.telemetry.schema import outcome_events, requests

SETTLE_S = 300.0  # an hour is rolled up once it ended this long ago (late request rows land before)
STAGES = ("queue", "context", "prompt", "model", "parse", "total")
#: latency bin edges in ms: 2^(k/4) from 1/16 ms to ~ 70 s; bin i holds [EDGES_MS[i], EDGES_MS[i+1])
EDGES_MS = np.array([0.0] + [2.0 ** (k / 4) for k in range(-16, 65)])
SETTLED = ("settled", "kept_n", "kept_sum", "recall_n", "recall_sum")  # of reported settled events
#: the same of settled events the server inferred (``outcome_events.source = 'inferred'``)
INFERRED = tuple(c + "_inferred" for c in SETTLED)
OUTCOMES = ("shown", "accepted", "rejected", *SETTLED, *INFERRED)
COUNTS = (
    "requests", "errors", "canceled", "overloaded", "deadline", "prompt_tokens", "completion_tokens",
    "spec_drafted", "spec_accepted", *OUTCOMES,
)  # fmt: skip
FILTERS = ("model_version", "experiment", "api", "file_ext")  # the dimensions a panel filters on
DIMS = ("hour", *FILTERS)

_meta = MetaData()
rollup = Table(
    "dashboard_rollup",
    _meta,
    Column("hour", Integer, nullable=False),  # unix seconds of the hour's start
    Column("model_version", String(200)),
    Column("experiment", String(200)),
    Column("api", String(32)),
    Column("file_ext", String(16)),
    *[Column(c, Float, nullable=False, default=0.0) for c in COUNTS],
    Index("ix_dashboard_rollup_hour", "hour"),
)
latency = Table(
    "dashboard_latency",
    _meta,
    Column("hour", Integer, nullable=False),
    Column("model_version", String(200)),
    Column("experiment", String(200)),
    Column("api", String(32)),
    Column("file_ext", String(16)),
    Column("stage", String(16), nullable=False),
    Column("bin", Integer, nullable=False),
    Column("n", Integer, nullable=False),
    Index("ix_dashboard_latency_hour", "hour"),
)
state = Table("dashboard_state", _meta, Column("watermark", Float, nullable=False))
#: raw-table indexes the open-hour queries and the refresh need (created if missing)
RAW_INDEXES = (Index("ix_outcome_events_created_at", outcome_events.c.created_at),)



def _hour(t: float) -> int:
    return int(t // 3600 * 3600)


def watermark_for(now: float) -> int:
    """Hours that start before this are complete and go into the rollup."""
    return _hour(now - SETTLE_S)


def ensure_tables(engine: Engine) -> None:
    """Create the derived tables and the raw-table indexes they need (idempotent). Derived tables
    of an older layout are dropped and rebuilt from the raw rows."""
    cols = {c["name"] for c in inspect(engine).get_columns(rollup.name)} if inspect(engine).has_table(
        rollup.name) else None  # fmt: skip
    if cols is not None and cols != set(rollup.c.keys()):
        _meta.drop_all(engine)
    _meta.create_all(engine)
    with engine.begin() as conn:
        for ix in RAW_INDEXES:
            ix.create(conn, checkfirst=True)


def _hour_of(conn: Connection, col):  # noqa: ANN001, ANN202 - a SQL expression
    """The start of ``col``'s hour (unix s): SQLite's CAST truncates (times are positive), while
    PostgreSQL's rounds, so it gets FLOOR (which SQLite builds may lack)."""
    whole = func.floor(col / 3600) if conn.dialect.name == "postgresql" else col / 3600
    return (func.cast(whole, Integer) * 3600).label("hour")


def aggregate(conn: Connection, lo: float, hi: float) -> tuple[list[dict], list[dict]]:
    """(rollup rows, latency rows) of the raw rows with ``lo <= created_at < hi``, grouped by hour."""
    r = requests.c
    hour = _hour_of(conn, r.created_at)
    ext = file_ext_column(conn)
    flag = lambda cond: func.sum(case((cond, 1), else_=0))  # noqa: E731
    q = (
        select(
            hour, r.model_version, r.experiment, r.api, ext,
            func.count().label("requests"),
            flag((r.http_status >= 500) | r.status.in_(("deadline_exceeded", "overloaded"))).label("errors"),
            flag(r.status == "canceled").label("canceled"),
            flag((r.http_status == 429) | (r.status == "overloaded")).label("overloaded"),
            flag(r.status == "deadline_exceeded").label("deadline"),
            func.coalesce(func.sum(r.prompt_tokens), 0).label("prompt_tokens"),
            func.coalesce(func.sum(r.completion_tokens), 0).label("completion_tokens"),
            func.coalesce(func.sum(r.spec_drafted), 0).label("spec_drafted"),
            func.coalesce(func.sum(r.spec_accepted), 0).label("spec_accepted"),
        )
        .where(r.created_at >= lo, r.created_at < hi)
        .group_by(hour, r.model_version, r.experiment, r.api, ext)
    )  # fmt: skip
    rows: dict[tuple, dict] = {}
    for m in conn.execute(q).mappings():
        rows[tuple(m[d] for d in DIMS)] = {**{c: 0.0 for c in COUNTS}, **dict(m)}
    e = outcome_events.c
    ehour = _hour_of(conn, e.created_at)
    shown = (e.kind == "accept") | ((e.kind == "reject") & (e.was_shown == True))  # noqa: E712
    q = (
        select(
            ehour, r.model_version, r.experiment, r.api, ext,
            flag(shown).label("shown"),
            flag(e.kind == "accept").label("accepted"),
            flag(e.kind == "reject").label("rejected"),
            *_settled_sums(conn, e),
        )
        .select_from(outcome_events.join(requests, r.id == e.request_id))
        .where(e.created_at >= lo, e.created_at < hi)
        .group_by(ehour, r.model_version, r.experiment, r.api, ext)
    )  # fmt: skip
    for m in conn.execute(q).mappings():
        key = tuple(m[d] for d in DIMS)
        row = rows.setdefault(key, {**dict(zip(DIMS, key, strict=True)), **{c: 0.0 for c in COUNTS}})
        for c in OUTCOMES:
            row[c] = m[c]
    return list(rows.values()), _latency_rows(conn, lo, hi)


def file_ext_column(conn: Connection):  # noqa: ANN201 - a SQL expression
    """``requests.file_ext``, or NULL on a store from before that column (labelled ``file_ext``)."""
    if any(c["name"] == "file_ext" for c in inspect(conn).get_columns(requests.name)):
        return requests.c.file_ext
    return null().label("file_ext")


def _sources(conn: Connection, e):  # noqa: ANN001, ANN202 - SQL expressions
    """(reported, inferred) conditions; a store from before the ``source`` column holds reports only."""
    if not any(c["name"] == "source" for c in inspect(conn).get_columns(outcome_events.name)):
        return true(), false()
    return or_(e.source.is_(None), e.source != "inferred"), e.source == "inferred"


def _settled_sums(conn: Connection, e) -> list:  # noqa: ANN001
    """The :data:`SETTLED` and :data:`INFERRED` columns as SQL aggregates."""
    out = []
    for suffix, src in zip(("", "_inferred"), _sources(conn, e), strict=True):
        settled = (e.kind == "settled") & src
        kept, recall = e.edit_bytes_kept_rate, e.edit_bytes_recall_rate
        out += [
            func.sum(case((settled, 1), else_=0)).label("settled" + suffix),
            func.sum(case((settled & kept.is_not(None), 1), else_=0)).label("kept_n" + suffix),
            func.coalesce(func.sum(case((settled, kept), else_=None)), 0).label("kept_sum" + suffix),
            func.sum(case((settled & recall.is_not(None), 1), else_=0)).label("recall_n" + suffix),
            func.coalesce(func.sum(case((settled, recall), else_=None)), 0).label("recall_sum" + suffix),
        ]
    return out


def _latency_rows(conn: Connection, lo: float, hi: float) -> list[dict]:
    r = requests.c
    cols = [r.created_at, r.model_version, r.experiment, r.api, file_ext_column(conn)]
    cols += [r[f"{s}_ms"] for s in STAGES]
    raw = conn.execute(select(*cols).where(r.created_at >= lo, r.created_at < hi, r.status == "ok")).all()
    if not raw:
        return []
    hours = np.array([_hour(x[0]) for x in raw])
    keys = [(h, x[1], x[2], x[3], x[4]) for h, x in zip(hours.tolist(), raw, strict=True)]
    uniq: dict[tuple, int] = {}
    gid = np.array([uniq.setdefault(k, len(uniq)) for k in keys])
    out = []
    ninf = len(EDGES_MS)
    for i, s in enumerate(STAGES):
        v = np.array([x[5 + i] for x in raw], dtype=float)
        ok = ~np.isnan(v)
        b = np.clip(np.searchsorted(EDGES_MS, v[ok], side="right") - 1, 0, ninf - 1)
        pairs, n = np.unique(gid[ok] * ninf + b, return_counts=True)
        inv = list(uniq)
        for p, c in zip(pairs.tolist(), n.tolist(), strict=True):
            h, mv, ex, api, fe = inv[p // ninf]
            out.append({"hour": h, "model_version": mv, "experiment": ex, "api": api, "file_ext": fe,
                        "stage": s, "bin": p % ninf, "n": c})  # fmt: skip
    return out


def refresh(engine: Engine, now: float | None = None) -> int:
    """Roll up the hours that closed since the last refresh; returns the watermark (unix s).
    Safe to call from several threads and processes (:func:`~nextedit.monitoring.rollup_refresh.refresh_rollup`)."""
    return refresh_rollup(
        engine,
        state=state,
        tables=(rollup, latency),
        ensure_tables=ensure_tables,
        watermark_for=watermark_for,
        aggregate=aggregate,
        now=now,
    )


def filter_clause(table: Table, f: dict[str, Any]):  # noqa: ANN201 - a SQL expression
    """:data:`FILTERS` equality filters (None = all)."""
    conds = [table.c[k] == f[k] for k in FILTERS if f.get(k)]
    return and_(True, *conds)
