"""Helpers the adapters share: reading a validated body and running a raw completion."""

from __future__ import annotations

import math
from typing import TypeVar

from pydantic import BaseModel
from starlette.requests import Request

from nextedit.server.errors import BadRequest
from nextedit.server.http import decode_json, read_body, validate
from nextedit.server.predictor import Predictor, TextOutcome, detect_format
from nextedit.server.scheduler import Job
from nextedit.server.service import PredictionService, RequestContext
from nextedit.server.telemetry.schema import file_ext

M = TypeVar("M", bound=BaseModel)

DEADLINE_HEADER = "x-nextedit-deadline-ms"


def service_of(request: Request) -> PredictionService:
    return request.app.state.service


async def read_model(request: Request, model: type[M], what: str, *, allow_compressed: bool = True) -> M:
    svc = service_of(request)
    body = await read_body(
        request,
        max_bytes=svc.config.max_body_bytes,
        max_decompressed=svc.config.max_decompressed_bytes,
        allow_compressed=allow_compressed,
    )
    return validate(model, decode_json(body), what)


def deadline_from(request: Request) -> float | None:
    """The client's deadline in **ms** (``x-nextedit-deadline-ms``), or None; 400 unless it is a
    finite positive number (NaN, inf and ``1e999`` included)."""
    v = request.headers.get(DEADLINE_HEADER)
    if v is None:
        return None
    try:
        ms = float(v)
    except ValueError:
        ms = math.nan
    if not (math.isfinite(ms) and ms > 0):
        raise BadRequest(f"{DEADLINE_HEADER} must be a positive number of milliseconds, got {v[:40]!r}")
    return ms


async def run_completion(
    request: Request,
    ctx: RequestContext,
    *,
    prompt: str,
    max_tokens: int,
    stop: list[str],
    model_hint: str | None,
) -> TextOutcome:
    """Run a raw-prompt completion on the assigned model (supersession/deadline included). A
    prompt for a privacy-disabled path (server/privacy.py) gets the format's "no edit" answer
    without a model, and ``ctx.private`` keeps its row to counters."""
    svc = service_of(request)
    path = raw_prompt_path(prompt)
    ctx.file_ext = file_ext(path)
    if svc.config.privacy.is_disabled(path):
        ctx.private = True
        return TextOutcome(prompt_format=detect_format(prompt), text=no_edit_completion(prompt))

    def work(predictor: Predictor, job: Job) -> TextOutcome:
        return predictor.complete(
            prompt, max_tokens=max_tokens, stop=stop, cancel=job.cancel, cache_key=ctx.client_key
        )

    out = await svc.execute(
        ctx,
        work,
        pin=request.headers.get("x-zed-preferred-experiment"),
        model_hint=model_hint,
        is_disconnected=request.is_disconnected,
        deadline_ms=deadline_from(request),
        first=lambda predictor, cancel: predictor.complete_first(
            prompt, max_tokens=max_tokens, stop=stop, cancel=cancel
        ),
    )
    svc.inference.observe(
        ctx.client_id, prompt, request_id=ctx.request_id, model_version=ctx.model_version, completion=out.text
    )
    return out


def raw_prompt_path(prompt: str) -> str | None:
    """The cursor path a raw prompt in one of Zed's formats names, or None (unknown format)."""
    from nextedit.prompts import get_format

    name = detect_format(prompt)
    if name is None:
        return None
    try:
        return get_format(name).parse_prompt(prompt).cursor_path or None
    except ValueError:
        return None


def no_edit_completion(prompt: str) -> str:
    """The completion Zed's parser reads as "no edit" for ``prompt`` ("" when it cannot tell)."""
    from nextedit.prompts import get_format
    from nextedit.schema.prediction import EditPrediction
    from nextedit.server.raw_prompts import encode_prediction, request_from_prompt

    name = detect_format(prompt)
    if name is None:
        return ""
    fmt = get_format(name)
    try:
        return encode_prediction(fmt, request_from_prompt(fmt, prompt), EditPrediction.no_edit())
    except ValueError:
        return ""
