"""Ollama ``POST /api/generate`` and ``GET /api/tags`` — what Zed's ``ollama`` provider talks to
(zeta.md §1.7): raw prompt, ``options.num_predict``, ``options.stop``; the response must carry
``created_at`` (Zed uses it as the request id) and ``response``."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from nextedit.server.http import client_key
from nextedit.server.protocols.common import read_model, run_completion, service_of
from nextedit.server.service import RequestContext

router = APIRouter()


class GenerateOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    num_predict: int = Field(default=128, ge=-2, le=32768)
    temperature: float | None = None
    stop: list[str] | str | None = None


class GenerateRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = ""
    prompt: str = Field(min_length=1)
    raw: bool = True
    stream: bool = True  # Ollama's default; Zed sends false
    options: GenerateOptions = Field(default_factory=GenerateOptions)


def _timestamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@router.post("/api/generate")
async def generate(request: Request) -> Response:
    svc = service_of(request)
    ctx = RequestContext(api="ollama", client_key=client_key(request))
    with svc.recorded(ctx):
        t0 = time.perf_counter()
        body = await read_model(request, GenerateRequest, "generate request")
        ctx.timings["context"] = (time.perf_counter() - t0) * 1000
        opts = body.options
        stop = [opts.stop] if isinstance(opts.stop, str) else list(opts.stop or [])
        max_tokens = opts.num_predict if opts.num_predict > 0 else 4096  # -1/-2 = unlimited/fill context
        out = await run_completion(
            request, ctx, prompt=body.prompt, max_tokens=max_tokens, stop=stop, model_hint=body.model
        )
        ctx.answered(out, output=out.text)
    total_ns = int(ctx.timings.get("total", 0) * 1e6)
    payload: dict[str, Any] = {
        "model": body.model or ctx.model_version,
        "created_at": _timestamp(time.time()),
        "response": out.text,
        "done": True,
        "done_reason": out.finish_reason,
        "total_duration": total_ns,
        "prompt_eval_count": out.prompt_tokens,
        "eval_count": out.completion_tokens,
        "eval_duration": int(ctx.timings.get("model", 0) * 1e6),
        "model_version": ctx.model_version,
        "request_id": ctx.request_id,
    }
    headers = ctx.response_headers()
    if body.stream:  # one NDJSON chunk that is already final
        return Response(json.dumps(payload) + "\n", media_type="application/x-ndjson", headers=headers)
    return JSONResponse(payload, headers=headers)


@router.get("/api/tags")
async def tags(request: Request) -> JSONResponse:
    svc = service_of(request)
    when = _timestamp(svc.started_at)
    models = [
        {
            "name": name,
            "model": name,
            "modified_at": when,
            "size": 0,
            "digest": "",
            "details": {
                "format": m.predictor.kind,
                "family": "nextedit",
                "parameter_size": "",
                "quantization_level": "",
            },
        }
        for name, m in svc.models.items()
    ]
    return JSONResponse({"models": models})
