"""A remote OpenAI-compatible completions backend (vLLM, llama-server, SGLang) with the
:class:`nextedit.model.engine.Engine` ``generate`` signature, so the server treats local and remote
models the same way. Runs in a model worker thread (blocking httpx client)."""

from __future__ import annotations

from typing import Any

import httpx

from nextedit.model.engine import GenerationResult
from nextedit.predict.base import Canceled, CancelToken
from nextedit.server.errors import ModelError


class RemoteEngine:
    def __init__(self, url: str, model: str | None = None, *, timeout_s: float = 10.0, api_key: str | None = None):
        self.url = url if url.rstrip("/").endswith("/completions") else url.rstrip("/") + "/v1/completions"
        self.model = model or ""
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(timeout=timeout_s, headers=headers)
        self.name = f"remote:{self.url}"

    def generate(
        self,
        prompt: str,
        max_tokens: int = 256,
        stop: list[str] | None = None,
        *,
        cancel: CancelToken | None = None,
        cache_key: str | None = None,
        **_: Any,
    ) -> GenerationResult:
        body: dict[str, Any] = {"model": self.model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0}
        if stop:
            body["stop"] = stop
        if cache_key:
            body["user"] = cache_key  # lets a router keep one client on one replica (prefix cache)
        if cancel is not None and cancel.canceled:
            raise Canceled()
        try:
            r = self.client.post(self.url, json=body)
        except httpx.HTTPError as e:
            raise ModelError(f"remote backend {self.url} unreachable: {e}") from e
        if cancel is not None and cancel.canceled:
            raise Canceled()
        if r.status_code != 200:
            raise ModelError(f"remote backend {self.url} answered {r.status_code}: {r.text[:200]}")
        try:
            data = r.json()
            choice = data["choices"][0]
            usage = data.get("usage") or {}
            return GenerationResult(
                text=choice.get("text") or "",
                finish_reason=choice.get("finish_reason") or "stop",
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                stats={"remote_id": data.get("id")},
            )
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise ModelError(f"remote backend {self.url} returned an unexpected body: {e}") from e

    def close(self) -> None:
        self.client.close()
