"""Settled reports linked to their request and re-measured by the server (zeta.md §3.13, §6.2).

A ``/predict_edits/settled`` report names a ``request_id``. The server looks that request up in
the telemetry store (``linked``) and, when it has what §5.3 needs — the request's excerpt and
answer (stored only when collection was allowed) and the report's settled region (sent only when
``can_collect_data``) — recomputes kept rate and recall with
:func:`nextedit.metrics.kept_rate.compute_kept_rate` (base = the answered region before the
prediction, candidate = the predicted region, reference = the settled region). Both the client's
and the server's figures are stored; a difference (kept or recall rate apart by more than
:data:`RATE_TOLERANCE`) is a counted warning (``kept_rate_mismatch``), never a refused report.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from nextedit.metrics.kept_rate import KeptRate, compute_kept_rate
from nextedit.server.telemetry import TelemetryStore
from nextedit.server.telemetry.schema import requests

log = logging.getLogger("nextedit.server.settled")

RATE_TOLERANCE = 1e-3  # rates are 0..1; clients round to a few digits


@dataclass(frozen=True)
class Remeasured:
    """What the server adds to one settled report's row."""

    linked: bool
    figures: KeptRate | None = None  # None: request or region missing
    mismatch: bool | None = None  # None when there was nothing to compare

    @property
    def result(self) -> str:
        """``unlinked`` | ``no_region`` | ``match`` | ``mismatch`` (the metric's label)."""
        if not self.linked:
            return "unlinked"
        if self.figures is None:
            return "no_region"
        return "mismatch" if self.mismatch else "match"

    def columns(self) -> dict[str, Any]:
        """The ``outcome_events`` columns this fills."""
        f = self.figures
        return {
            "linked": self.linked,
            "server_kept_rate": f.kept_rate if f else None,
            "server_recall_rate": f.recall_rate if f else None,
            "server_edit_bytes": f.to_edit_bytes() if f else None,
            "kept_rate_mismatch": self.mismatch,
        }


def region_before_and_predicted(row: dict[str, Any]) -> tuple[str, str] | None:
    """(region before the prediction, predicted region) of a stored v3 request row, or None when
    the row lacks the excerpt, the answer or the range (not collected, no edit, raw-prompt API)."""
    if not row.get("input_json") or row.get("output") is None or row.get("editable_start") is None:
        return None
    try:
        excerpt = json.loads(row["input_json"])["cursor_excerpt"].encode("utf-8")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    s, e = row["editable_start"], row["editable_end"]
    if not (0 <= s <= e <= len(excerpt)):
        return None
    try:
        return excerpt[s:e].decode("utf-8"), row["output"]
    except UnicodeDecodeError:
        return None


def remeasure(
    row: dict[str, Any] | None,
    settled_region: str | None,
    *,
    client_kept_rate: float | None,
    client_recall_rate: float | None,
) -> Remeasured:
    """Link + recompute one report against its request ``row`` (None: not found)."""
    if row is None:
        return Remeasured(linked=False)
    regions = region_before_and_predicted(row)
    if regions is None or settled_region is None:
        return Remeasured(linked=True)
    base, predicted = regions
    figures = compute_kept_rate(base, predicted, settled_region)
    mismatch = any(
        c is not None and abs(c - s) > RATE_TOLERANCE
        for c, s in ((client_kept_rate, figures.kept_rate), (client_recall_rate, figures.recall_rate))
    )
    return Remeasured(linked=True, figures=figures, mismatch=mismatch)


def fetch_requests(store: TelemetryStore, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The stored request rows among ``ids`` (blocking: call it off the event loop). A request
    row is written best-effort a few ms after its answer; a settled report comes ≥ 10 s later."""
    if store.engine is None or not ids:
        return {}
    cols = [requests.c[n] for n in ("id", "input_json", "output", "editable_start", "editable_end")]
    with store.engine.connect() as conn:
        rows = conn.execute(select(*cols).where(requests.c.id.in_(sorted(set(ids)))))
        return {r.id: dict(r._mapping) for r in rows}
