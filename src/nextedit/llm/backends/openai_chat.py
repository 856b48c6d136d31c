"""``openai:MODEL`` and ``openai-compatible:URL#MODEL`` over the openai SDK (Chat Completions).

``openai:`` sends ``max_completion_tokens`` (what the current OpenAI models take) and needs
``$OPENAI_API_KEY``; ``openai-compatible:`` sends ``max_tokens`` (what vLLM, llama-server and Ollama
read) to ``base_url=URL`` with ``$NEXTEDIT_LLM_API_KEY`` if set. Batches go through the Batch API: a
JSONL file of requests (``POST /v1/files``), a batch over it (``POST /v1/batches``), polled
(``GET /v1/batches/ID``) and read from its output file (``GET /v1/files/ID/content``).
"""

from __future__ import annotations

import json
from typing import Any

from nextedit.errors import NexteditError
from nextedit.llm.backends import BatchState
from nextedit.llm.backends.sdk import body_message, import_sdk, translating
from nextedit.llm.errors import LLMFatalError
from nextedit.llm.secrets import api_key
from nextedit.llm.spec import BackendSpec
from nextedit.llm.types import ChatRequest, ChatResult

ENDPOINT = "/v1/chat/completions"
ENDED = {"completed", "expired", "cancelled"}  # an output file may hold (some of) the answers
LOST = {"failed"}


class OpenAIBackend:
    def __init__(self, spec: BackendSpec, timeout: float, base_url: str | None = None) -> None:
        self.sdk = import_sdk("openai")
        self.spec = spec
        self.key_variable = "OPENAI_API_KEY" if spec.kind == "openai" else "NEXTEDIT_LLM_API_KEY"
        key = api_key(self.key_variable)
        if key is None and spec.kind == "openai":
            raise NexteditError(f"{spec}: set ${self.key_variable} (keys are read from the environment only)")
        self.client = self.sdk.OpenAI(
            api_key=key or "no-key",
            base_url=spec.base_url or base_url,
            max_retries=0,
            timeout=timeout,
        )

    def _translating(self):
        return translating(self.sdk, str(self.spec), self.key_variable)

    def body(self, request: ChatRequest) -> dict[str, Any]:
        """The Chat Completions request body for ``request``."""
        p = request.params
        body: dict[str, Any] = {"model": self.spec.model, "messages": list(request.messages)}
        body["max_completion_tokens" if self.spec.kind == "openai" else "max_tokens"] = p.max_tokens
        if p.temperature is not None:
            body["temperature"] = p.temperature
        if p.seed is not None:
            body["seed"] = p.seed
        return body

    def complete(self, request: ChatRequest, timeout: float) -> ChatResult:
        with self._translating():
            response = self.client.chat.completions.create(**self.body(request), timeout=timeout)
        return result_of(response.model_dump())

    def submit_batch(self, items: list[tuple[str, ChatRequest]], timeout: float) -> str:
        lines = [
            json.dumps({"custom_id": key, "method": "POST", "url": ENDPOINT, "body": self.body(request)})
            for key, request in items
        ]
        with self._translating():
            upload = self.client.files.create(
                file=("requests.jsonl", ("\n".join(lines) + "\n").encode()), purpose="batch", timeout=timeout
            )
            batch = self.client.batches.create(
                input_file_id=upload.id, endpoint=ENDPOINT, completion_window="24h", timeout=timeout
            )
        return batch.id

    def batch_state(self, batch_id: str, timeout: float) -> BatchState:
        try:
            with self._translating():
                batch = self.client.batches.retrieve(batch_id, timeout=timeout)
        except LLMFatalError as e:
            if e.status == 404:
                return "lost"
            raise
        if batch.status in LOST or (
            batch.status in ENDED and not (batch.output_file_id or batch.error_file_id)
        ):
            return "lost"
        return "ended" if batch.status in ENDED else "running"

    def batch_results(self, batch_id: str, timeout: float) -> dict[str, ChatResult]:
        with self._translating():
            batch = self.client.batches.retrieve(batch_id, timeout=timeout)
            texts = [
                self.client.files.content(f, timeout=timeout).text
                for f in (batch.output_file_id, batch.error_file_id)
                if f
            ]
        results: dict[str, ChatResult] = {}
        for text in texts:
            for line in text.splitlines():
                if not line.strip():
                    continue
                row = json.loads(line)
                response = row.get("response") or {}
                if response.get("status_code") == 200:
                    results[row["custom_id"]] = result_of(response["body"])
                else:
                    error = row.get("error") or (response.get("body") or {}).get("error") or {}
                    status = response.get("status_code", "?")
                    message = body_message({"error": error}, "batch request failed")
                    results[row["custom_id"]] = ChatResult(status="error", error=f"HTTP {status}: {message}")
        return results


def result_of(completion: dict[str, Any]) -> ChatResult:
    """A ChatResult from a Chat Completions response body (dict)."""
    choice = (completion.get("choices") or [{}])[0]
    usage = completion.get("usage") or {}
    return ChatResult(
        text=(choice.get("message") or {}).get("content") or "",
        finish_reason=choice.get("finish_reason"),
        prompt_tokens=usage.get("prompt_tokens") or 0,
        completion_tokens=usage.get("completion_tokens") or 0,
    )
