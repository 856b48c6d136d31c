"""Reading the telemetry store (SQLite or PostgreSQL, through SQLAlchemy Core) into per-user totals.

It never creates the server's tables (a SQLite path that does not exist is an error) and uses the
server's schema (:mod:`nextedit.server.telemetry.schema`) as it is. :func:`grouped_totals` is the one
definition of a user's totals (grouped queries: requests per key, outcome flags per request rolled
up per key); :mod:`~nextedit.monitoring.arm_reader` assembles the arms from it and from
:mod:`~nextedit.monitoring.ab_rollup`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import and_, case, func, inspect, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from nextedit.errors import NexteditError
from nextedit.monitoring.user_table import LATENCY_EDGES_MS
from nextedit.server.telemetry.schema import outcome_events, requests
from nextedit.server.telemetry.store import keeps_nothing, make_engine

SERVER_ERROR_STATUSES = ("deadline_exceeded", "overloaded")


class StoreError(NexteditError):
    """The telemetry store cannot be read; the message names the URL."""


def open_store_readonly(url: str) -> Engine:
    """An engine on an existing store that has the telemetry tables."""
    if keeps_nothing(url):
        raise StoreError("no telemetry store: give --store URL or a config whose [server] store is set")
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if not path or path == ":memory:":
            raise StoreError(f"{url}: an in-memory store has no telemetry to read")
        if not Path(path).expanduser().is_file():
            raise StoreError(f"{url}: no such telemetry store ({path} does not exist)")
    try:
        engine = make_engine(url)
        names = set(inspect(engine).get_table_names())
    except (SQLAlchemyError, ImportError, ValueError) as e:
        raise StoreError(f"{url}: cannot open the telemetry store: {_one_line(e)}") from None
    missing = {"requests", "outcome_events"} - names
    if missing:
        raise StoreError(f"{url}: not a telemetry store (no table {', '.join(sorted(missing))})")
    return engine


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split("\n", 1)[0].split())[:300]


def _error_flag():  # noqa: ANN202 - a SQL expression
    return case(
        (or_(requests.c.http_status >= 500, requests.c.status.in_(SERVER_ERROR_STATUSES)), 1), else_=0
    )


def _window(start: float, end: float):  # noqa: ANN202
    return and_(
        requests.c.created_at >= start, requests.c.created_at < end, requests.c.client_id.is_not(None)
    )


def experiment_start(engine: Engine, arms: Sequence[str], until: float) -> float | None:
    """The time of the first request labelled with one of ``arms`` (None: there is none)."""
    q = select(func.min(requests.c.created_at)).where(
        requests.c.experiment.in_(list(arms)), requests.c.created_at < until
    )
    return _run(engine, q, one=True)


def experiments_seen(engine: Engine, since: float | None, until: float) -> list[str]:
    """The experiment labels of the requests in ``[since, until)``, most requests first."""
    q = select(requests.c.experiment, func.count().label("n")).where(
        requests.c.experiment.is_not(None), requests.c.created_at < until
    )
    if since is not None:
        q = q.where(requests.c.created_at >= since)
    return [r[0] for r in _run(engine, q.group_by(requests.c.experiment).order_by(func.count().desc()))]


def _run(engine: Engine, query, *, one: bool = False):  # noqa: ANN001, ANN202
    try:
        with engine.connect() as conn:
            result = conn.execute(query)
            return result.scalar() if one else result.all()
    except SQLAlchemyError as e:
        raise StoreError(
            f"{engine.url.render_as_string(hide_password=True)}: query failed: {_one_line(e)}"
        ) from None


def _outcomes_per_request(where, keys: list):  # noqa: ANN001, ANN202
    """Subquery: one row per request matching ``where`` with ``keys`` (SQL expressions of the request,
    labelled), its shown / accepted flags and settled sums. The join is on ``requests.id || ''`` so
    that no index on ``requests.id`` serves it: SQLite then walks the window's requests by time and
    the event index per request, instead of scanning every event."""
    e = outcome_events.c
    shown = case((or_(e.kind == "accept", and_(e.kind == "reject", e.was_shown.is_(True))), 1), else_=0)
    settled = case((and_(e.kind == "settled", e.edit_bytes_kept_rate.is_not(None)), 1), else_=0)
    kept = case((e.kind == "settled", func.coalesce(e.edit_bytes_kept_rate, 0.0)), else_=0.0)
    return (
        select(
            *keys,
            func.max(shown).label("shown"),
            func.max(case((e.kind == "accept", 1), else_=0)).label("accepted"),
            func.sum(settled).label("settled"),
            func.sum(kept).label("kept_sum"),
        )
        .select_from(requests.join(outcome_events, e.request_id == requests.c.id.concat("")))
        .where(where)
        .group_by(requests.c.id, *keys)
        .subquery()
    )


def grouped_totals(conn: Connection, where, keys: list) -> dict[tuple, dict[str, float]]:  # noqa: ANN001
    """The :data:`~nextedit.monitoring.user_table.TOTALS` and ``first_seen`` (min ``created_at``) of
    the requests matching ``where``, per value of ``keys`` (labelled SQL expressions of ``requests``).
    The one definition of a user's totals: the raw-row report and the A/B rollup both use it."""
    req_rows = conn.execute(
        select(*keys, func.count(), func.sum(_error_flag()), func.min(requests.c.created_at))
        .where(where)
        .group_by(*keys)
    ).all()
    per = _outcomes_per_request(where, keys)
    okeys = [per.c[k.name] for k in keys]
    out_rows = conn.execute(
        select(
            *okeys,
            func.sum(per.c.shown),
            func.sum(per.c.accepted),
            func.sum(per.c.settled),
            func.sum(per.c.kept_sum),
        ).group_by(*okeys)
    ).all()
    n = len(keys)
    totals: dict[tuple, dict[str, float]] = {}
    for row in req_rows:
        totals[tuple(row[:n])] = {
            "requests": float(row[n]), "errors": float(row[n + 1] or 0), "first_seen": float(row[n + 2]),
            "shown": 0.0, "accepted": 0.0, "settled": 0.0, "kept_sum": 0.0,
        }  # fmt: skip
    for row in out_rows:
        t = totals[tuple(row[:n])]
        for i, name in enumerate(("shown", "accepted", "settled", "kept_sum")):
            t[name] = float(row[n + i] or 0)
    return totals


def raw_totals(conn: Connection, start: float, end: float, arms: Sequence[str] | None) -> dict[tuple, dict]:
    """{(client, experiment or None): totals with ``first_seen``} of the raw rows in ``[start, end)``;
    ``arms=None``: every request of the client (the pre-period), experiment key None."""
    where = _window(start, end)
    keys = [requests.c.client_id.label("client_id")]
    if arms is not None:
        where = and_(where, requests.c.experiment.in_(list(arms)))
        keys.append(requests.c.experiment.label("experiment"))
    out = grouped_totals(conn, where, keys)
    return out if arms is not None else {(k[0], None): v for k, v in out.items()}


def latency_rows(conn: Connection, start: float, end: float, arms: Sequence[str]) -> list[tuple]:
    """(client, experiment, total_ms) of the ``ok`` requests of ``arms`` in ``[start, end)``."""
    return conn.execute(
        select(requests.c.client_id, requests.c.experiment, requests.c.total_ms).where(
            _window(start, end),
            requests.c.experiment.in_(list(arms)),
            requests.c.status == "ok",
            requests.c.total_ms.is_not(None),
        )
    ).all()


def latency_bin(ms: np.ndarray) -> np.ndarray:
    """The :data:`LATENCY_EDGES_MS` bin of each latency (ms)."""
    return np.clip(np.searchsorted(LATENCY_EDGES_MS, ms, side="right") - 1, 0, len(LATENCY_EDGES_MS) - 1)
