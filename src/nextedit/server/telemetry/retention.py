"""Retention: delete telemetry older than a number of days (``[privacy] retention_days``)."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import delete

from nextedit.server.telemetry.schema import metadata, outcome_events, requests
from nextedit.server.telemetry.store import make_engine

DAY_S = 86400.0


def purge(url: str, older_than_days: float, *, now: float | None = None) -> dict[str, int]:
    """Delete ``requests`` and ``outcome_events`` rows created more than ``older_than_days`` days
    before ``now`` (unix seconds; default: the current time), in one transaction. Returns the
    number of rows deleted per table."""
    if not older_than_days > 0:
        raise ValueError(f"--older-than must be a number of days > 0, not {older_than_days}")
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:" and not Path(path).is_file():
            raise ValueError(f"{path}: no such file")
    cutoff = (time.time() if now is None else now) - older_than_days * DAY_S
    engine = make_engine(url)
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            events = conn.execute(delete(outcome_events).where(outcome_events.c.created_at < cutoff))
            reqs = conn.execute(delete(requests).where(requests.c.created_at < cutoff))
        return {"requests": reqs.rowcount, "outcome_events": events.rowcount}
    finally:
        engine.dispose()
