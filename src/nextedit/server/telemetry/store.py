"""The telemetry store: one background writer thread fed by a bounded queue.

Handlers call :meth:`TelemetryStore.record_request` / :meth:`record_event`, which only enqueue
(``put_nowait``): a write never blocks the response path. When the queue is full the record is
dropped and counted. The writer commits batches in one transaction each. SQLite runs in WAL mode;
PostgreSQL is used through ``postgresql+psycopg://`` URLs with the same tables and code.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select, update
from sqlalchemy.engine import Engine

from nextedit.server.telemetry.schema import metadata, outcome_events, requests

log = logging.getLogger("nextedit.server.telemetry")

_STOP = object()


def _prepare_sqlite(url: str) -> None:
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:":
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str) -> Engine:
    """SQLAlchemy engine; SQLite gets WAL + NORMAL sync + a busy timeout."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        _prepare_sqlite(url)
        engine = create_engine(url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class TelemetryStore:
    """Request rows + outcome events behind a writer thread. ``url=None`` keeps nothing."""

    def __init__(
        self,
        url: str | None,
        *,
        max_pending: int = 10000,
        on_drop: Callable[[int], None] | None = None,
        batch: int = 500,
    ) -> None:
        self.url = url
        self.engine = make_engine(url) if url else None
        if self.engine is not None:
            metadata.create_all(self.engine)
        self._queue: queue.Queue = queue.Queue(maxsize=max_pending)
        self._on_drop = on_drop
        self._batch = batch
        self.written = 0
        self.dropped = 0
        self._thread = threading.Thread(target=self._loop, name="nextedit-telemetry", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ producers (never block)
    def _put(self, item: Any) -> None:
        if self.engine is None:
            return
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._drop(1)

    def _drop(self, n: int) -> None:
        self.dropped += n
        if self._on_drop:
            self._on_drop(n)

    def record_request(self, row: dict[str, Any]) -> None:
        """Queue a ``requests`` row (keys = column names)."""
        self._put(("request", row))

    def record_event(self, row: dict[str, Any], *, outcome: str | None = None) -> None:
        """Queue an ``outcome_events`` row; ``outcome`` also updates ``requests.outcome``."""
        self._put(("event", row, outcome))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is committed (tests, shutdown)."""
        if self.engine is None:
            return True
        done = threading.Event()
        self._queue.put(("flush", done))
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)
        if self.engine is not None:
            self.engine.dispose()

    # ------------------------------------------------------------------ reading (tests, reports)
    def fetch(self, table: str = "requests", **where: Any) -> list[dict[str, Any]]:
        if self.engine is None:
            return []
        t = {"requests": requests, "outcome_events": outcome_events}[table]
        q = select(t)
        for k, v in where.items():
            q = q.where(t.c[k] == v)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    # ------------------------------------------------------------------ writer
    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            items = [item]
            while len(items) < self._batch:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(i is _STOP for i in items)
            self._write([i for i in items if i is not _STOP])
            if stop:
                return

    def _write(self, items: list[Any]) -> None:
        flushes = [i[1] for i in items if i[0] == "flush"]
        records = [i for i in items if i[0] in ("request", "event")]
        if records:
            try:
                self._commit(records)
            except Exception as e:  # noqa: BLE001 - retry one by one so one bad row loses only itself
                log.warning("telemetry batch of %d failed (%s); retrying record by record", len(records), e)
                for r in records:
                    try:
                        self._commit([r])
                    except Exception as e1:  # noqa: BLE001 - the writer must survive
                        log.error("telemetry record dropped: %s", e1)
                        self._drop(1)
        for f in flushes:
            f.set()

    def _commit(self, records: list[Any]) -> None:
        reqs = [_full_row(requests, r[1]) for r in records if r[0] == "request"]
        events = [r for r in records if r[0] == "event"]
        with self.engine.begin() as conn:
            if reqs:
                conn.execute(requests.insert(), reqs)
            if events:
                conn.execute(outcome_events.insert(), [_full_row(outcome_events, e[1]) for e in events])
                for row, outcome in ((e[1], e[2]) for e in events):
                    if outcome:
                        conn.execute(
                            update(requests).where(requests.c.id == row["request_id"]).values(outcome=outcome)
                        )
        self.written += len(records)


def _full_row(table: Any, row: dict[str, Any]) -> dict[str, Any]:
    """Every column present (executemany needs uniform keys); unknown keys are an error."""
    unknown = set(row) - set(table.c.keys())
    if unknown:
        raise KeyError(f"{table.name}: unknown columns {sorted(unknown)}")
    return {c.name: row.get(c.name) for c in table.columns if not (c.primary_key and c.autoincrement is True)}


def open_store(url: str | None, **kw: Any) -> TelemetryStore:
    """``"none"``/``""``/``None`` → a store that keeps nothing."""
    if not url or url.lower() in ("none", "off", "null"):
        return TelemetryStore(None, **kw)
    return TelemetryStore(url, **kw)
