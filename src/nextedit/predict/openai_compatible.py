"""``openai-compatible:URL``: any ``/v1/completions`` server (vLLM, llama-server, another nextedit).

The request body is what Zed's ``open_ai_compatible_api`` provider sends (§1.7) plus
``temperature: 0``; the response must be an OpenAI completion object.
"""

from __future__ import annotations

import os
from typing import Any

from nextedit.predict.base import Canceled, CancelToken
from nextedit.predict.model_provider import ModelProvider


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


class OpenAICompatibleProvider(ModelProvider):
    """Formats the prompt locally and asks a remote completion endpoint to continue it."""

    def __init__(
        self,
        url: str,
        prompt_format: str = "zeta2_1",
        *,
        model: str = "default",
        api_key: str | None = None,
        max_output_tokens: int | None = 64,
        timeout_s: float = 30.0,
    ) -> None:
        import httpx

        self.url = completions_url(url)
        self.name = f"openai-compatible:{url}"
        super().__init__(prompt_format, max_output_tokens)
        self.model = model
        self.model_version = model
        key = api_key or os.environ.get("NEXTEDIT_REMOTE_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx.Client(timeout=timeout_s, headers=headers)

    def complete(
        self, prompt: str, max_tokens: int, stop: list[str], cancel: CancelToken | None, cache_key: str | None
    ) -> tuple[str, dict[str, Any]]:
        import httpx

        if cancel is not None and cancel.canceled:
            raise Canceled()
        body: dict[str, Any] = {"model": self.model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0}
        if stop:
            body["stop"] = stop
        try:
            resp = self.client.post(self.url, json=body)
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
        return text, {
            "prompt_tokens": usage.get("prompt_tokens"),
            "completion_tokens": usage.get("completion_tokens"),
            "finish_reason": choice.get("finish_reason"),
            "remote_id": data.get("id"),
        }
