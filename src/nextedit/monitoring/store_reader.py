"""Reading the telemetry store (SQLite or PostgreSQL, through SQLAlchemy Core) into per-user totals.

Read-only: it never creates tables or files (a SQLite path that does not exist is an error), and it
uses the server's schema (:mod:`nextedit.server.telemetry.schema`) as it is. Four grouped queries
per report: requests per (client, experiment) in the period, outcome flags per request rolled up
per (client, experiment), the same two per client over the pre-period, and the latencies of the
period's ``ok`` requests (one row per request: the only query whose size grows with traffic rather
than with users).

What would make it cheaper on large stores (the schema is someone else's; these are wishes): an
index on ``requests (experiment, created_at)`` and on ``requests (client_id, created_at)``; a
``pinned`` flag on ``requests`` (a header-pinned request is not randomized and should be left out);
and a per (day, experiment, client) rollup with request / error / shown / accepted / settled /
kept-rate sums plus a fixed log-spaced latency histogram, maintained on write: every figure of the
report except the exact p95 could then be read from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import and_, case, func, inspect, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from nextedit.errors import NexteditError
from nextedit.monitoring.user_table import ArmUsers
from nextedit.server.telemetry.schema import outcome_events, requests
from nextedit.server.telemetry.store import make_engine

SERVER_ERROR_STATUSES = ("deadline_exceeded", "overloaded")


class StoreError(NexteditError):
    """The telemetry store cannot be read; the message names the URL."""


def open_store_readonly(url: str) -> Engine:
    """An engine on an existing store that has the telemetry tables."""
    if not url or url.lower() in ("none", "off", "null"):
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


def _outcomes_per_request(where, by_experiment: bool):  # noqa: ANN001, ANN202
    """Subquery: one row per request matching ``where`` with its shown / accepted flags and settled
    sums (grouped by the request's primary key: SQLite then walks the event index per request)."""
    e = outcome_events.c
    shown = case((or_(e.kind == "accept", and_(e.kind == "reject", e.was_shown.is_(True))), 1), else_=0)
    settled = case((and_(e.kind == "settled", e.edit_bytes_kept_rate.is_not(None)), 1), else_=0)
    kept = case((e.kind == "settled", func.coalesce(e.edit_bytes_kept_rate, 0.0)), else_=0.0)
    keys = [requests.c.client_id] + ([requests.c.experiment] if by_experiment else [])
    return (
        select(
            *keys,
            func.max(shown).label("shown"),
            func.max(case((e.kind == "accept", 1), else_=0)).label("accepted"),
            func.sum(settled).label("settled"),
            func.sum(kept).label("kept_sum"),
        )
        .select_from(requests.join(outcome_events, requests.c.id == e.request_id))
        .where(where)
        .group_by(requests.c.id, *keys)
        .subquery()
    )


def _totals(engine: Engine, start: float, end: float, arms: Sequence[str] | None):
    """{(client, experiment or None): {total: value}} and first-seen times, over ``[start, end)``."""
    by_experiment = arms is not None
    keys = [requests.c.client_id] + ([requests.c.experiment] if by_experiment else [])
    where = _window(start, end)
    if by_experiment:
        where = and_(where, requests.c.experiment.in_(list(arms)))
    req_rows = _run(
        engine,
        select(*keys, func.count(), func.sum(_error_flag()), func.min(requests.c.created_at))
        .where(where)
        .group_by(*keys),
    )
    per = _outcomes_per_request(where, by_experiment)
    okeys = [per.c.client_id] + ([per.c.experiment] if by_experiment else [])
    out_q = select(
        *okeys,
        func.sum(per.c.shown),
        func.sum(per.c.accepted),
        func.sum(per.c.settled),
        func.sum(per.c.kept_sum),
    ).group_by(*okeys)
    out_rows = _run(engine, out_q)
    totals: dict[tuple, dict[str, float]] = {}
    first_seen: dict[tuple, float] = {}
    for row in req_rows:
        key = (row[0], row[1] if by_experiment else None)
        n = len(keys)
        totals[key] = {"requests": float(row[n]), "errors": float(row[n + 1] or 0)}
        first_seen[key] = float(row[n + 2])
    for row in out_rows:
        key = (row[0], row[1] if by_experiment else None)
        n = len(okeys)
        t = totals.setdefault(key, {"requests": 0.0, "errors": 0.0})
        for i, name in enumerate(("shown", "accepted", "settled", "kept_sum")):
            t[name] = float(row[n + i] or 0)
    return totals, first_seen


def read_arms(
    engine: Engine,
    arms: Sequence[str],
    *,
    since: float,
    until: float,
    pre_since: float | None,
) -> tuple[list[ArmUsers], int]:
    """Per-user totals of each arm over ``[since, until)``, pre-period totals over
    ``[pre_since, since)``, and the latencies; returns the arms (in ``arms`` order) and the number
    of users left out because they appear in several arms (pinned or reassigned clients)."""
    totals, first_seen = _totals(engine, since, until, arms)
    arm_of: dict[str, str] = {}
    several: set[str] = set()
    for client, experiment in totals:
        if arm_of.setdefault(client, experiment) != experiment:
            several.add(client)
    clients = {a: sorted(c for c, e in arm_of.items() if e == a and c not in several) for a in arms}
    pre: dict[tuple, dict[str, float]] = {}
    if pre_since is not None and pre_since < since:
        pre, _ = _totals(engine, pre_since, since, None)
    lat_rows = _run(
        engine,
        select(requests.c.client_id, requests.c.experiment, requests.c.total_ms).where(
            _window(since, until),
            requests.c.experiment.in_(list(arms)),
            requests.c.status == "ok",
            requests.c.total_ms.is_not(None),
        ),
    )
    lat_by_arm: dict[str, tuple[list[int], list[float]]] = {a: ([], []) for a in arms}
    indexes = {a: {c: i for i, c in enumerate(clients[a])} for a in arms}
    for c, e, ms in lat_rows:
        i = indexes[e].get(c)
        if i is not None:
            lat_by_arm[e][0].append(i)
            lat_by_arm[e][1].append(ms)
    out: list[ArmUsers] = []
    for name in arms:
        ids = clients[name]
        arm = ArmUsers.empty(name, ids)
        for c, i in indexes[name].items():
            for k, v in totals[(c, name)].items():
                arm.during[k][i] = v
            for k, v in pre.get((c, None), {}).items():
                arm.pre[k][i] = v
            arm.first_seen[i] = first_seen.get((c, name), since)
        arm.latency_user = np.array(lat_by_arm[name][0], dtype=np.int64)
        arm.latency_ms = np.array(lat_by_arm[name][1], dtype=float)
        out.append(arm)
    return out, len(several)
