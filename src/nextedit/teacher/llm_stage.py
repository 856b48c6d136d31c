"""The base of the stages that call an LLM: an :class:`LLMConfig` kept, a client opened where it runs.

A pipeline may pickle a stage into worker processes or Ray actors; a client (threads, SQLite) cannot
travel, so the stage keeps the config privately and opens the client on first use. Its public
attribute ``llm`` (the backend spec string) is what the pipeline's run record sees, so resuming a run
with another ``--max-parallelism`` or ``--cache-only`` is the same run; another backend is not.

A spent error budget or a fatal client error (a rejected key) stops the whole run, not just the
example: :class:`RunStopped` is a ``BaseException`` (like ``KeyboardInterrupt``), so the pipeline
does not record it as one failed example after another; the shards already written stay resumable.

A stage says what it asks for an example with :meth:`LLMStage.plan` (the requests, and how their
answers finish the example). Online, examples are answered one by one (each example's requests
concurrently), so the pipeline's shards stay small and resumable. In batched mode (``--batch``) the
``Batched…`` variants (:class:`WholeRun`) see the whole run at once and send every miss in one
call, so the provider gets a few large batches instead of one per example; such a run is one shard
(a rerun resumes through the cache and the batch ids kept there).

After every example the client's figures (requests, cache hits, tokens, cost; :class:`LLMStats`) are
moved into the stage's counters as ``llm.*``, so they add up across workers like every other counter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from nextedit.llm import (
    ChatRequest,
    ChatResult,
    ErrorBudgetExceeded,
    LLMClient,
    LLMConfig,
    LLMFatalError,
    LLMStats,
)
from nextedit.pipeline.stage import Stage, StageStats
from nextedit.schema.example import Example


class RunStopped(BaseException):  # noqa: N818 - a stop, like KeyboardInterrupt, not an error of one example
    """The LLM cannot go on (error budget spent, key rejected): the run stops. The message is one line."""


@dataclass
class Plan:
    """What a stage asks for one example: ``requests``, and ``finish(results)`` (the answers, in
    order) that returns the finished example."""

    requests: list[ChatRequest]
    finish: Callable[[list[ChatResult]], Example]


class LLMStage(Stage):
    """A stage that answers its examples with one LLM (see module doc). Subclasses implement
    :meth:`plan` and :meth:`is_complete`; :meth:`process` skips complete examples."""

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
        plan = self.plan(example)
        return plan.finish(self._answers(plan.requests))

    def plan(self, example: Example) -> Plan:  # pragma: no cover - abstract
        raise NotImplementedError

    def _answers(self, requests: list[ChatRequest]) -> list[ChatResult]:
        if not requests:
            return []
        try:
            return self.ask(requests)
        except (ErrorBudgetExceeded, LLMFatalError) as e:
            raise RunStopped(f"{self.name}: {e}") from None
        finally:
            self._move_llm_stats()

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


def llm_summary(stats: StageStats) -> str:
    """One line of a run's LLM figures from the ``llm.*`` counters: answers (cached), requests sent,
    failures, tokens in+out, cost in USD."""
    c = stats.counters
    return (
        f"{int(c['llm.answers'] + c['llm.cache_hits'])} answers ({int(c['llm.cache_hits'])} cached), "
        f"{int(c['llm.http_attempts'])} requests sent, {int(c['llm.failures'])} failed, "
        f"{int(c['llm.prompt_tokens']):,}+{int(c['llm.completion_tokens']):,} tokens, ${c['llm.cost_usd']:.4f}"
    )


class WholeRun:
    """Mixin for an :class:`LLMStage`: the whole run in one call (batched mode, module doc). Put it
    first: ``class BatchedTeacherStage(WholeRun, TeacherStage)``."""

    def run(self: LLMStage, examples: Iterable[Example]) -> Iterator[Example]:  # type: ignore[misc]
        held: list[Example | Plan] = []
        for example in examples:
            self.stats.seen += 1
            reason = self.skip_reason(example)
            if reason is not None:
                self.stats.count(reason)
                held.append(example)
            else:
                held.append(self.plan(example))
        plans = [p for p in held if isinstance(p, Plan)]
        results = iter(self._answers([r for p in plans for r in p.requests]))
        for item in held:
            out = item if isinstance(item, Example) else item.finish([next(results) for _ in item.requests])
            self.stats.written += 1
            yield out
