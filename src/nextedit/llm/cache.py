"""The response cache: one SQLite file in WAL mode, shared by threads and processes.

* ``responses``: answer records (:meth:`ChatResult.to_record`) by request key. Only ok answers are
  stored (a truncated answer is an answer); failures are not, so a rerun tries them again.
* ``batch_requests`` / ``batches``: in batched mode, which provider batch each pending key was
  submitted in, so a rerun (or another process) collects a finished batch instead of paying twice.

The key (:func:`request_key`) is the SHA-256 of the backend identity, model, ``max_tokens``,
``temperature``, ``seed`` and messages. Nothing else is stored about a request: no headers, no key.

In batched mode a batch is recorded once the provider has accepted it: a process killed between the
two, or two processes submitting the same misses at the same moment, may pay for a batch twice (the
answers agree; the last stored is kept). Nothing is lost either way.

Every write is one short transaction, committed before the call returns: a process killed with
SIGKILL leaves a database that opens, with every committed entry readable (WAL recovery). Writers
wait on each other through ``busy_timeout``; each thread gets its own connection.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nextedit.errors import NexteditError
from nextedit.llm.types import ChatRequest, ChatResult

SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY, backend TEXT NOT NULL, model TEXT NOT NULL,
    result TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY, backend TEXT NOT NULL, model TEXT NOT NULL,
    state TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS batch_requests (
    key TEXT PRIMARY KEY, batch_id TEXT NOT NULL REFERENCES batches(batch_id));
"""
BUSY_TIMEOUT_MS = 60_000


def request_key(backend_identity: str, model: str, request: ChatRequest) -> str:
    """64 hex digits naming ``request`` to ``model`` on a backend (also the batch ``custom_id``)."""
    p = request.params
    payload = [
        backend_identity,
        model,
        p.max_tokens,
        p.temperature,
        p.seed,
        [[m["role"], m["content"]] for m in request.messages],
    ]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


class ResponseCache:
    """The cache at ``path`` (created with its folder when missing).

    A file that is not a SQLite database raises :class:`NexteditError` naming it.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = self._db()
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
        except (sqlite3.DatabaseError, OSError) as e:
            raise NexteditError(f"{self.path}: cannot open the LLM response cache ({e})") from None

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA synchronous=NORMAL")  # durable against a killed process (WAL)
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    # -- answers ------------------------------------------------------------------------------
    def get(self, key: str) -> ChatResult | None:
        row = self._db().execute("SELECT result FROM responses WHERE key = ?", (key,)).fetchone()
        return ChatResult.from_record(json.loads(row[0]), cached=True) if row else None

    def get_many(self, keys: Iterable[str]) -> dict[str, ChatResult]:
        found: dict[str, ChatResult] = {}
        keys = list(keys)
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            rows = self._db().execute(
                f"SELECT key, result FROM responses WHERE key IN ({','.join('?' * len(chunk))})", chunk
            )
            found.update({k: ChatResult.from_record(json.loads(r), cached=True) for k, r in rows})
        return found

    def put(self, key: str, backend: str, model: str, result: ChatResult) -> None:
        self.put_many([(key, result)], backend, model)

    def put_many(self, items: Iterable[tuple[str, ChatResult]], backend: str, model: str) -> None:
        """Store ok answers in one transaction; the keys leave any batch they were pending in."""
        now = time.time()
        rows = [(k, backend, model, json.dumps(r.to_record()), now) for k, r in items if r.ok]
        if not rows:
            return
        with self._transaction() as db:
            db.executemany("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?)", rows)
            db.executemany("DELETE FROM batch_requests WHERE key = ?", [(r[0],) for r in rows])

    def __len__(self) -> int:
        return self._db().execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    # -- batches ------------------------------------------------------------------------------
    def record_batch(self, batch_id: str, backend: str, model: str, keys: Iterable[str]) -> None:
        """Remember that ``keys`` were submitted in provider batch ``batch_id``."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO batches VALUES (?, ?, ?, 'submitted', ?)",
                (batch_id, backend, model, time.time()),
            )
            db.executemany(
                "INSERT OR REPLACE INTO batch_requests VALUES (?, ?)", [(k, batch_id) for k in keys]
            )

    def pending_batches(self, keys: Iterable[str]) -> dict[str, list[str]]:
        """``{batch_id: [key…]}`` for those of ``keys`` waiting in a submitted batch."""
        out: dict[str, list[str]] = {}
        keys = list(keys)
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            rows = self._db().execute(
                "SELECT r.key, r.batch_id FROM batch_requests r JOIN batches b USING (batch_id) "
                f"WHERE b.state = 'submitted' AND r.key IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            for key, batch_id in rows:
                out.setdefault(batch_id, []).append(key)
        return out

    def set_batch_state(self, batch_id: str, state: str) -> None:
        """``collected`` (its answers are stored) or ``lost`` (its keys may be submitted again)."""
        with self._transaction() as db:
            db.execute("UPDATE batches SET state = ? WHERE batch_id = ?", (state, batch_id))
            if state == "lost":
                db.execute("DELETE FROM batch_requests WHERE batch_id = ?", (batch_id,))

    def batches(self) -> list[dict[str, Any]]:
        rows = self._db().execute(
            "SELECT batch_id, backend, model, state, created_at FROM batches ORDER BY created_at"
        )
        return [
            dict(zip(("batch_id", "backend", "model", "state", "created_at"), r, strict=True)) for r in rows
        ]

    # -- plumbing -----------------------------------------------------------------------------
    def _transaction(self) -> _Transaction:
        return _Transaction(self._db())

    def close(self) -> None:
        with self._lock:
            for db in self._connections:
                db.close()
            self._connections.clear()
        self._local = threading.local()


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on an exception): takes the write lock up front,
    so two writers queue on ``busy_timeout`` instead of failing with a lock upgrade."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
