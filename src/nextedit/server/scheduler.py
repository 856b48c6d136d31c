"""The one place model work is scheduled: per-model worker threads behind a bounded queue.

* Model work never runs on the event loop: handlers build a :class:`Job` and ``await`` it.
* Per client, a newer job supersedes the older queued or running one: a queued job is replaced in
  place (the client keeps its turn), a running one has its :class:`~nextedit.schema.cancel.CancelToken` set (the engine checks it
  between forward passes); both resolve with :class:`~nextedit.server.errors.Canceled`.
* The queue is bounded: a full queue raises :class:`Overloaded` (429) with a Retry-After estimate,
  and so does a queue deeper than the workers can drain before the new job's deadline (at the
  recent run time, :meth:`ModelWorker.capacity`): load is shed at once instead of timing out later.
* Order (``order="adaptive-lifo"``, the default): first come, first served while the oldest queued
  job has waited less than ``lifo_after_ms``; once the queue backs up, the *newest* job goes first
  (the keystroke the user is waiting on now; an older one of an active typist is about to be
  superseded anyway), except that a job within ``starvation_ms`` of its deadline is served first
  (oldest first), so a typist who paused is served late rather than failed. ``order="fifo"``
  keeps strict arrival order. ``nextedit bench serve`` (20 typists) shows the difference.
* Every job has a deadline: expiry while queued or running resolves it with
  :class:`DeadlineExceeded` (408) and cancels the model work.
* ``queue_ms`` (enqueue → start) and ``run_ms`` are measured for every job.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from nextedit.schema.cancel import Canceled as ModelCanceled
from nextedit.schema.cancel import CancelToken
from nextedit.server.errors import (
    Canceled,
    DeadlineExceeded,
    ModelError,
    Overloaded,
    ServerError,
    Unavailable,
)

log = logging.getLogger("nextedit.server")

QUEUE_ORDERS = ("adaptive-lifo", "fifo")


class Job:
    """One unit of model work. ``fn(job)`` runs in a worker thread and may read ``job.cancel``."""

    def __init__(
        self,
        fn: Callable[[Job], Any],
        *,
        client_key: str,
        deadline: float,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.fn = fn
        self.client_key = client_key
        self.deadline = deadline  # time.monotonic() seconds
        self.cancel = CancelToken()
        self.loop = loop
        self.future: asyncio.Future = loop.create_future()
        # the waiter may have given up (deadline, disconnect): never warn about an unread result
        self.future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.enqueued_at = time.monotonic()
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.state = "new"  # new | queued | running | done
        self.reason: str | None = None  # superseded | deadline | disconnected | shutdown

    @property
    def queue_ms(self) -> float:
        end = self.started_at if self.started_at is not None else (self.finished_at or time.monotonic())
        return (end - self.enqueued_at) * 1000.0

    def abort(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        self.cancel.cancel()

    def error(self) -> ServerError:
        if self.reason == "deadline":
            return DeadlineExceeded("request deadline exceeded", retry_after=1)
        if self.reason == "shutdown":
            return Unavailable("server is shutting down", retry_after=1)
        if self.reason == "disconnected":
            return Canceled("client disconnected")
        return Canceled("superseded by a newer request from the same client")

    def _settle(self, result: Any = None, error: BaseException | None = None) -> None:
        def _set() -> None:
            if self.future.done():
                return
            if error is not None:
                self.future.set_exception(error)
            else:
                self.future.set_result(result)

        with contextlib.suppress(RuntimeError):  # loop closed (shutdown)
            self.loop.call_soon_threadsafe(_set)


class ModelWorker:
    """Worker threads + bounded FIFO queue for one model."""

    def __init__(
        self,
        name: str,
        *,
        workers: int = 1,
        max_queue: int = 64,
        order: str = "adaptive-lifo",
        lifo_after_ms: float = 100.0,
        starvation_ms: float = 500.0,
        max_wait_ms: float | None = None,
    ) -> None:
        if order not in QUEUE_ORDERS:
            raise ValueError(f"order must be one of {', '.join(QUEUE_ORDERS)}, got {order!r}")
        self.name = name
        self.max_queue = max_queue
        self.n_workers = workers
        self.order = order
        self.lifo_after_s = lifo_after_ms / 1000.0
        self.starvation_s = starvation_ms / 1000.0
        # the most a job may wait in the queue: an editor would rather have a fast 429 than a late
        # answer, so a deeper queue sheds at submission and a job that waited longer is refused
        self.max_wait_s = max_wait_ms / 1000.0 if max_wait_ms else None
        self._cv = threading.Condition()
        self._queue: collections.deque[Job] = collections.deque()
        self._latest: dict[str, Job] = {}
        self._running = 0
        self._closing = False
        self._service_s = 0.05  # EWMA of run time, for Retry-After
        self._threads = [
            threading.Thread(target=self._loop, name=f"nextedit-model-{name}-{i}", daemon=True)
            for i in range(workers)
        ]
        for t in self._threads:
            t.start()

    # ------------------------------------------------------------------ introspection
    @property
    def queue_depth(self) -> int:
        return len(self._queue)

    @property
    def running(self) -> int:
        return self._running

    def capacity(self, seconds: float) -> float:
        """Jobs the workers can finish in ``seconds`` at the recent run time: a queue at least this
        deep means some queued job misses a deadline that far away, whatever the order."""
        return self.n_workers * max(0.0, seconds) / max(self._service_s, 1e-3)

    def retry_after(self) -> float:
        """Seconds until the queue has likely drained (at least 1)."""
        backlog = len(self._queue) + self._running
        return max(1.0, backlog * self._service_s / max(1, self.n_workers))

    # ------------------------------------------------------------------ submission
    def submit(self, job: Job) -> None:
        """Enqueue ``job``; supersede the client's previous job; raise Overloaded when full."""
        with self._cv:
            if self._closing:
                raise Unavailable(f"model {self.name} is being unloaded", retry_after=1)
            old = self._latest.get(job.client_key)
            live = old is not None and old.state in ("queued", "running")
            frees_slot = live and old.state == "queued"
            depth = len(self._queue) - frees_slot
            if depth >= self.max_queue:  # refuse before touching the older one
                raise Overloaded(
                    f"model {self.name} queue is full ({self.max_queue} waiting)",
                    retry_after=self.retry_after(),
                )
            horizon = job.deadline - time.monotonic()
            if self.max_wait_s is not None:
                horizon = min(horizon, self.max_wait_s)
            if depth and depth >= self.capacity(horizon):
                raise Overloaded(
                    f"model {self.name} cannot reach this request before its deadline or wait budget "
                    f"({depth} waiting, ~{self._service_s * 1000:.0f} ms each)",
                    retry_after=self.retry_after(),
                )
            job.state = "queued"
            if live and old.state == "queued":
                # the newer request takes the older one's place: a client that keeps typing keeps its
                # turn instead of going to the back of the queue on every keystroke
                self._queue[self._queue.index(old)] = job
            else:
                self._queue.append(job)
            if live:
                self._retire(old)
            self._latest[job.client_key] = job
            self._cv.notify()

    def supersede(self, client_key: str) -> None:
        """A newer request of this client was answered without the queue (a hybrid's first
        provider): its queued or running job is stale, as if a newer job had been submitted."""
        with self._cv:
            old = self._latest.pop(client_key, None)
            if old is not None and old.state in ("queued", "running"):
                if old.state == "queued":
                    self._queue.remove(old)
                self._retire(old)

    @staticmethod
    def _retire(old: Job) -> None:
        """Abort a superseded job: a queued one (already off the queue) resolves now, a running
        one at its next forward pass; lock held."""
        old.abort("superseded")
        if old.state == "queued":
            old.state = "done"
            old.finished_at = time.monotonic()
            old._settle(error=old.error())

    def discard(self, job: Job) -> None:
        """Drop a queued job whose waiter gave up (deadline, disconnect)."""
        with self._cv:
            if job.state == "queued":
                self._queue.remove(job)
                job.state = "done"
                job.finished_at = time.monotonic()
            if self._latest.get(job.client_key) is job and job.state == "done":
                del self._latest[job.client_key]

    # ------------------------------------------------------------------ worker loop
    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._closing:
                    self._cv.wait()
                if not self._queue:
                    return
                now = time.monotonic()
                job = self._pick(now)
                if not job.cancel.canceled and now >= job.deadline:
                    job.abort("deadline")
                refusal = self._refusal(job, now)
                if refusal is not None:  # never runs: settled here with its error
                    job.state = "done"
                    job.finished_at = now
                    if self._latest.get(job.client_key) is job:
                        del self._latest[job.client_key]
                    job._settle(error=refusal)
                    continue
                job.state = "running"
                job.started_at = now
                self._running += 1
            result: Any = None
            error: BaseException | None = None
            try:
                result = job.fn(job)
            except ModelCanceled:
                error = job.error()
            except ServerError as e:
                error = e
            except Exception as e:  # noqa: BLE001 - a model failure must not kill the worker
                log.exception("model %s failed", self.name)
                error = ModelError(f"model {self.name} failed: {type(e).__name__}: {e}")
            finished = time.monotonic()
            if error is None and job.reason is not None:
                error = job.error()  # finished, but superseded / timed out meanwhile: stale
            with self._cv:
                job.state = "done"
                job.finished_at = finished
                self._running -= 1
                self._service_s = 0.8 * self._service_s + 0.2 * (finished - (job.started_at or finished))
                if self._latest.get(job.client_key) is job:
                    del self._latest[job.client_key]
            job._settle(result, error)

    def _refusal(self, job: Job, now: float) -> ServerError | None:
        """Why the job just picked must not run (lock held): canceled (superseded, deadline,
        disconnected, shutdown: :meth:`Job.error`) or queued longer than the wait budget
        (429); None = run it."""
        if job.cancel.canceled:
            return job.error()
        if self.max_wait_s is not None and now - job.enqueued_at > self.max_wait_s:
            return Overloaded(
                f"model {self.name} queue wait exceeded {self.max_wait_s * 1000:.0f} ms",
                retry_after=self.retry_after(),
            )
        return None

    def _pick(self, now: float) -> Job:
        """Remove and return the next job (see the module docstring for the order); lock held."""
        q = self._queue
        if self.order == "fifo" or len(q) == 1:
            return q.popleft()
        # a replaced job keeps its predecessor's place, so queue order is not arrival order
        oldest = min(q, key=lambda j: j.enqueued_at)
        if now - oldest.enqueued_at < self.lifo_after_s:
            job = q[0]
        else:
            starving = [j for j in q if j.deadline - now < self.starvation_s]
            job = (
                min(starving, key=lambda j: j.enqueued_at)
                if starving
                else max(q, key=lambda j: j.enqueued_at)
            )
        q.remove(job)
        return job

    def close(self, *, drain: bool = True, timeout: float = 30.0) -> None:
        """Stop accepting work; finish (``drain``) or cancel what is queued; join the threads."""
        with self._cv:
            self._closing = True
            if not drain:
                while self._queue:
                    job = self._queue.popleft()
                    job.abort("shutdown")
                    job.state = "done"
                    job._settle(error=job.error())
            self._cv.notify_all()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))


async def run_job(
    worker: ModelWorker,
    job: Job,
    *,
    is_disconnected: Callable[[], Awaitable[bool]] | None = None,
    poll_s: float = 0.2,
) -> Any:
    """Submit ``job`` and wait for it, enforcing its deadline and (optionally) client disconnects."""
    worker.submit(job)
    try:
        while True:
            remaining = job.deadline - time.monotonic()
            if remaining <= 0:
                job.abort("deadline")
                worker.discard(job)
                if job.future.done() and job.future.exception() is None:
                    return job.future.result()
                raise job.error()
            timeout = min(remaining, poll_s) if is_disconnected else remaining
            done, _ = await asyncio.wait({job.future}, timeout=timeout)
            if done:
                return job.future.result()
            if is_disconnected is not None and await is_disconnected():
                job.abort("disconnected")
                worker.discard(job)
                raise job.error()
    except asyncio.CancelledError:
        job.abort("disconnected")
        worker.discard(job)
        raise


class FirstPool:
    """The bounded thread pool where cheap first providers (the heuristic) run before a request
    queues for its model; never asyncio's default pool, so they cannot starve other work.

    * At most ``workers`` calls run at once; at most one per client: a newer call of the same
      client cancels the older one (its :class:`CancelToken` is set, and its waiter gets
      :class:`Canceled` within ~50 ms, without waiting for the thread to notice).
    * A call that cannot start now (every thread busy) is not queued: :meth:`run` returns None and
      the request goes to its model's queue, which has its own limits (it still cancels the
      client's older call).
    * A call still running at ``deadline`` is canceled and raises :class:`DeadlineExceeded`.
    """

    def __init__(self, workers: int = 2) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nextedit-first")
        self._lock = threading.Lock()
        self._busy = 0
        self._latest: dict[str, CancelToken] = {}

    @property
    def busy(self) -> int:
        return self._busy

    async def run(self, client_key: str, fn: Callable[[CancelToken], Any], *, deadline: float) -> Any:
        """``fn(cancel)`` in a pool thread → its result, or None when every thread is busy;
        ``deadline``: ``time.monotonic()`` seconds."""
        cancel = CancelToken()
        with self._lock:
            older = self._latest.pop(client_key, None)
            admitted = self._busy < self.workers
            if admitted:
                self._busy += 1
                self._latest[client_key] = cancel
        if older is not None:
            older.cancel()  # stale now, whether or not this call runs
        if not admitted:
            return None

        def call() -> Any:
            try:
                cancel.check()
                return fn(cancel)
            finally:
                with self._lock:
                    self._busy -= 1
                    if self._latest.get(client_key) is cancel:
                        del self._latest[client_key]

        future = asyncio.wrap_future(self._executor.submit(call))
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    cancel.cancel()
                    raise DeadlineExceeded("request deadline exceeded", retry_after=1)
                done, _ = await asyncio.wait({future}, timeout=min(remaining, 0.05))
                if done:
                    try:
                        return future.result()
                    except ModelCanceled:
                        raise Canceled("superseded by a newer request from the same client") from None
                if cancel.canceled:
                    raise Canceled("superseded by a newer request from the same client")
        except asyncio.CancelledError:
            cancel.cancel()
            raise

    def close(self) -> None:
        with self._lock:
            for token in self._latest.values():
                token.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
