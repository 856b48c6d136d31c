"""Production pulls (zeta.md §3.12): examples from the server's telemetry store.

:class:`StoreReader` is a pipeline reader over a SQLite or PostgreSQL store (the tables of
``nextedit.server.telemetry.schema``, read here by name with plain SQL: this layer does not import
the server). Its items are outcome events, listed by id in ``(created_at, id)`` order (cheap), and
each is read as one row when its shard runs, so a pull streams and a rerun resumes after the last
written shard (``run_pipeline``). Kinds:

* ``settled`` — settled reports with a region: ``expected_patches`` = [diff(answered region →
  settled region)], ``rejected_patch`` = diff(region → predicted region) when the two differ; tag
  ``settled``.
* ``accepted`` — accept reports: ``expected_patches`` = [diff(region → prediction)]; tag ``accepted``.
* ``rejected`` — reject reports: ``rejected_patch`` = diff(region → prediction),
  ``prompt.rejected_output`` = the predicted region, ``expected_patches`` from the request's
  settled region when one was reported; tags ``rejected``, ``rejection:<reason>``.
* ``captured`` — settled reports that carry an ``example`` payload: that example (when it parses),
  else as ``settled``; tag ``captured``.

**Only rows whose client allowed collection are exported**: the request and the report must both
say ``can_collect_data`` (an operator's ``collect = "all"`` does not widen a pull). Patches are
diffs of the whole excerpt with real file rows (``excerpt_start_row``) and ``a/``/``b/`` headers of
the cursor path; ``telemetry`` holds the ids, model version, experiment, outcome and the client's
and server's kept/recall figures.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from nextedit.pipeline.readers import Item, Reader
from nextedit.schema.example import Example, PromptRecord
from nextedit.schema.request import Zeta2PromptInput
from nextedit.text.diff import CURSOR_MARKER, unified_diff

PullKind = Literal["settled", "accepted", "rejected", "captured"]
PULL_KINDS: tuple[str, ...] = ("settled", "accepted", "rejected", "captured")
_EVENT_KIND = {"settled": "settled", "captured": "settled", "accepted": "accept", "rejected": "reject"}
_TELEMETRY = ("model_version", "experiment", "api", "prompt_format", "outcome", "client_id")
_FIGURES = ("edit_bytes_kept_rate", "edit_bytes_recall_rate", "server_kept_rate", "server_recall_rate")


def parse_since(value: str | float | None) -> float | None:
    """``--since``: unix seconds, or an ISO 8601 time (UTC unless it names a zone)."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        t = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"--since: {value!r} is neither unix seconds nor an ISO 8601 time") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.timestamp()


def engine_for(url: str):  # noqa: ANN201 - sqlalchemy Engine
    """A read engine for a store URL (``postgresql://`` is read through psycopg)."""
    from sqlalchemy import create_engine

    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url)


class StoreReader(Reader):
    """Examples of one ``kind`` from the telemetry store at ``url`` (module doc); ``since``: only
    events reported after it (unix seconds). Rows that cannot become an example (no excerpt, no
    answered range, a corrupt input) are dropped and counted by reason."""

    name = "pull"

    def __init__(self, url: str, kind: PullKind, since: float | None = None) -> None:
        super().__init__()
        if kind not in PULL_KINDS:
            raise ValueError(f"--kind must be one of {', '.join(PULL_KINDS)}, not {kind!r}")
        self.url, self.kind, self.since = url, kind, since
        self._engine = None

    def __getstate__(self) -> dict[str, Any]:  # shards may run in other processes
        return {**self.__dict__, "_engine": None}

    def fingerprint(self) -> Any:
        return {"store": self.url, "kind": self.kind, "since": self.since}

    @property
    def engine(self):  # noqa: ANN201
        if self._engine is None:
            self._engine = engine_for(self.url)
        return self._engine

    def check(self) -> None:
        """``ValueError`` (one line) when the URL names no telemetry store: a missing SQLite file
        (not created), an unreachable server, or a database without the two tables."""
        from sqlalchemy import inspect
        from sqlalchemy.exc import SQLAlchemyError

        if self.url.startswith("sqlite:///"):
            path = self.url.removeprefix("sqlite:///")
            if path and path != ":memory:" and not Path(path).is_file():
                raise ValueError(f"{path}: no such file")
        try:
            tables = set(inspect(self.engine).get_table_names())
        except (SQLAlchemyError, ImportError) as e:
            raise ValueError(f"cannot open the store: {str(e).splitlines()[0][:200]}") from None
        missing = {"requests", "outcome_events"} - tables
        if missing:
            raise ValueError(f"not a telemetry store: no {', '.join(sorted(missing))} table")

    # ------------------------------------------------------------------ listing
    def _where(self) -> tuple[str, dict[str, Any]]:
        sql = (
            " FROM outcome_events e JOIN requests r ON r.id = e.request_id"
            " WHERE e.kind = :kind AND r.can_collect_data = :yes AND r.input_json IS NOT NULL"
        )
        params: dict[str, Any] = {"kind": _EVENT_KIND[self.kind], "yes": True}
        if self.kind in ("settled", "captured"):
            sql += " AND e.can_collect_data = :yes AND e.settled_region IS NOT NULL"
        if self.kind == "captured":
            sql += " AND e.extra IS NOT NULL"
        if self.since is not None:
            sql += " AND e.created_at > :since"
            params["since"] = self.since
        return sql, params

    def items(self) -> Iterable[Item]:
        from sqlalchemy import text

        where, params = self._where()
        with self.engine.connect() as conn:
            for eid, rid in conn.execute(text(f"SELECT e.id, e.request_id{where} ORDER BY e.created_at, e.id"),
                                         params):  # fmt: skip
                yield Item(key=str(eid), label=f"{self.kind}-{rid}", data=int(eid))

    def count(self) -> int | None:
        from sqlalchemy import text

        where, params = self._where()
        with self.engine.connect() as conn:
            return int(conn.execute(text(f"SELECT COUNT(*){where}"), params).scalar_one())

    # ------------------------------------------------------------------ reading
    def read(self, item: Item) -> list[Example]:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT r.*, e.kind AS event_kind, e.reason, e.was_shown, e.created_at AS reported_at,"
                    " e.settled_region, e.extra, e.e2e_latency_ms, e.edit_bytes_kept_rate,"
                    " e.edit_bytes_recall_rate, e.server_kept_rate, e.server_recall_rate"
                    " FROM outcome_events e JOIN requests r ON r.id = e.request_id WHERE e.id = :id"
                ),
                {"id": item.data},
            ).mappings().first()  # fmt: skip
            if row is None:
                self.stats.drop("row gone")
                return []
            row = dict(row)
            if self.kind == "rejected":
                row["settled_region"] = conn.execute(
                    text(
                        "SELECT settled_region FROM outcome_events WHERE request_id = :rid AND kind = 'settled'"
                        " AND can_collect_data = :yes AND settled_region IS NOT NULL ORDER BY id DESC"
                    ),
                    {"rid": row["id"], "yes": True},
                ).scalar()  # fmt: skip
        example = self.example(row)
        return [] if example is None else [example]

    def example(self, row: dict[str, Any]) -> Example | None:
        """The example of one joined (request, event) row, or None (counted drop)."""
        extra = _json(row.get("extra")) or {}
        if self.kind == "captured":
            captured = extra.get("example") if isinstance(extra, dict) else None
            if not isinstance(captured, dict):
                self.stats.drop("no example payload")
                return None
            try:
                ex = Example.model_validate(captured)
            except ValueError:
                ex = None
            if ex is not None:
                ex.telemetry = {**(ex.telemetry or {}), **_telemetry(row)}
                ex.add_tag("captured")
                return ex
        try:
            request = Zeta2PromptInput.from_json(row["input_json"])
        except ValueError:
            self.stats.drop("invalid stored request")
            return None
        excerpt = request.cursor_excerpt.encode("utf-8")
        s, e = row.get("editable_start"), row.get("editable_end")
        if s is None or e is None or not (0 <= s <= e <= len(excerpt)) or row.get("output") is None:
            self.stats.drop("no answered editable range")
            return None
        path = request.cursor_path
        start_row = request.excerpt_start_row or 0

        def patch(new_region: str) -> str:
            new = excerpt[:s].decode("utf-8", "replace") + new_region + excerpt[e:].decode("utf-8", "replace")
            return unified_diff(
                request.cursor_excerpt, new, path, old_start_row=start_row, new_start_row=start_row
            )

        predicted, settled = row["output"], row.get("settled_region")
        before = excerpt[s:e].decode("utf-8", "replace")
        cursor = request.cursor_offset_in_excerpt
        sample = extra.get("sample_data") if isinstance(extra, dict) else None
        sample = sample if isinstance(sample, dict) else {}
        ex = Example(
            name=f"{self.kind}-{row['id']}",
            repository_url=str(sample.get("repository_url") or ""),
            revision=str(sample.get("revision") or ""),
            cursor_path=path,
            cursor_position=(excerpt[:cursor] + CURSOR_MARKER.encode() + excerpt[cursor:]).decode("utf-8"),
            edit_history=_edit_history(request),
            prompt_inputs=request.to_zed_json(),
            telemetry=_telemetry(row),
            tags=[self.kind],
        )
        if self.kind in ("settled", "captured"):
            ex.expected_patches = [patch(settled)]
            if predicted != settled and predicted != before:
                ex.rejected_patch = patch(predicted)
        elif self.kind == "accepted":
            ex.expected_patches = [patch(predicted)]
        else:
            ex.rejected_patch = patch(predicted)
            ex.prompt = PromptRecord(rejected_output=predicted)
            ex.add_tag(f"rejection:{row.get('reason') or 'Discarded'}")
            if settled is not None:
                ex.expected_patches = [patch(settled)]
        return ex


def _edit_history(request: Zeta2PromptInput) -> str:
    """The events as Zed's ``write_event`` renders them, joined by newlines (§3.12)."""
    from nextedit.prompts.history import write_event

    return "\n".join(write_event(ev) for ev in request.events)


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _telemetry(row: dict[str, Any]) -> dict[str, Any]:
    t: dict[str, Any] = {"request_id": row["id"], "requested_at": row.get("created_at"),
                         "reported_at": row.get("reported_at"), "event": row.get("event_kind")}  # fmt: skip
    t.update({k: row.get(k) for k in _TELEMETRY})
    for k in ("reason", "was_shown", "e2e_latency_ms", *_FIGURES):
        if row.get(k) is not None:
            t[k] = row[k]
    return {k: v for k, v in t.items() if v is not None}
