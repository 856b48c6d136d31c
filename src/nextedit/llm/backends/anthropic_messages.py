"""``anthropic:MODEL`` over the anthropic SDK (Messages API; batches through Message Batches).

System turns become the ``system`` parameter (joined by a blank line); ``stop_reason`` is mapped to
the client's words (``max_tokens`` → ``length``, ``end_turn``/``stop_sequence`` → ``stop``). The
Messages API has no seed: ``ChatParams.seed`` only tells repetitions apart in the cache.
"""

from __future__ import annotations

from typing import Any

from nextedit.errors import NexteditError
from nextedit.llm.backends import BatchState
from nextedit.llm.backends.sdk import body_message, import_sdk, translating
from nextedit.llm.errors import LLMFatalError
from nextedit.llm.secrets import api_key
from nextedit.llm.spec import BackendSpec
from nextedit.llm.types import ChatRequest, ChatResult

KEY_VARIABLE = "ANTHROPIC_API_KEY"
STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length"}


class AnthropicBackend:
    def __init__(self, spec: BackendSpec, timeout: float, base_url: str | None = None) -> None:
        self.sdk = import_sdk("anthropic")
        self.spec = spec
        key = api_key(KEY_VARIABLE)
        if key is None:
            raise NexteditError(f"{spec}: set ${KEY_VARIABLE} (keys are read from the environment only)")
        self.client = self.sdk.Anthropic(api_key=key, base_url=base_url, max_retries=0, timeout=timeout)

    def _translating(self):
        return translating(self.sdk, str(self.spec), KEY_VARIABLE)

    def params(self, request: ChatRequest) -> dict[str, Any]:
        """The Messages API parameters for ``request``."""
        system = [m["content"] for m in request.messages if m["role"] == "system"]
        params: dict[str, Any] = {
            "model": self.spec.model,
            "max_tokens": request.params.max_tokens,
            "messages": [m for m in request.messages if m["role"] != "system"],
        }
        if system:
            params["system"] = "\n\n".join(system)
        if request.params.temperature is not None:
            params["temperature"] = request.params.temperature
        return params

    def complete(self, request: ChatRequest, timeout: float) -> ChatResult:
        with self._translating():
            params = self.params(request)
            # SDK 2.x dropped `temperature` from create()'s signature; the API still reads it from the body.
            extra = {"temperature": params.pop("temperature")} if "temperature" in params else None
            message = self.client.messages.create(**params, extra_body=extra, timeout=timeout)
        return result_of(message.model_dump())

    def submit_batch(self, items: list[tuple[str, ChatRequest]], timeout: float) -> str:
        requests = [{"custom_id": key, "params": self.params(request)} for key, request in items]
        with self._translating():
            return self.client.messages.batches.create(requests=requests, timeout=timeout).id

    def batch_state(self, batch_id: str, timeout: float) -> BatchState:
        try:
            with self._translating():
                batch = self.client.messages.batches.retrieve(batch_id, timeout=timeout)
        except LLMFatalError as e:
            if e.status == 404:
                return "lost"
            raise
        if batch.processing_status != "ended":
            return "running"
        return "ended" if batch.results_url and not batch.archived_at else "lost"

    def batch_results(self, batch_id: str, timeout: float) -> dict[str, ChatResult]:
        results: dict[str, ChatResult] = {}
        with self._translating():
            for row in self.client.messages.batches.results(batch_id, timeout=timeout):
                outcome = row.result
                if outcome.type == "succeeded":
                    results[row.custom_id] = result_of(outcome.message.model_dump())
                elif outcome.type == "errored":
                    error = outcome.error.model_dump() if hasattr(outcome.error, "model_dump") else {}
                    results[row.custom_id] = ChatResult(
                        status="error", error=body_message(error.get("error", error), "batch request failed")
                    )
        return results


def result_of(message: dict[str, Any]) -> ChatResult:
    """A ChatResult from a Messages API response (dict)."""
    text = "".join(
        block.get("text", "") for block in message.get("content") or [] if block.get("type") == "text"
    )
    usage = message.get("usage") or {}
    reason = message.get("stop_reason")
    return ChatResult(
        text=text,
        finish_reason=STOP_REASONS.get(reason, reason),
        prompt_tokens=usage.get("input_tokens") or 0,
        completion_tokens=usage.get("output_tokens") or 0,
    )
