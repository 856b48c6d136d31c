"""The telemetry store: one background writer thread that group-commits what a bounded queue holds.

Two kinds of writes, one queue (order is kept, so a request row is written before the outcome
events that follow it):

* **Durable** — :meth:`TelemetryStore.write_events` (outcome reports). The caller awaits the commit
  of the transaction that holds its rows; a handler answers 2xx only after that, so an acknowledged
  report survives a kill -9. Concurrent callers share one transaction (group commit): while the
  writer commits one batch the next one gathers, so the cost per report is a share of one commit.
* **Best effort** — :meth:`record_request` (prediction rows) and :meth:`record_event`. Queued and
  written without waiting: the writer commits whatever is queued as soon as it is free (no batch
  waits for more), so a kill -9 loses only what arrived during the last commit (~ms, ≤ 100 ms
  while the writer keeps up). A full queue drops the row and counts it (``on_drop``).

The writer never lets one bad row sink its batch: a transient failure retries the batch, any other
splits it until the bad write is alone; a durable write that still fails answers its caller :class:`~nextedit.server.errors.Unavailable`
(503, not acknowledged). :meth:`close` drains the queue fully before it returns. SQLite runs in
WAL mode with ``synchronous=NORMAL``: a commit survives a process crash (what kill -9 tests), not
a power cut. PostgreSQL is used through ``postgresql+psycopg://`` URLs; outcome updates of a batch
are one ``UPDATE … FROM unnest(…)`` statement there and one ``executemany`` on SQLite.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, create_engine, event, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from nextedit.server.errors import Unavailable
from nextedit.server.telemetry.schema import add_missing_columns, outcome_events, requests

log = logging.getLogger("nextedit.server.telemetry")

Event = tuple[dict[str, Any], str | None]  # (outcome_events row, new requests.outcome or None)


@dataclass
class _Write:
    """One producer's records, committed together; ``done`` resolves after their commit."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    done: Future | None = None

    @property
    def size(self) -> int:
        return len(self.requests) + len(self.events)


_STOP = _Write()
_RETRY_DELAYS_S = (0.05, 0.25, 1.0)  # between attempts of a batch that failed for a transient reason


def _prepare_sqlite(url: str) -> None:
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:":
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str, *, pre_ping: bool = True) -> Engine:
    """SQLAlchemy engine; SQLite gets WAL + NORMAL sync + a busy timeout. ``pre_ping`` tests a
    pooled server connection before each use (a round trip; the writer retries instead)."""
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
    return create_engine(url, pool_pre_ping=pre_ping)


class TelemetryStore:
    """Request rows + outcome events behind a writer thread. ``url=None`` keeps nothing.

    ``max_pending``: queued writes (one per call) before new ones are refused; ``batch``: records
    per transaction at most."""

    def __init__(
        self,
        url: str | None,
        *,
        max_pending: int = 10000,
        on_drop: Callable[[int], None] | None = None,
        batch: int = 2000,
    ) -> None:
        self.url = url
        self.engine = make_engine(url, pre_ping=False) if url else None
        if self.engine is not None:
            add_missing_columns(self.engine)  # an older store gains the new (nullable) columns
        self._queue: queue.Queue[_Write] = queue.Queue(maxsize=max_pending)
        self._on_drop = on_drop
        self._batch = batch
        self._closed = False
        self.written = 0  # records committed
        self.dropped = 0  # records lost (queue full, or a write that failed alone)
        self.commits = 0  # transactions committed
        self._thread = threading.Thread(target=self._loop, name="nextedit-telemetry", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ producers
    def _drop(self, n: int) -> None:
        self.dropped += n
        if self._on_drop:
            self._on_drop(n)

    def record_request(self, row: dict[str, Any]) -> None:
        """Queue a ``requests`` row (keys = column names); never blocks, dropped when full."""
        self._put_nowait(_Write(requests=[row]))

    def record_event(self, row: dict[str, Any], *, outcome: str | None = None) -> None:
        """Queue an ``outcome_events`` row without waiting (``outcome`` also updates
        ``requests.outcome``); for acknowledged reports use :meth:`write_events`."""
        self._put_nowait(_Write(events=[(row, outcome)]))

    def _put_nowait(self, w: _Write) -> None:
        if self.engine is None or self._closed:
            return
        try:
            self._queue.put_nowait(w)
        except queue.Full:
            self._drop(w.size)

    def submit_events(self, events: list[Event]) -> Future:
        """Queue ``events`` as one durable write; the future resolves (``None``) once they are
        committed, or raises :class:`Unavailable` if they were not (queue full, store closed,
        write failed)."""
        done: Future = Future()
        if self.engine is None or not events:
            done.set_result(None)
            return done
        if self._closed:
            done.set_exception(Unavailable("the telemetry store is shutting down; retry later"))
            return done
        try:
            self._queue.put_nowait(_Write(events=list(events), done=done))
        except queue.Full:
            done.set_exception(Unavailable("the telemetry store is falling behind; retry later"))
        return done

    async def write_events(self, events: list[Event]) -> None:
        """Store ``events`` and return once they are committed (group commit with concurrent
        callers). Raises :class:`Unavailable` (HTTP 503) when they were not stored."""
        await asyncio.wrap_future(self.submit_events(events))

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until everything queued so far is committed (tests, shutdown); False on timeout."""
        if self.engine is None or not self._thread.is_alive():
            return True
        done: Future = Future()
        self._queue.put(_Write(done=done))
        try:
            done.result(timeout)
        except (TimeoutError, Unavailable):  # Unavailable: it raced close()
            return False
        return True

    def close(self, timeout: float | None = None) -> None:
        """Refuse new writes, commit everything already queued (waits until the queue is drained,
        or ``timeout`` seconds), then release the engine."""
        self._closed = True
        if self._thread.is_alive():
            pending = self._queue.qsize()
            if pending:
                log.info("telemetry: draining %d queued writes before shutdown", pending)
            self._queue.put(_STOP)
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("telemetry: writer still busy after %s s; %d writes not committed",
                          timeout, self._queue.qsize())  # fmt: skip
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
            writes = [self._queue.get()]
            size = writes[0].size
            while size < self._batch and writes[-1] is not _STOP:
                try:
                    w = self._queue.get_nowait()
                except queue.Empty:
                    break
                writes.append(w)
                size += w.size
            stop = writes[-1] is _STOP
            self._write([w for w in writes if w is not _STOP])
            if stop:
                self._refuse_late_writes()
                return

    def _refuse_late_writes(self) -> None:
        """After the stop: writes that raced :meth:`close` are refused, never left waiting."""
        while True:
            try:
                w = self._queue.get_nowait()
            except queue.Empty:
                return
            self._drop(w.size)
            if w.done is not None:
                w.done.set_exception(Unavailable("the telemetry store is shutting down; retry later"))

    def _write(self, writes: list[_Write]) -> None:
        records = [w for w in writes if w.size]
        for w, err in self._commit_batch(records) if records else []:
            log.error("telemetry write of %d records failed: %s", w.size, err)
            self._drop(w.size)
            if w.done is not None:
                w.done.set_exception(
                    Unavailable(f"telemetry write failed ({type(err).__name__}); retry later")
                )
                w.done = None
        for w in writes:
            if w.done is not None:
                w.done.set_result(None)

    def _commit_batch(self, writes: list[_Write]) -> list[tuple[_Write, Exception]]:
        """Commit ``writes`` in one transaction; return those that failed, with why. A transient
        failure (a locked database, a lost connection) retries the whole batch a few times (~1.3 s
        in all); any other error splits the batch in halves, so a bad write loses only itself."""
        for delay in (*_RETRY_DELAYS_S, None):
            try:
                self._commit(writes)
                return []
            except (OperationalError, InterfaceError) as e:
                if delay is None:
                    return [(w, e) for w in writes]
                log.warning(
                    "telemetry batch of %d writes failed (%s); retrying in %.2f s", len(writes), e, delay
                )
                time.sleep(delay)
            except Exception as e:  # noqa: BLE001 - the writer must survive any bad record
                if len(writes) == 1:
                    return [(writes[0], e)]
                mid = len(writes) // 2
                return self._commit_batch(writes[:mid]) + self._commit_batch(writes[mid:])
        raise AssertionError("unreachable")

    def _commit(self, writes: list[_Write]) -> None:
        reqs = [_full_row(requests, r) for w in writes for r in w.requests]
        events = [e for w in writes for e in w.events]
        with self.engine.begin() as conn:
            if reqs:
                conn.execute(requests.insert(), reqs)
            if events:
                conn.execute(outcome_events.insert(), [_full_row(outcome_events, row) for row, _ in events])
                outcomes = {row["request_id"]: o for row, o in events if o}  # the last one wins
                if outcomes:
                    _set_outcomes(conn, outcomes)
        self.written += len(reqs) + len(events)
        self.commits += 1


def _set_outcomes(conn: Connection, outcomes: dict[str, str]) -> None:
    """``requests.outcome = outcomes[id]`` for every id, in one statement (PostgreSQL) or one
    ``executemany`` (SQLite, in-process)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                "UPDATE requests SET outcome = v.outcome"
                " FROM unnest(CAST(:ids AS varchar[]), CAST(:outcomes AS varchar[])) AS v(id, outcome)"
                " WHERE requests.id = v.id"
            ),
            {"ids": list(outcomes), "outcomes": list(outcomes.values())},
        )
        return
    stmt = update(requests).where(requests.c.id == bindparam("rid")).values(outcome=bindparam("new_outcome"))
    conn.execute(stmt, [{"rid": k, "new_outcome": v} for k, v in outcomes.items()])


def _full_row(table: Any, row: dict[str, Any]) -> dict[str, Any]:
    """Every column present (executemany needs uniform keys); unknown keys are an error."""
    unknown = set(row) - set(table.c.keys())
    if unknown:
        raise KeyError(f"{table.name}: unknown columns {sorted(unknown)}")
    return {c.name: row.get(c.name) for c in table.columns if not (c.primary_key and c.autoincrement is True)}


def keeps_nothing(url: str | None) -> bool:
    """``"none"``/``"off"``/``"null"``/``""``/``None``: the URL of a store that keeps nothing."""
    return not url or url.lower() in ("none", "off", "null")


def open_store(url: str | None, **kw: Any) -> TelemetryStore:
    """The store at ``url`` (one that keeps nothing for :func:`keeps_nothing` URLs)."""
    return TelemetryStore(None if keeps_nothing(url) else url, **kw)
