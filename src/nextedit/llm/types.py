"""The client layer's vocabulary: a chat request, its parameters and its result.

A request is a list of messages (``{"role": "system" | "user" | "assistant", "content": str}``) and
:class:`ChatParams`. A result is a :class:`ChatResult` whose ``status`` says what happened; a failure
of one request is a value (``status="error"``), never an exception, so a pipeline step can record it
on its example and go on. What stops a run is raised: :class:`~nextedit.llm.errors.ErrorBudgetExceeded`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ROLES = ("system", "user", "assistant")

Message = dict[str, str]
"""``{"role": "system" | "user" | "assistant", "content": str}``."""

Status = Literal["ok", "error", "pending", "missing"]
"""``ok``: an answer; ``error``: the request failed (after retries); ``pending``: submitted in a provider
batch that has not finished (a rerun collects it); ``missing``: not in the cache and ``cache_only``."""


@dataclass(frozen=True)
class ChatParams:
    """Sampling parameters, all part of the cache key.

    ``max_tokens``: the most completion tokens. ``temperature``: ``None`` = the provider's default.
    ``seed``: sent where the provider takes one (OpenAI); for every backend it also tells repetitions
    of the same prompt apart in the cache (``seed=i`` for the i-th repetition).
    """

    max_tokens: int = 16384
    temperature: float | None = None
    seed: int | None = None


@dataclass(frozen=True)
class ChatRequest:
    """One conversation to complete. ``messages`` are checked by :func:`check_messages`."""

    messages: tuple[Message, ...]
    params: ChatParams = field(default_factory=ChatParams)

    @classmethod
    def of(
        cls, messages: list[Message] | tuple[Message, ...], params: ChatParams | None = None
    ) -> ChatRequest:
        check_messages(messages)
        return cls(
            tuple({"role": m["role"], "content": m["content"]} for m in messages), params or ChatParams()
        )


@dataclass
class ChatResult:
    """The answer to one request.

    ``text``: the assistant's text (``""`` unless ``ok``). ``finish_reason``: ``"stop"``, ``"length"``
    (truncated at ``max_tokens``) or the provider's own word. Token counts are the provider's.
    ``cost_usd``: from the price table (``None`` when the model has no price). ``cached``: served from
    the response cache (no request made). ``error``: one line, set when ``status == "error"`` (or
    ``"missing"``); it never holds a key.
    """

    status: Status = "ok"
    text: str = ""
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    cached: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"

    def to_record(self) -> dict[str, Any]:
        """What the cache stores (no ``cached``/``status``: a stored result is an ok answer)."""
        d = asdict(self)
        for k in ("status", "cached", "error"):
            d.pop(k)
        return d

    @classmethod
    def from_record(cls, record: dict[str, Any], *, cached: bool) -> ChatResult:
        return cls(status="ok", cached=cached, **record)


def check_messages(messages: list[Message] | tuple[Message, ...]) -> None:
    """Raise ``ValueError`` (a caller's bug, not a user's input) unless ``messages`` is a non-empty list
    of ``{"role", "content"}`` with known roles and string contents, ending with a user turn."""
    if not messages:
        raise ValueError("a chat request needs at least one message")
    for i, m in enumerate(messages):
        if m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            raise ValueError(
                f"messages[{i}]: expected {{'role': one of {ROLES}, 'content': str}}, got {m!r:.80}"
            )
    if messages[-1]["role"] != "user":
        raise ValueError("the last message of a chat request must be the user's")
