"""What a pipeline step keeps of its LLM: a picklable description it opens in the worker.

A stage may be pickled into worker processes or Ray actors, and an :class:`LLMClient` (threads,
SQLite connections) cannot travel; so a stage holds an :class:`LLMConfig` (plain values, the CLI's
``--llm``, ``--max-parallelism``, ``--cache-only``, ``--batch``, ``--wait`` …) and calls
:meth:`LLMConfig.open` where it runs. Every worker's client shares the one cache file (safe across
processes); the error budget and the stats are per worker, merged by the stage's own counters
(:meth:`~nextedit.llm.stats.LLMStats.counters`).
"""

from __future__ import annotations

from dataclasses import dataclass

from nextedit.llm.client import LLMClient
from nextedit.llm.retry import RetryPolicy
from nextedit.llm.spec import parse_backend


@dataclass(frozen=True)
class LLMConfig:
    """``backend``: a spec (``anthropic:MODEL`` …), checked on construction. ``cache``: the SQLite
    file (None: no cache). Seconds for ``timeout`` (per request) and ``poll_interval`` (batches).
    ``prices``: a TOML price table merged over the shipped one. Others as :class:`LLMClient`."""

    backend: str
    cache: str | None = None
    cache_only: bool = False
    batched: bool = False
    wait: bool = False
    poll_interval: float = 30.0
    max_parallelism: int = 8
    timeout: float = 600.0
    max_attempts: int = 6
    error_budget: int = 10
    prices: str | None = None
    base_url: str | None = None

    def __post_init__(self) -> None:
        parse_backend(self.backend)  # a bad spec fails where the stage is built, not in a worker

    def open(self) -> LLMClient:
        """A client as described (close it when done, or use it as a context manager)."""
        return LLMClient(
            self.backend,
            cache=self.cache,
            cache_only=self.cache_only,
            batched=self.batched,
            wait=self.wait,
            poll_interval=self.poll_interval,
            max_parallelism=self.max_parallelism,
            timeout=self.timeout,
            retry=RetryPolicy(max_attempts=self.max_attempts),
            error_budget=self.error_budget,
            prices=self.prices,
            base_url=self.base_url,
        )
