"""Tables (SQLAlchemy Core; same schema on SQLite and PostgreSQL).

``requests``: one row per prediction request. Latencies in **milliseconds**; tokens are model
tokens (bytes//3 estimates for non-neural providers). ``prompt``/``input_json``/``output`` are only
filled when the client set ``can_collect_data``. ``outcome`` is the latest outcome event kind
(``accepted``, ``rejected:<Reason>``, ``settled``).

``outcome_events``: accept / reject / settled reports from the editor, keyed by ``request_id``.
``settled_region`` is only stored when the client allowed data collection.

The limits below are the one source of truth for what the columns hold on both backends; the
report models (:mod:`nextedit.server.protocols.outcomes`) validate against them, so what the API
accepts the store stores (PostgreSQL enforces ``String(n)`` and 32-bit ``Integer``; SQLite does not);
:func:`storable_json` says whether a value fits the ``extra`` JSON column.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

ID_CHARS = 64  # requests.id / outcome_events.request_id
VERSION_CHARS = 200  # model_version
FILE_EXT_CHARS = 16  # requests.file_ext
INT_MAX = 2**31 - 1  # Integer columns (PostgreSQL ``integer``)
JSON_DEPTH = 64  # nesting allowed in the ``extra`` JSON column

metadata = MetaData()

requests = Table(
    "requests",
    metadata,
    Column("id", String(ID_CHARS), primary_key=True),
    Column("created_at", Float, nullable=False),  # unix seconds
    Column("client_id", String(64)),  # sha256 prefix of the client key (never the raw token/IP)
    Column("model_version", String(VERSION_CHARS)),
    Column("experiment", String(200)),
    Column("api", String(32)),  # openai | ollama | v3
    Column("prompt_format", String(64)),
    Column("status", String(32)),  # ok | canceled | deadline_exceeded | overloaded | invalid_request | ...
    Column("http_status", Integer),
    Column("queue_ms", Float),
    Column("context_ms", Float),
    Column("prompt_ms", Float),
    Column("model_ms", Float),
    Column("parse_ms", Float),
    Column("total_ms", Float),
    Column("prompt_tokens", Integer),
    Column("completion_tokens", Integer),
    Column("spec_drafted", Integer),  # speculative decoding: drafted tokens
    Column("spec_accepted", Integer),  # ... and how many the model accepted
    Column("no_edit", Boolean),
    Column("can_collect_data", Boolean),
    Column("error", Text),
    Column("outcome", String(64)),
    Column("prompt", Text),
    Column("input_json", Text),
    Column("output", Text),
    Column("editable_start", Integer),  # v3: the answered editable range, UTF-8 bytes of the excerpt
    Column("editable_end", Integer),
    Column("file_ext", String(FILE_EXT_CHARS)),  # "rs" of the cursor path "src/main.rs" (file_ext())
    Index("ix_requests_created_at", "created_at"),
    Index("ix_requests_model_version", "model_version"),
)

outcome_events = Table(
    "outcome_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(ID_CHARS), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("kind", String(16), nullable=False),  # accept | reject | settled
    Column("source", String(16)),  # None: reported by the client; "inferred": server/inferred.py
    Column("reason", String(32)),  # reject reason (§1.5)
    Column("was_shown", Boolean),
    Column("model_version", String(VERSION_CHARS)),
    Column("e2e_latency_ms", Float),
    Column("can_collect_data", Boolean),
    Column("is_in_open_source_repo", Boolean),
    Column("settled_region", Text),
    Column("ts_error_count_before", Integer),
    Column("ts_error_count_after", Integer),
    Column("edit_bytes_candidate_new", Integer),
    Column("edit_bytes_reference_new", Integer),
    Column("edit_bytes_candidate_deleted", Integer),
    Column("edit_bytes_reference_deleted", Integer),
    Column("edit_bytes_kept", Integer),
    Column("edit_bytes_correctly_deleted", Integer),
    Column("edit_bytes_discarded", Integer),
    Column("edit_bytes_context", Integer),
    Column("edit_bytes_kept_rate", Float),
    Column("edit_bytes_recall_rate", Float),
    # settled reports: linked to their request, figures recomputed by the server (server/settled.py)
    Column("linked", Boolean),  # the request row was found
    Column("server_kept_rate", Float),
    Column("server_recall_rate", Float),
    Column("server_edit_bytes", JSON),  # all §5.3 counts the server computed
    Column("kept_rate_mismatch", Boolean),  # client and server figures differ
    Column("extra", JSON),  # other reported fields (sample_data only when can_collect_data)
    Index("ix_outcome_events_request_id", "request_id"),
)


_EXT = re.compile(r"[a-z0-9][a-z0-9+_-]*")


def file_ext(path: str | None) -> str | None:
    """The lowercased extension of ``path``'s file name without the dot (``src/Main.RS`` → ``rs``),
    or None: no path, no extension (``Makefile``, ``.gitignore``), or not a short plain one
    (at most :data:`FILE_EXT_CHARS` of ``a-z0-9+_-``). Never more of the path than that."""
    if not path:
        return None
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    ext = ext.lower()
    if not dot or not stem.strip(".") or len(ext) > FILE_EXT_CHARS or not _EXT.fullmatch(ext):
        return None
    return ext


def add_missing_columns(engine: Any) -> list[str]:
    """Create the tables, and add the nullable columns a store made by an older version lacks
    (``ALTER TABLE … ADD COLUMN``, both backends); returns ``table.column`` of those added."""
    from sqlalchemy import inspect
    from sqlalchemy import text as sql

    metadata.create_all(engine)
    added = []
    have = inspect(engine)
    for table in metadata.sorted_tables:
        existing = {c["name"] for c in have.get_columns(table.name)}
        for col in table.columns:
            if col.name not in existing and col.nullable and not col.primary_key:
                kind = col.type.compile(dialect=engine.dialect)
                with engine.begin() as conn:
                    conn.execute(sql(f'ALTER TABLE {table.name} ADD COLUMN "{col.name}" {kind}'))
                added.append(f"{table.name}.{col.name}")
    return added


def storable_json(value: Any) -> Any:
    """``value`` if the ``extra`` JSON column can hold it on both backends: nested at most
    ``JSON_DEPTH`` levels, no NaN/Infinity, no unpaired surrogates; else ``ValueError`` saying why."""
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, dict | list):
            if depth > JSON_DEPTH:
                raise ValueError(f"nested deeper than {JSON_DEPTH} levels")
            stack.extend((c, depth + 1) for c in (v.values() if isinstance(v, dict) else v))
    try:
        json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except ValueError as e:  # NaN/Infinity, or UnicodeEncodeError (a subclass) for a lone surrogate
        raise ValueError("must not contain NaN, Infinity or unpaired surrogates") from e
    return value
