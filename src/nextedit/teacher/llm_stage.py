"""The base of the stages that call an LLM: an :class:`LLMConfig` kept, a client opened where it runs.

A pipeline may pickle a stage into worker processes or Ray actors; a client (threads, SQLite) cannot
travel, so the stage keeps the config privately and opens the client on first use. Its public
attribute ``llm`` (the backend spec string) is what the pipeline's run record sees, so resuming a run
with another ``--max-parallelism`` or ``--cache-only`` is the same run; another backend is not.

After every example the client's figures (requests, cache hits, tokens, cost; :class:`LLMStats`) are
moved into the stage's counters as ``llm.*``, so they add up across workers like every other counter.
"""

from __future__ import annotations

from collections.abc import Sequence

from nextedit.llm import ChatRequest, ChatResult, LLMClient, LLMConfig, LLMStats
from nextedit.pipeline.stage import Stage
from nextedit.schema.example import Example


class LLMStage(Stage):
    """A stage that answers its examples with one LLM (see module doc). Subclasses implement
    :meth:`work` and :meth:`is_complete`; :meth:`process` skips complete examples."""

    name = "llm"

    def __init__(self, llm: LLMConfig | str) -> None:
        super().__init__()
        self._config = llm if isinstance(llm, LLMConfig) else LLMConfig(llm)
        self.llm = self._config.backend
        self._client: LLMClient | None = None

    @property
    def config(self) -> LLMConfig:
        return self._config

    @property
    def model(self) -> str:
        """The model name of the backend (``claude-sonnet-4-5``, or the part after ``#``)."""
        from nextedit.llm import parse_backend

        return parse_backend(self.llm).model

    @property
    def client(self) -> LLMClient:
        if self._client is None:
            self._client = self._config.open()
        return self._client

    def ask(self, requests: Sequence[ChatRequest]) -> list[ChatResult]:
        """Answers to ``requests`` (in order, concurrently up to the config's ``max_parallelism``)."""
        return self.client.chat_many(list(requests))

    def skip_reason(self, example: Example) -> str | None:
        """Why ``example`` passes through without a request (a counter name), or None to work on it."""
        return "already done" if self.is_complete(example) else None

    def process(self, example: Example) -> Example | None:
        reason = self.skip_reason(example)
        if reason is not None:
            self.stats.count(reason)
            return example
        try:
            return self.work(example)
        finally:
            self._move_llm_stats()

    def work(self, example: Example) -> Example | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _move_llm_stats(self) -> None:
        if self._client is None:
            return
        for key, value in self._client.stats.counters().items():
            if value:
                self.stats.count(key, value)
        self._client.stats = LLMStats()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_client"] = None  # opened again where the stage runs
        return state


def llm_summary(stats) -> str:  # noqa: ANN001 - StageStats
    """One line of a run's LLM figures from the ``llm.*`` counters: answers (cached), requests sent,
    failures, tokens in+out, cost in USD."""
    c = stats.counters
    return (
        f"{int(c['llm.answers'] + c['llm.cache_hits'])} answers ({int(c['llm.cache_hits'])} cached), "
        f"{int(c['llm.http_attempts'])} requests sent, {int(c['llm.failures'])} failed, "
        f"{int(c['llm.prompt_tokens']):,}+{int(c['llm.completion_tokens']):,} tokens, ${c['llm.cost_usd']:.4f}"
    )
