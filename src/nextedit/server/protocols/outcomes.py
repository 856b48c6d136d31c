"""Outcome reports (zeta.md §1.5, §6.2), stored against the request id:

* ``POST /predict_edits/accept``  ``{request_id, model_version?, e2e_latency_ms?}``
* ``POST /predict_edits/reject``  ``{rejections: [{request_id, reason, was_shown, model_version?, e2e_latency_ms?}]}`` (≤100)
* ``POST /predict_edits/settled`` ``{predictions: [SettledEditPrediction]}`` (≤32, zstd accepted)

The settled region and sample data are stored only when the report says ``can_collect_data``
(and the ``[privacy]`` policy lets it: server/privacy.py). Each settled report is linked to its
request and, when the region is there, re-measured by the server (server/settled.py): both the
client's and the server's figures are stored, a difference is counted, never refused.

A 2xx means the report's rows are committed (:meth:`TelemetryStore.write_events`); a 503 means they
are not (retry). Field limits are the store's columns (:mod:`nextedit.server.telemetry.schema`): ids
up to 64 characters, versions up to 200, no NUL characters, counts in 0..2³¹−1, latencies finite and
≥ 0, rates in [0, 1], stored JSON finite, valid UTF-8 and at most 64 levels deep; anything else is a
4xx naming the field, never a row dropped after the answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from starlette.requests import Request
from starlette.responses import JSONResponse

from nextedit.server.protocols.common import read_model, service_of
from nextedit.server.settled import fetch_requests, remeasure
from nextedit.server.telemetry.schema import ID_CHARS, INT_MAX, VERSION_CHARS, storable_json

router = APIRouter()
log = logging.getLogger("nextedit.server.settled")

RejectReason = Literal[
    "Canceled", "Empty", "InterpolatedEmpty", "Replaced", "CurrentPreferred", "Discarded", "Rejected"
]


def _no_nul(s: str) -> str:
    if "\x00" in s:
        raise ValueError("must not contain NUL characters")
    return s


RequestId = Annotated[str, Field(min_length=1, max_length=ID_CHARS), AfterValidator(_no_nul)]
ModelVersion = Annotated[str, Field(max_length=VERSION_CHARS), AfterValidator(_no_nul)]
Text = Annotated[str, AfterValidator(_no_nul)]
Count = Annotated[int, Field(ge=0, le=INT_MAX)]
Millis = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Rate = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class AcceptBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    request_id: RequestId
    model_version: ModelVersion | None = None
    e2e_latency_ms: Millis | None = None


class Rejection(BaseModel):
    model_config = ConfigDict(extra="allow")

    request_id: RequestId
    reason: RejectReason = "Discarded"
    was_shown: bool = False
    model_version: ModelVersion | None = None
    e2e_latency_ms: Millis | None = None


class RejectBody(BaseModel):
    rejections: list[Rejection] = Field(max_length=100)


class SettledPrediction(BaseModel):
    model_config = ConfigDict(extra="allow")

    request_id: RequestId
    settled_editable_region: Text | None = None
    ts_error_count_before_prediction: Count | None = None
    ts_error_count_after_prediction: Count | None = None
    can_collect_data: bool = False
    is_in_open_source_repo: bool = False
    sample_data: dict[str, Any] | None = None
    edit_bytes_candidate_new: Count | None = None
    edit_bytes_reference_new: Count | None = None
    edit_bytes_candidate_deleted: Count | None = None
    edit_bytes_reference_deleted: Count | None = None
    edit_bytes_kept: Count | None = None
    edit_bytes_correctly_deleted: Count | None = None
    edit_bytes_discarded: Count | None = None
    edit_bytes_context: Count | None = None
    edit_bytes_kept_rate: Rate | None = None
    edit_bytes_recall_rate: Rate | None = None
    example: Any = None
    model_version: ModelVersion | None = None
    e2e_latency: Millis | None = None

    @field_validator("sample_data", "example")
    @classmethod
    def _check_json(cls, v: Any) -> Any:
        return storable_json(v)

    @model_validator(mode="after")
    def _check_extra(self) -> SettledPrediction:
        """Unknown keys are stored (in ``extra``) when the client allows data collection."""
        if self.can_collect_data:
            for key, value in (self.model_extra or {}).items():
                try:
                    storable_json(value)
                except ValueError as e:
                    raise ValueError(f"field {key[:80]!r}: {e}") from None
        return self

    def extra_json(self, may_store: bool) -> dict[str, Any] | None:
        """What goes into the ``extra`` column: nothing unless ``may_store`` (it may hold code)."""
        if not may_store:
            return None
        extra = {k: v for k, v in (self.model_extra or {}).items() if _storable(v)}  # checked if can_collect_data
        if self.sample_data is not None:
            extra["sample_data"] = self.sample_data
        if self.example is not None:
            extra["example"] = self.example
        return extra or None


def _storable(value: Any) -> bool:
    try:
        storable_json(value)
    except ValueError:
        return False
    return True


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
    await svc.store.write_events(
        [
            (
                _event("accept", body.request_id, body.model_version, body.e2e_latency_ms, was_shown=True),
                "accepted",
            )
        ]
    )
    svc.metrics.observe_outcome("accepted", body.request_id, body.model_version)
    return JSONResponse({})


@router.post("/predict_edits/reject")
async def reject(request: Request) -> JSONResponse:
    svc = service_of(request)
    body = await read_model(request, RejectBody, "reject body")
    now = time.time()
    events = [
        (
            _event(
                "reject",
                r.request_id,
                r.model_version,
                r.e2e_latency_ms,
                created_at=now,
                reason=r.reason,
                was_shown=r.was_shown,
            ),
            f"rejected:{r.reason}",
        )
        for r in body.rejections
    ]
    await svc.store.write_events(events)
    for r in body.rejections:
        svc.metrics.observe_outcome(
            "rejected", r.request_id, r.model_version, reason=r.reason, was_shown=r.was_shown
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
    privacy = svc.config.privacy
    stored = await asyncio.to_thread(fetch_requests, svc.store, [p.request_id for p in body.predictions])
    measured = [
        remeasure(
            stored.get(p.request_id),
            p.settled_editable_region if p.can_collect_data else None,
            client_kept_rate=p.edit_bytes_kept_rate,
            client_recall_rate=p.edit_bytes_recall_rate,
        )
        for p in body.predictions
    ]
    events = [
        (
            _event(
                "settled",
                p.request_id,
                p.model_version,
                p.e2e_latency,
                created_at=now,
                can_collect_data=p.can_collect_data,
                is_in_open_source_repo=p.is_in_open_source_repo,
                settled_region=p.settled_editable_region if privacy.may_store(p.can_collect_data) else None,
                ts_error_count_before=p.ts_error_count_before_prediction,
                ts_error_count_after=p.ts_error_count_after_prediction,
                **{c: getattr(p, c) for c in _SETTLED_COLUMNS},
                **m.columns(),
                extra=p.extra_json(privacy.may_store(p.can_collect_data)),
            ),
            None,
        )
        for p, m in zip(body.predictions, measured, strict=True)
    ]
    await svc.store.write_events(events)
    for p, m in zip(body.predictions, measured, strict=True):
        svc.metrics.settled_remeasured.labels(m.result).inc()
        if m.mismatch:
            log.warning("settled report %s: client kept/recall %s/%s, server %s/%s", p.request_id,
                        p.edit_bytes_kept_rate, p.edit_bytes_recall_rate,
                        m.figures.kept_rate, m.figures.recall_rate)  # fmt: skip
        svc.metrics.observe_outcome("settled", p.request_id, p.model_version, kept_rate=p.edit_bytes_kept_rate)
    return JSONResponse({})
