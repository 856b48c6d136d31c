"""The one LLM client a pipeline step calls: cache, retries, error budget, concurrency, prices.

    client = LLMClient("anthropic:claude-sonnet-4-5", cache="data/llm_cache.sqlite", max_parallelism=8)
    results = client.chat_many([ChatRequest.of(messages) for messages in conversations])
    print(client.stats.summary())

``chat_many`` answers a list of requests in order, ``max_parallelism`` at a time (threads; the SDK
clients are thread-safe). Identical requests are sent once. A request already in the cache is not
sent (a rerun over the same input makes zero requests); ``cache_only=True`` never calls out (a miss
is a ``status="missing"`` result). Each request gets up to ``retry.max_attempts`` attempts on 429,
5xx, connection errors and timeouts (``timeout`` seconds each); a request that still fails is a
``status="error"`` result, and ``error_budget`` such failures in a row stop the run with
:class:`~nextedit.llm.errors.ErrorBudgetExceeded` (one line).

Batched mode (``batched=True``): misses go out as provider batches (Message Batches / Batch API,
half price) whose ids are kept in the cache database. A call collects the batches that have
finished, re-submits the requests of a lost one, submits what is new, and returns ``pending``
results for what is still running, unless ``wait=True``: then it polls every ``poll_interval``
seconds until every batch has finished. A rerun (another process, tomorrow) picks the finished
batches up.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TypeVar

from nextedit.errors import NexteditError
from nextedit.llm.backends import Backend, open_backend
from nextedit.llm.cache import ResponseCache, request_key
from nextedit.llm.errors import ErrorBudgetExceeded, LLMFatalError, RequestError, TransientError
from nextedit.llm.prices import PriceTable
from nextedit.llm.retry import ErrorBudget, RetryPolicy
from nextedit.llm.secrets import redact
from nextedit.llm.spec import BackendSpec, parse_backend
from nextedit.llm.stats import LLMStats
from nextedit.llm.types import ChatParams, ChatRequest, ChatResult, Message

log = logging.getLogger(__name__)
T = TypeVar("T")
OnResult = Callable[[int, ChatResult], None]


class _GaveUp(Exception):
    """An operation failed after its retries (message: one redacted line)."""


class LLMClient:
    """A client for one backend (a spec string, a :class:`BackendSpec`, or a ready :class:`Backend`).

    ``cache``: a :class:`ResponseCache` or the path of its SQLite file (None: no cache; batched mode
    needs one). ``timeout``: seconds per HTTP request. ``error_budget``: consecutive failed requests
    that stop the run. ``prices``: a :class:`PriceTable` or a TOML file merged over the shipped one.
    ``base_url``: the provider's API address for ``anthropic:``/``openai:`` (tests, proxies).
    ``batch_size``: the most requests in one provider batch. ``max_resubmits``: how often one call
    re-submits the requests of lost batches before reporting them as errors.
    """

    def __init__(
        self,
        backend: str | BackendSpec | Backend,
        *,
        cache: ResponseCache | str | Path | None = None,
        cache_only: bool = False,
        batched: bool = False,
        wait: bool = False,
        poll_interval: float = 30.0,
        max_parallelism: int = 8,
        timeout: float = 600.0,
        retry: RetryPolicy | None = None,
        error_budget: int = 10,
        prices: PriceTable | str | Path | None = None,
        base_url: str | None = None,
        batch_size: int = 10_000,
        max_resubmits: int = 3,
    ) -> None:
        for name, value, least in (
            ("max_parallelism", max_parallelism, 1),
            ("error_budget", error_budget, 1),
        ):
            if value < least:
                raise NexteditError(f"LLM client: {name} must be at least {least} (got {value})")
        if timeout <= 0:
            raise NexteditError(f"LLM client: timeout must be more than 0 seconds (got {timeout})")
        if isinstance(backend, str):
            backend = parse_backend(backend)
        self.spec: BackendSpec = backend if isinstance(backend, BackendSpec) else backend.spec
        self._backend: Backend | None = None if isinstance(backend, BackendSpec) else backend
        self._base_url = base_url
        self._backend_lock = threading.Lock()
        self.cache = ResponseCache(cache) if isinstance(cache, str | Path) else cache
        self._owns_cache = isinstance(cache, str | Path)
        if batched and self.cache is None:
            raise NexteditError(
                "LLM client: batched mode needs a response cache (its batch ids are kept there)"
            )
        self.cache_only = cache_only
        self.batched = batched
        self.wait = wait
        self.poll_interval = poll_interval
        self.max_parallelism = max_parallelism
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.budget = ErrorBudget(error_budget, str(self.spec))
        self.prices = prices if isinstance(prices, PriceTable) else PriceTable.load(prices)
        self.batch_size = batch_size
        self.max_resubmits = max_resubmits
        self.stats = LLMStats()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    # -- public ---------------------------------------------------------------------------------
    @property
    def backend(self) -> Backend:
        """The provider backend, opened on first use (so ``cache_only`` runs need no SDK or key)."""
        with self._backend_lock:
            if self._backend is None:
                self._backend = open_backend(self.spec, self.timeout, self._base_url)
            return self._backend

    def key(self, request: ChatRequest) -> str:
        """The cache key of ``request`` on this backend."""
        return request_key(self.spec.identity, self.spec.model, request)

    def chat(self, messages: list[Message] | ChatRequest, params: ChatParams | None = None) -> ChatResult:
        """Answer one conversation (see :meth:`chat_many`)."""
        request = messages if isinstance(messages, ChatRequest) else ChatRequest.of(messages, params)
        return self.chat_many([request])[0]

    def chat_many(
        self, requests: Sequence[ChatRequest], on_result: OnResult | None = None
    ) -> list[ChatResult]:
        """Answers to ``requests``, in order. ``on_result(i, result)`` is called as each is known (from
        worker threads). Raises :class:`ErrorBudgetExceeded` or :class:`LLMFatalError` to stop a run."""
        keys = [self.key(r) for r in requests]
        unique = {k: r for k, r in zip(keys, requests, strict=True)}
        answers: dict[str, ChatResult] = self.cache.get_many(unique) if self.cache else {}
        self.stats.add(cache_hits=sum(1 for k in keys if k in answers))
        positions: dict[str, list[int]] = {}
        for i, k in enumerate(keys):
            positions.setdefault(k, []).append(i)

        def deliver(key: str, result: ChatResult) -> None:
            answers[key] = result
            if on_result:
                for i in positions[key]:
                    on_result(i, result)

        for key in list(answers):
            deliver(key, answers[key])
        misses = {k: r for k, r in unique.items() if k not in answers}
        self.stats.add(cache_misses=len(misses))
        if self.cache_only:
            for key in misses:
                deliver(
                    key, ChatResult(status="missing", error="not in the LLM response cache (cache-only run)")
                )
        elif self.batched:
            self._run_batched(misses, deliver)
        elif misses:
            self._run_online(misses, deliver)
        return [answers[k] for k in keys]

    def close(self) -> None:
        """Stop the worker threads; close the cache if this client opened it."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._owns_cache and self.cache is not None:
            self.cache.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- online -----------------------------------------------------------------------------------
    def _run_online(self, misses: dict[str, ChatRequest], deliver: Callable[[str, ChatResult], None]) -> None:
        def work(key: str, request: ChatRequest) -> None:
            deliver(key, self._complete(key, request))

        if self.max_parallelism == 1 or len(misses) == 1:
            for key, request in misses.items():
                work(key, request)
            return
        with self._pool_lock:
            if self._pool is None:  # one pool for the client's life: its threads keep their cache connections
                self._pool = ThreadPoolExecutor(max_workers=self.max_parallelism, thread_name_prefix="llm")
        futures = [self._pool.submit(work, k, r) for k, r in misses.items()]
        try:
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in done:
                if future.exception() is not None:
                    raise future.exception()  # type: ignore[misc]
        except BaseException as e:  # the budget, a fatal error, Ctrl-C: stop the other workers too
            if not isinstance(e, ErrorBudgetExceeded | LLMFatalError):
                self.budget.stop(ErrorBudgetExceeded(f"{self.spec}: run interrupted ({type(e).__name__})"))
            for future in futures:
                future.cancel()
            wait(futures)
            raise

    def _complete(self, key: str, request: ChatRequest) -> ChatResult:
        """One request with retries; an ok answer is priced, counted and cached."""
        try:
            result = self._attempts(lambda: self.backend.complete(request, self.timeout), count=True)
        except _GaveUp as e:
            return self._failed(str(e))
        return self._answered(key, result, batched=False)

    def _answered(self, key: str, result: ChatResult, *, batched: bool) -> ChatResult:
        result.cost_usd = self.prices.cost(
            self.spec.model,
            result.prompt_tokens,
            result.completion_tokens,
            batched=batched,
            local=self.spec.kind == "openai-compatible",
        )
        self.stats.add(
            answers=1,
            truncated=int(result.truncated),
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            cost_usd=result.cost_usd or 0.0,
            unpriced=int(result.cost_usd is None),
        )
        if self.cache is not None:
            self.cache.put(key, self.spec.identity, self.spec.model, result)
        self.budget.success()
        return result

    def _failed(self, error: str) -> ChatResult:
        self.stats.add(failures=1)
        log.warning("%s: request failed: %s", self.spec, error)
        self.budget.failure(error)  # raises when this spends the budget
        return ChatResult(status="error", error=error)

    def _pause(self, seconds: float) -> None:
        if self.retry.sleep is not None:
            self.retry.sleep(seconds)
        else:
            self.budget.wait(seconds)

    def _attempts(self, call: Callable[[], T], *, count: bool = False) -> T:
        """``call()`` with retries on TransientError; ``_GaveUp`` once they are spent or on a
        RequestError. ``count``: the call is a model request (counted in ``http_attempts``)."""
        last = "no attempt made"
        for attempt in range(self.retry.max_attempts):
            self.budget.check()
            if count:
                self.stats.add(http_attempts=1)
            try:
                return call()
            except TransientError as e:
                last = redact(str(e))
                if attempt + 1 == self.retry.max_attempts:
                    break
                delay = self.retry.delay(attempt, e.retry_after)
                self.stats.retried(e.reason)
                log.info("%s: %s; retry %d in %.1fs", self.spec, last, attempt + 1, delay)
                self._pause(delay)
            except RequestError as e:
                raise _GaveUp(redact(str(e))) from None
            except LLMFatalError as e:
                self.budget.stop(e)
                raise
        raise _GaveUp(f"{last} (after {self.retry.max_attempts} attempts)")

    # -- batched ----------------------------------------------------------------------------------
    def _run_batched(
        self, misses: dict[str, ChatRequest], deliver: Callable[[str, ChatResult], None]
    ) -> None:
        assert self.cache is not None
        done: set[str] = set()

        def finish(key: str, result: ChatResult) -> None:
            done.add(key)
            deliver(key, result)

        rounds = 0
        while True:
            waiting = [k for k in misses if k not in done]
            running = self._collect(self.cache.pending_batches(waiting), finish)
            fresh = [k for k in waiting if k not in done and k not in running]
            if fresh:
                rounds += 1
                if rounds > 1 + self.max_resubmits:
                    for key in fresh:
                        finish(key, self._failed(f"its batch was lost {self.max_resubmits} times; given up"))
                else:
                    self._submit([(k, misses[k]) for k in fresh], finish)
            waiting = [k for k in misses if k not in done]
            if not waiting or not self.wait:
                break
            self._pause(self.poll_interval)
        for key in waiting:
            deliver(key, ChatResult(status="pending", error="waiting in a provider batch (rerun to collect)"))
        self.stats.add(pending=len(waiting))

    def _collect(self, pending: dict[str, list[str]], deliver: Callable[[str, ChatResult], None]) -> set[str]:
        """Collect the finished batches among ``pending`` (``{batch_id: keys}``); return the keys whose
        batch is still running. Keys of a lost batch, or absent from an ended one, are neither."""
        assert self.cache is not None
        running: set[str] = set()
        for batch_id, keys in pending.items():
            try:
                state = self._attempts(lambda b=batch_id: self.backend.batch_state(b, self.timeout))
                if state == "ended":
                    results = self._attempts(lambda b=batch_id: self.backend.batch_results(b, self.timeout))
            except _GaveUp as e:
                log.warning("%s: batch %s: %s", self.spec, batch_id, e)
                self.budget.failure(f"batch {batch_id}: {e}")  # a poll that keeps failing stops the run
                running.update(keys)  # its state is unknown: ask again next time
                continue
            self.budget.success()  # the provider answered
            if state == "running":
                running.update(keys)
                continue
            if state == "lost":
                log.warning(
                    "%s: batch %s was lost; its %d requests go out again", self.spec, batch_id, len(keys)
                )
                self.stats.add(batches_resubmitted=1)
            else:
                for key in keys:
                    result = results.get(key)
                    if result is not None and result.ok:
                        deliver(key, self._answered(key, result, batched=True))
                    elif result is not None:
                        deliver(key, self._failed(result.error or "batch request failed"))
            self.cache.set_batch_state(batch_id, "lost" if state == "lost" else "collected")
        return running

    def _submit(
        self, items: list[tuple[str, ChatRequest]], deliver: Callable[[str, ChatResult], None]
    ) -> None:
        assert self.cache is not None
        for i in range(0, len(items), self.batch_size):
            chunk = items[i : i + self.batch_size]
            try:
                batch_id = self._attempts(lambda c=chunk: self.backend.submit_batch(c, self.timeout))
            except _GaveUp as e:
                for key, _ in chunk:
                    deliver(key, self._failed(f"batch submission failed: {e}"))
                continue
            self.cache.record_batch(batch_id, self.spec.identity, self.spec.model, [k for k, _ in chunk])
            self.stats.add(batches_submitted=1, batch_requests=len(chunk))
            log.info("%s: submitted batch %s (%d requests)", self.spec, batch_id, len(chunk))
