"""``POST /predict_edits/v3`` — Zed Cloud's native API (zeta.md §1.3): a ``Zeta2PromptInput`` body
(plain JSON or ``Content-Encoding: zstd``); the server chooses the region, builds the prompt, runs
the model and parses the output. Response ``{request_id, output, editable_range, model_version,
cursor_offset}``; "no edit" is ``output: ""`` with ``editable_range`` 0..0."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from nextedit.schema.request import Zeta2PromptInput
from nextedit.server.errors import UnprocessableEntity
from nextedit.server.http import client_key
from nextedit.server.predictor import EditOutcome, Predictor
from nextedit.server.protocols.common import deadline_from, read_model, service_of
from nextedit.server.scheduler import Job
from nextedit.server.service import RequestContext
from nextedit.server.telemetry.schema import file_ext

router = APIRouter()


def _checked_edit(request: Zeta2PromptInput, out: EditOutcome) -> tuple[str, int, int, int | None, bool]:
    """(output, start, end, cursor, no_edit) with the range checked against the excerpt."""
    pred = out.prediction
    if pred is None or pred.error:
        return "", 0, 0, None, True
    data = request.excerpt_bytes()
    s, e = pred.editable_range
    if not (0 <= s <= e <= len(data)):
        pred.error = f"provider returned editable_range {s}..{e} outside the excerpt (0..{len(data)})"
        return "", 0, 0, None, True
    if pred.is_no_edit(request.cursor_excerpt):
        return "", 0, 0, None, True
    cursor = pred.cursor_offset
    if cursor is not None and not (0 <= cursor <= len(pred.output.encode("utf-8"))):
        cursor = None
    return pred.output, s, e, cursor, False


@router.post("/predict_edits/v3")
async def predict_edits_v3(request: Request) -> JSONResponse:
    svc = service_of(request)
    ctx = RequestContext(api="v3", client_key=client_key(request))
    with svc.recorded(ctx):
        t0 = time.perf_counter()
        body = await read_model(request, Zeta2PromptInput, "Zeta2PromptInput")
        try:
            body.validate_offsets()
        except ValueError as e:
            raise UnprocessableEntity(f"invalid Zeta2PromptInput: {e}") from None
        deadline = deadline_from(request)
        ctx.can_collect_data = bool(body.can_collect_data)
        ctx.file_ext = file_ext(body.cursor_path)
        if svc.config.privacy.is_disabled(body.cursor_path):
            ctx.private = True
            ctx.answered(None, output="", no_edit=True)
            return JSONResponse(
                {"request_id": ctx.request_id, "output": "", "editable_range": {"start": 0, "end": 0},
                 "model_version": None},
                headers=ctx.response_headers(),
            )  # fmt: skip
        if svc.config.privacy.may_store(ctx.can_collect_data):
            ctx.input_json = json.dumps(body.to_zed_json(), ensure_ascii=False)
        ctx.timings["context"] = (time.perf_counter() - t0) * 1000

        def work(predictor: Predictor, job: Job) -> EditOutcome:
            return predictor.predict(body, cancel=job.cancel, cache_key=ctx.client_key)

        out: EditOutcome = await svc.execute(  # type: ignore[assignment]
            ctx,
            work,
            pin=request.headers.get("x-zed-preferred-experiment"),
            is_disconnected=request.is_disconnected,
            deadline_ms=deadline,
            first=lambda predictor, cancel: predictor.predict_first(body, cancel=cancel),
        )
        output, s, e, cursor, no_edit = _checked_edit(body, out)
        error = out.prediction.error if out.prediction is not None else None
        ctx.editable_range = None if no_edit else (s, e)
        ctx.answered(out, output=output, no_edit=no_edit, error=error)
    payload: dict[str, Any] = {
        "request_id": ctx.request_id,
        "output": output,
        "editable_range": {"start": s, "end": e},
        "model_version": ctx.model_version,
    }
    if cursor is not None:
        payload["cursor_offset"] = cursor
    return JSONResponse(payload, headers=ctx.response_headers())
