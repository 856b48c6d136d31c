"""The one incremental refresh of the hourly rollup tables (dashboard and A/B).

A rollup keeps a watermark (unix seconds, an hour boundary) in a one-row state table: every hour
before it is aggregated into the rollup's tables, every hour after it is read from raw rows.
:func:`refresh_rollup` aggregates the hours that closed since the last call, in one transaction
with the watermark's update, so a reader sees either the old or the new watermark with its rows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from sqlalchemy import Table, func, select
from sqlalchemy.engine import Connection, Engine

from nextedit.server.telemetry.schema import requests

HOUR = 3600
Aggregate = Callable[[Connection, float, float], Sequence[list[dict]]]

_locks: dict[tuple[str, str], threading.Lock] = {}


def hour_of(t: float) -> int:
    """The start of the hour holding ``t`` (unix seconds)."""
    return int(t // HOUR * HOUR)


def refresh_rollup(
    engine: Engine,
    *,
    state: Table,
    tables: Sequence[Table],
    ensure_tables: Callable[[Engine], None],
    watermark_for: Callable[[float], int],
    aggregate: Aggregate,
    now: float | None = None,
) -> int:
    """Aggregate ``[old watermark, watermark_for(now))`` into ``tables`` (``aggregate`` returns one
    list of rows per table) and move the watermark; returns it. One refresh at a time per store and
    rollup: a thread lock here, ``SELECT … FOR UPDATE`` on the state row across processes
    (PostgreSQL)."""
    now = time.time() if now is None else now
    lock = _locks.setdefault((state.name, str(engine.url)), threading.Lock())
    with lock:
        ensure_tables(engine)
        with engine.begin() as conn:
            old = conn.execute(select(state.c.watermark).with_for_update()).scalar()
            new = watermark_for(now)
            if old is None:
                first = conn.execute(select(func.min(requests.c.created_at))).scalar()
                old = hour_of(first) if first is not None else new
                conn.execute(state.insert(), {"watermark": old})
            if new <= old:
                return int(old)
            for table, rows in zip(tables, aggregate(conn, old, new), strict=True):
                if rows:
                    conn.execute(table.insert(), rows)
            conn.execute(state.update().values(watermark=new))
            return new
