"""``openai-compatible:URL``: any ``/v1/completions`` server (vLLM, llama-server, another nextedit)
as a :class:`~nextedit.schema.provider.TextModel`.

The request body is what Zed's ``open_ai_compatible_api`` provider sends (§1.7) plus
``temperature: 0``; the response must be an OpenAI completion object. A server that cannot be
reached at all raises :class:`~nextedit.schema.provider.ProviderUnavailable` (every request would
fail the same way); an error answer raises :class:`RemoteError` for that request only.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from nextedit.schema.cancel import Canceled, CancelToken
from nextedit.schema.completion import Completion, GenerationParams, GenerationStats
from nextedit.schema.provider import ProviderUnavailable, TextModel

#: Transport failures that mean "no server there" (refused, no route, bad URL), not one bad request.
UNREACHABLE = (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol)


class RemoteError(RuntimeError):
    """The remote server failed or answered something that is not a completion object."""


def completions_url(url: str) -> str:
    """Accept a base URL (``http://host:8000``), ``…/v1`` or the full ``…/v1/completions`` path."""
    url = url.rstrip("/")
    if url.endswith("/completions"):
        return url
    if url.endswith("/v1"):
        return url + "/completions"
    return url + "/v1/completions"


class OpenAICompatibleModel(TextModel):
    """Asks a remote completions endpoint to continue prompts written in ``prompt_format``.
    ``model`` is the remote model name sent in each request (and this model's version);
    ``timeout_s`` bounds each request (seconds)."""

    def __init__(
        self,
        url: str,
        prompt_format: str = "zeta2_1",
        *,
        model: str = "default",
        api_key: str | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.url = completions_url(url)
        self.name = f"openai-compatible:{url}"
        self.prompt_format = prompt_format
        self.remote_model = model
        self.model_version = model
        key = api_key or os.environ.get("NEXTEDIT_REMOTE_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx.Client(timeout=timeout_s, headers=headers)

    def complete(
        self,
        prompt: str,
        params: GenerationParams,
        *,
        cancel: CancelToken | None = None,
        cache_key: str | None = None,
    ) -> Completion:
        if cancel is not None and cancel.canceled:
            raise Canceled()
        body: dict[str, Any] = {
            "model": self.remote_model,
            "prompt": prompt,
            "max_tokens": params.max_tokens,
            "temperature": 0,
        }
        if params.stop:
            body["stop"] = list(params.stop)
        try:
            resp = self.client.post(self.url, json=body)
        except UNREACHABLE as e:
            raise self._unreachable(e) from e
        except httpx.HTTPError as e:
            raise RemoteError(f"{self.url}: {e}") from e
        if resp.status_code != 200:
            raise RemoteError(f"{self.url}: HTTP {resp.status_code}: {resp.text[:200]}")
        try:
            data = resp.json()
            choice = data["choices"][0]
            text = choice["text"]
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise RemoteError(f"{self.url}: not a completion object ({e})") from e
        usage = data.get("usage") or {}
        finish = choice.get("finish_reason")
        return Completion(
            text=text,
            finish_reason=finish if finish in ("stop", "length", "low_confidence") else "stop",
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            stats=GenerationStats(remote_id=data.get("id")),
        )

    def check(self) -> None:
        """The server answers HTTP at the completions URL (any status: a GET there is often 405)."""
        try:
            self.client.get(self.url)
        except UNREACHABLE as e:
            raise self._unreachable(e) from e

    def _unreachable(self, error: Exception) -> ProviderUnavailable:
        return ProviderUnavailable(f"openai-compatible backend {self.url} is unreachable: {error}")

    def close(self) -> None:
        self.client.close()
