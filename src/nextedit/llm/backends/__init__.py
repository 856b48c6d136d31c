"""Provider backends behind one small interface (:class:`Backend`), each over its official SDK.

A backend makes **one** HTTP attempt per call and translates the SDK's outcome into the client
layer's terms: a :class:`~nextedit.llm.types.ChatResult`, or :class:`~nextedit.llm.errors.TransientError`
(retry), :class:`~nextedit.llm.errors.RequestError` (give up on this request) or
:class:`~nextedit.llm.errors.LLMFatalError` (stop). Retries, the cache, concurrency and prices are the
client's (:mod:`nextedit.llm.client`); the SDKs' own retries are off (``max_retries=0``).

* :mod:`~nextedit.llm.backends.openai_chat` — ``openai:`` and ``openai-compatible:`` (Chat
  Completions; batches through the Batch API)
* :mod:`~nextedit.llm.backends.anthropic_messages` — ``anthropic:`` (Messages; Message Batches)
"""

from __future__ import annotations

from typing import Literal, Protocol

from nextedit.llm.spec import BackendSpec
from nextedit.llm.types import ChatRequest, ChatResult

BatchState = Literal["running", "ended", "lost"]


class Backend(Protocol):
    """What the client needs from a provider. ``timeout``: seconds for the one HTTP request."""

    spec: BackendSpec

    def complete(self, request: ChatRequest, timeout: float) -> ChatResult:
        """One answer (``cost_usd`` left for the client to price)."""
        ...

    def submit_batch(self, items: list[tuple[str, ChatRequest]], timeout: float) -> str:
        """Submit ``(custom_id, request)`` pairs as one provider batch; return its id."""
        ...

    def batch_state(self, batch_id: str, timeout: float) -> BatchState:
        """``running``; ``ended`` (results can be read); ``lost`` (gone, failed or expired without
        results: its requests must be submitted again)."""
        ...

    def batch_results(self, batch_id: str, timeout: float) -> dict[str, ChatResult]:
        """Results of an ended batch by custom id; a request the provider failed is a
        ``status="error"`` result; one it never ran (expired, cancelled) is absent."""
        ...


def open_backend(spec: BackendSpec, timeout: float, base_url: str | None = None) -> Backend:
    """The backend for ``spec``. ``base_url`` overrides the provider's API address for ``anthropic:``
    and ``openai:`` (a proxy, a test server; the SDKs also read ``$ANTHROPIC_BASE_URL`` /
    ``$OPENAI_BASE_URL``). Raises :class:`NexteditError` when the SDK is not installed or a required
    key is not in the environment."""
    if spec.kind == "anthropic":
        from nextedit.llm.backends.anthropic_messages import AnthropicBackend

        return AnthropicBackend(spec, timeout, base_url)
    from nextedit.llm.backends.openai_chat import OpenAIBackend

    return OpenAIBackend(spec, timeout, base_url)
