"""The A/B report's per-user rollup of the telemetry store, kept up to date incrementally.

Two derived tables next to the server's (the server never reads them; dropping them loses nothing,
the next refresh rebuilds them), in the spirit of :mod:`~nextedit.monitoring.dashboard_rollup`:

* ``ab_users`` — one row per (hour, experiment, client_id) of the requests made in that hour:
  the :data:`~nextedit.monitoring.user_table.TOTALS` (requests, errors, shown, accepted, settled,
  kept-rate sum; outcome events count under their *request*, as in the raw-row report) and
  ``first_seen`` (the client's first request of that hour, unix s).
* ``ab_latency`` — per (hour, experiment, client_id, bin): how many ``ok`` requests had their
  ``total_ms`` in that :data:`~nextedit.monitoring.user_table.LATENCY_EDGES_MS` bin.

Hours whose end is :data:`SETTLE_S` seconds ago or more are rolled up (the watermark); the hours
after the watermark are read from the raw rows by the same code (:func:`period`). Outcome events
of a request reported after its hour was rolled up are not counted (the raw-row report,
``rollup=False``, counts them): with :data:`SETTLE_S` = 2 h that is a settle reported more than two
hours after its request.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, and_, func, inspect, select
from sqlalchemy.engine import Connection, Engine

from nextedit.monitoring.dashboard_rollup import _hour_of
from nextedit.monitoring.rollup_refresh import refresh_rollup
from nextedit.monitoring.store_reader import _window, grouped_totals, latency_bin, latency_rows, raw_totals
from nextedit.monitoring.user_table import TOTALS
from nextedit.server.telemetry.schema import requests

SETTLE_S = 7200.0  # an hour is rolled up once it ended this long ago (late outcome events land before)
HOUR = 3600

_meta = MetaData()
users = Table(
    "ab_users",
    _meta,
    Column("hour", Integer, nullable=False),  # unix seconds of the hour's start
    Column("experiment", String(200)),
    Column("client_id", String(200), nullable=False),
    *[Column(c, Float, nullable=False, default=0.0) for c in TOTALS],
    Column("first_seen", Float, nullable=False),
    Index("ix_ab_users_hour", "hour"),
)
latency = Table(
    "ab_latency",
    _meta,
    Column("hour", Integer, nullable=False),
    Column("experiment", String(200)),
    Column("client_id", String(200), nullable=False),
    Column("bin", Integer, nullable=False),
    Column("n", Integer, nullable=False),
    Index("ix_ab_latency_hour", "hour"),
)
state = Table("ab_state", _meta, Column("watermark", Float, nullable=False))


def watermark_for(now: float) -> int:
    """Hours that start before this are complete and go into the rollup."""
    return int((now - SETTLE_S) // HOUR * HOUR)


def ensure_tables(engine: Engine) -> None:
    """Create the derived tables (idempotent); ones of an older layout are dropped and rebuilt."""
    insp = inspect(engine)
    if insp.has_table(users.name) and {c["name"] for c in insp.get_columns(users.name)} != set(
        users.c.keys()
    ):
        _meta.drop_all(engine)
    _meta.create_all(engine)


def aggregate(conn: Connection, lo: float, hi: float) -> tuple[list[dict], list[dict]]:
    """(ab_users rows, ab_latency rows) of the raw requests with ``lo <= created_at < hi``."""
    hour = _hour_of(conn, requests.c.created_at)
    keys = [hour, requests.c.experiment.label("experiment"), requests.c.client_id.label("client_id")]
    totals = grouped_totals(conn, _window(lo, hi), keys)
    rows = [{"hour": k[0], "experiment": k[1], "client_id": k[2], **t} for k, t in totals.items()]
    raw = conn.execute(
        select(requests.c.created_at, requests.c.experiment, requests.c.client_id, requests.c.total_ms).where(
            _window(lo, hi), requests.c.status == "ok", requests.c.total_ms.is_not(None)
        )
    ).all()
    cells: dict[tuple, int] = {}
    bins = latency_bin(np.array([x[3] for x in raw], dtype=float)).tolist() if raw else []
    for (t, e, c, _), b in zip(raw, bins, strict=True):
        k = (int(t // HOUR * HOUR), e, c, b)
        cells[k] = cells.get(k, 0) + 1
    lat = [
        {"hour": h, "experiment": e, "client_id": c, "bin": b, "n": n} for (h, e, c, b), n in cells.items()
    ]
    return rows, lat


def refresh(engine: Engine, now: float | None = None) -> int:
    """Roll up the hours that closed since the last refresh; returns the watermark (unix s).
    Safe to call from several threads and processes (:func:`~nextedit.monitoring.rollup_refresh.refresh_rollup`)."""
    return refresh_rollup(
        engine,
        state=state,
        tables=(users, latency),
        ensure_tables=ensure_tables,
        watermark_for=watermark_for,
        aggregate=aggregate,
        now=now,
    )


def _watermark(conn: Connection) -> float:
    if not inspect(conn).has_table(state.name):
        return -math.inf
    wm = conn.execute(select(state.c.watermark)).scalar()
    return -math.inf if wm is None else float(wm)


def _rolled(conn: Connection, lo: int, hi: int, arms: Sequence[str] | None) -> tuple[dict, dict]:
    """Totals and latency cells of the rolled-up hours ``[lo, hi)`` (hour-aligned)."""
    u = users.c
    where = and_(u.hour >= lo, u.hour < hi)
    keys = [u.client_id] + ([u.experiment] if arms is not None else [])
    if arms is not None:
        where = and_(where, u.experiment.in_(list(arms)))
    q = select(*keys, *[func.sum(u[c]) for c in TOTALS], func.min(u.first_seen)).where(where).group_by(*keys)
    n = len(keys)
    totals = {}
    for row in conn.execute(q).all():
        key = (row[0], row[1] if arms is not None else None)
        totals[key] = {**{c: float(row[n + i]) for i, c in enumerate(TOTALS)}, "first_seen": float(row[-1])}
    cells: dict[tuple, int] = {}
    if arms is not None:
        c = latency.c
        q = (
            select(c.client_id, c.experiment, c.bin, func.sum(c.n))
            .where(c.hour >= lo, c.hour < hi, c.experiment.in_(list(arms)))
            .group_by(c.client_id, c.experiment, c.bin)
        )
        cells = {(r[0], r[1], int(r[2])): int(r[3]) for r in conn.execute(q).all()}
    return totals, cells


def _raw(conn: Connection, lo: float, hi: float, arms: Sequence[str] | None) -> tuple[dict, dict]:
    if hi <= lo:
        return {}, {}
    totals = raw_totals(conn, lo, hi, arms)
    cells: dict[tuple, int] = {}
    if arms is not None:
        rows = latency_rows(conn, lo, hi, arms)
        bins = latency_bin(np.array([r[2] for r in rows], dtype=float)).tolist() if rows else []
        for (c, e, _), b in zip(rows, bins, strict=True):
            cells[(c, e, b)] = cells.get((c, e, b), 0) + 1
    return totals, cells


def _merge(into: tuple[dict, dict], part: tuple[dict, dict]) -> None:
    totals, cells = into
    for k, t in part[0].items():
        if k not in totals:
            totals[k] = dict(t)
            continue
        have = totals[k]
        for c in TOTALS:
            have[c] += t[c]
        have["first_seen"] = min(have["first_seen"], t["first_seen"])
    for k, n in part[1].items():
        cells[k] = cells.get(k, 0) + n


def period(
    conn: Connection, start: float, end: float, arms: Sequence[str] | None, *, rollup: bool = True
) -> tuple[dict[tuple, dict[str, float]], dict[tuple, int]]:
    """Over ``[start, end)``: {(client, experiment): totals with ``first_seen``} for the requests of
    ``arms`` (``None``: all of a client's requests, keyed (client, None), no latency) and
    {(client, experiment, bin): ok requests}. Whole hours below the watermark come from the rollup
    (when ``rollup``), the rest from the raw rows."""
    out: tuple[dict, dict] = ({}, {})
    lo = int(math.ceil(start / HOUR) * HOUR)
    wm = _watermark(conn) if rollup else -math.inf
    hi = int(min(end // HOUR * HOUR, wm)) if math.isfinite(wm) else lo
    if hi <= lo:
        _merge(out, _raw(conn, start, end, arms))
        return out
    _merge(out, _raw(conn, start, lo, arms))
    _merge(out, _rolled(conn, lo, hi, arms))
    _merge(out, _raw(conn, hi, end, arms))
    return out
