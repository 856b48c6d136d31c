"""OpenAI-compatible ``POST /v1/completions`` and ``GET /v1/models`` — what Zed's
``open_ai_compatible_api`` provider talks to (zeta.md §1.7). The response carries every field of
Zed's ``RawCompletionResponse`` (all required): id, object, created, model, choices[{text,
finish_reason}], usage{prompt_tokens, completion_tokens, total_tokens}."""

from __future__ import annotations

import time

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.requests import Request
from starlette.responses import JSONResponse

from nextedit.server.errors import BadRequest
from nextedit.server.http import client_key
from nextedit.server.protocols.common import read_model, run_completion, service_of
from nextedit.server.service import RequestContext

router = APIRouter()


class CompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = ""
    prompt: str | list[str]  # one non-empty string (or a list of exactly one)
    max_tokens: int = Field(default=256, ge=1, le=32768)
    stop: str | list[str] | None = None
    temperature: float | None = None
    stream: bool = False

    @field_validator("prompt")
    @classmethod
    def _not_empty(cls, v: str | list[str]) -> str | list[str]:
        if v == "" or (isinstance(v, list) and "" in v):
            raise ValueError("must not be empty")
        return v


@router.post("/v1/completions")
async def completions(request: Request) -> JSONResponse:
    svc = service_of(request)
    ctx = RequestContext(api="openai", client_key=client_key(request))
    with svc.recorded(ctx):
        t0 = time.perf_counter()
        body = await read_model(request, CompletionRequest, "completion request")
        if body.stream:
            raise BadRequest("stream=true is not supported; Zed sends non-streaming requests")
        prompt = body.prompt
        if isinstance(prompt, list):
            if len(prompt) != 1:
                raise BadRequest("prompt must be one string (or a list of exactly one string)")
            prompt = prompt[0]
        stop = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
        ctx.timings["context"] = (time.perf_counter() - t0) * 1000
        out = await run_completion(
            request, ctx, prompt=prompt, max_tokens=body.max_tokens, stop=stop, model_hint=body.model
        )
        ctx.answered(out, output=out.text)
    return JSONResponse(
        {
            "id": f"cmpl-{ctx.request_id}",
            "object": "text_completion",
            "created": int(ctx.created),
            "model": body.model or (ctx.model_version or ""),
            "choices": [{"text": out.text, "index": 0, "logprobs": None, "finish_reason": out.finish_reason}],
            "usage": {
                "prompt_tokens": out.prompt_tokens,
                "completion_tokens": out.completion_tokens,
                "total_tokens": out.prompt_tokens + out.completion_tokens,
            },
            "model_version": ctx.model_version,
            "system_fingerprint": ctx.model_version,
        },
        headers=ctx.response_headers(),
    )


@router.get("/v1/models")
async def list_models(request: Request) -> JSONResponse:
    svc = service_of(request)
    created = int(svc.started_at)
    data = [
        {
            "id": name,
            "object": "model",
            "created": created,
            "owned_by": "nextedit",
            "model_version": m.predictor.model_version,
        }
        for name, m in svc.models.items()
    ]
    data += [
        {"id": e.name, "object": "model", "created": created, "owned_by": "nextedit", "experiment": True}
        for e in svc.config.experiments
        if e.name not in svc.models
    ]
    return JSONResponse({"object": "list", "data": data})
