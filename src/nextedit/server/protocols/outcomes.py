"""Outcome reports (zeta.md §1.5, §6.2), stored against the request id:

* ``POST /predict_edits/accept``  ``{request_id, model_version?, e2e_latency_ms?}``
* ``POST /predict_edits/reject``  ``{rejections: [{request_id, reason, was_shown, model_version?, e2e_latency_ms?}]}`` (≤100)
* ``POST /predict_edits/settled`` ``{predictions: [SettledEditPrediction]}`` (≤32, zstd accepted)

The settled region and sample data are stored only when the report says ``can_collect_data``.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from nextedit.server.protocols.common import read_model, service_of

router = APIRouter()

RejectReason = Literal[
    "Canceled", "Empty", "InterpolatedEmpty", "Replaced", "CurrentPreferred", "Discarded", "Rejected"
]


class AcceptBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    request_id: str = Field(min_length=1, max_length=200)
    model_version: str | None = None
    e2e_latency_ms: float | None = Field(default=None, ge=0)


class Rejection(BaseModel):
    model_config = ConfigDict(extra="allow")

    request_id: str = Field(min_length=1, max_length=200)
    reason: RejectReason = "Discarded"
    was_shown: bool = False
    model_version: str | None = None
    e2e_latency_ms: float | None = Field(default=None, ge=0)


class RejectBody(BaseModel):
    rejections: list[Rejection] = Field(max_length=100)


class SettledPrediction(BaseModel):
    model_config = ConfigDict(extra="allow")

    request_id: str = Field(min_length=1, max_length=200)
    settled_editable_region: str | None = None
    ts_error_count_before_prediction: int | None = None
    ts_error_count_after_prediction: int | None = None
    can_collect_data: bool = False
    is_in_open_source_repo: bool = False
    sample_data: dict[str, Any] | None = None
    edit_bytes_candidate_new: int | None = None
    edit_bytes_reference_new: int | None = None
    edit_bytes_candidate_deleted: int | None = None
    edit_bytes_reference_deleted: int | None = None
    edit_bytes_kept: int | None = None
    edit_bytes_correctly_deleted: int | None = None
    edit_bytes_discarded: int | None = None
    edit_bytes_context: int | None = None
    edit_bytes_kept_rate: float | None = None
    edit_bytes_recall_rate: float | None = None
    example: Any = None
    model_version: str | None = None
    e2e_latency: float | None = None


class SettledBody(BaseModel):
    predictions: list[SettledPrediction] = Field(max_length=32)


def _event(
    kind: str,
    request_id: str,
    model_version: str | None,
    e2e_latency_ms: float | None,
    *,
    created_at: float | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """An ``outcome_events`` row: the columns every report has (``created_at`` defaults to now, in
    seconds since the epoch), then the report's own ``fields``."""
    return {
        "request_id": request_id,
        "created_at": time.time() if created_at is None else created_at,
        "kind": kind,
        "model_version": model_version,
        "e2e_latency_ms": e2e_latency_ms,
        **fields,
    }


@router.post("/predict_edits/accept")
async def accept(request: Request) -> JSONResponse:
    svc = service_of(request)
    body = await read_model(request, AcceptBody, "accept body")
    mv = body.model_version or "unknown"
    svc.metrics.accepted.labels(mv).inc()
    svc.store.record_event(
        _event("accept", body.request_id, body.model_version, body.e2e_latency_ms, was_shown=True),
        outcome="accepted",
    )
    return JSONResponse({})


@router.post("/predict_edits/reject")
async def reject(request: Request) -> JSONResponse:
    svc = service_of(request)
    body = await read_model(request, RejectBody, "reject body")
    now = time.time()
    for r in body.rejections:
        svc.metrics.rejected.labels(r.model_version or "unknown", r.reason, str(r.was_shown).lower()).inc()
        svc.store.record_event(
            _event(
                "reject",
                r.request_id,
                r.model_version,
                r.e2e_latency_ms,
                created_at=now,
                reason=r.reason,
                was_shown=r.was_shown,
            ),
            outcome=f"rejected:{r.reason}",
        )
    return JSONResponse({})


_SETTLED_COLUMNS = (
    "edit_bytes_candidate_new",
    "edit_bytes_reference_new",
    "edit_bytes_candidate_deleted",
    "edit_bytes_reference_deleted",
    "edit_bytes_kept",
    "edit_bytes_correctly_deleted",
    "edit_bytes_discarded",
    "edit_bytes_context",
    "edit_bytes_kept_rate",
    "edit_bytes_recall_rate",
)


@router.post("/predict_edits/settled")
async def settled(request: Request) -> JSONResponse:
    svc = service_of(request)
    body = await read_model(request, SettledBody, "settled body")
    now = time.time()
    for p in body.predictions:
        mv = p.model_version or "unknown"
        svc.metrics.settled.labels(mv).inc()
        if p.edit_bytes_kept_rate is not None:
            svc.metrics.kept_rate.labels(mv).observe(p.edit_bytes_kept_rate)
        extra = dict(p.model_extra or {}) if p.can_collect_data else {}  # unknown keys may hold code
        if p.can_collect_data and p.sample_data is not None:
            extra["sample_data"] = p.sample_data
        if p.can_collect_data and p.example is not None:
            extra["example"] = p.example
        svc.store.record_event(
            _event(
                "settled",
                p.request_id,
                p.model_version,
                p.e2e_latency,
                created_at=now,
                can_collect_data=p.can_collect_data,
                is_in_open_source_repo=p.is_in_open_source_repo,
                settled_region=p.settled_editable_region if p.can_collect_data else None,
                ts_error_count_before=p.ts_error_count_before_prediction,
                ts_error_count_after=p.ts_error_count_after_prediction,
                **{c: getattr(p, c) for c in _SETTLED_COLUMNS},
                extra=extra or None,
            )
        )
    return JSONResponse({})
