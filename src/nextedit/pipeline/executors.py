"""Executors: where shards run. Both return shard results in shard order, so the output is the
same lines in the same order whichever executor (and however many workers) ran them.

- :class:`LocalExecutor`: processes on this machine (``max_parallelism`` workers; 1 = in the
  driving process, nothing pickled).
- :class:`RayExecutor`: Ray Data, one actor per worker (the optional ``nextedit[ray]`` extra);
  connects to a running cluster if ``ray.init`` was called, else starts a local one. The driver
  lists every shard (items included) before Ray starts on them.

A worker receives the job (reader and steps) once, pickled; a step holding something that does
not pickle (an open process, a client) must open it lazily.
"""

from __future__ import annotations

import atexit
import pickle
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Protocol

from nextedit.errors import NexteditError
from nextedit.pipeline.shard import Job, Shard, ShardResult, run_shard

EXECUTORS = ("local", "ray")


class Executor(Protocol):
    name: str
    max_parallelism: int | None

    def map(self, job: Job, shards: Iterable[Shard]) -> Iterator[ShardResult]:
        """Run every shard; yield the results in shard order."""
        ...


def make_executor(name: str = "local", max_parallelism: int | None = None) -> Executor:
    """The executor called ``name`` (``local`` or ``ray``)."""
    if max_parallelism is not None and max_parallelism < 1:
        raise NexteditError(f"--max-parallelism must be at least 1, got {max_parallelism}")
    if name == "local":
        return LocalExecutor(max_parallelism or 1)
    if name == "ray":
        return RayExecutor(max_parallelism)
    raise NexteditError(f"unknown executor {name!r}; expected one of: {', '.join(EXECUTORS)}")


def _pickled(job: Job, where: str) -> bytes:
    try:
        return pickle.dumps(job)
    except (pickle.PicklingError, TypeError, AttributeError) as e:
        raise NexteditError(f"a step cannot be sent to {where} ({e}); run with --max-parallelism 1") from None


class LocalExecutor:
    """Worker processes on this machine, at most ``2 × max_parallelism`` shards in flight."""

    name = "local"

    def __init__(self, max_parallelism: int = 1) -> None:
        self.max_parallelism = max_parallelism

    def map(self, job: Job, shards: Iterable[Shard]) -> Iterator[ShardResult]:
        if self.max_parallelism == 1:
            for shard in shards:
                yield run_shard(job, shard)
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        payload = _pickled(job, "worker processes")
        pool = ProcessPoolExecutor(
            self.max_parallelism,
            mp_context=multiprocessing.get_context("spawn"),  # no fork of a threaded parent
            initializer=_init_worker,
            initargs=(payload,),
        )
        try:
            pending: deque = deque()
            for shard in shards:
                pending.append(pool.submit(_run_in_worker, shard))
                if len(pending) >= 2 * self.max_parallelism:
                    yield _result(pending.popleft())
            while pending:
                yield _result(pending.popleft())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _result(future) -> ShardResult:  # noqa: ANN001 - a concurrent.futures.Future
    from concurrent.futures.process import BrokenProcessPool

    try:
        return future.result()
    except BrokenProcessPool:
        raise NexteditError(
            "a worker process died (out of memory?); rerun to resume after the last finished shard"
        ) from None


_WORKER_JOB: Job | None = None


def _init_worker(payload: bytes) -> None:
    global _WORKER_JOB
    _WORKER_JOB = pickle.loads(payload)
    atexit.register(_close_worker_job)


def _close_worker_job() -> None:
    if _WORKER_JOB is not None:
        for stage in (_WORKER_JOB.reader, *_WORKER_JOB.steps):
            stage.close()


def _run_in_worker(shard: Shard) -> ShardResult:
    assert _WORKER_JOB is not None
    return run_shard(_WORKER_JOB, shard)


class RayExecutor:
    """Ray Data over the shards: ``max_parallelism`` actors (default: the cluster's CPUs)."""

    name = "ray"

    def __init__(self, max_parallelism: int | None = None) -> None:
        try:
            import ray  # noqa: F401
            import ray.data  # noqa: F401
        except ImportError:
            raise NexteditError("--executor ray needs Ray: pip install 'nextedit[ray]'") from None
        self.max_parallelism = max_parallelism

    def map(self, job: Job, shards: Iterable[Shard]) -> Iterator[ShardResult]:
        import logging

        import ray
        import ray.data

        rows = [{"index": s.index, "shard": pickle.dumps(s)} for s in shards]
        if not rows:
            return
        if not ray.is_initialized():
            ray.init(
                num_cpus=self.max_parallelism,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
            )
        logging.getLogger("ray.data").setLevel(logging.ERROR)  # its INFO/WARNING lines are not ours
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False
        size = self.max_parallelism or max(1, int(ray.cluster_resources().get("CPU", 1)))
        size = min(size, len(rows))
        ds = ray.data.from_items(rows, override_num_blocks=len(rows)).map(
            _RayShardRunner,
            fn_constructor_args=(_pickled(job, "Ray workers"),),
            compute=ray.data.ActorPoolStrategy(size=size),
        )
        for row in ds.iter_rows():
            result = pickle.loads(row["result"])
            if isinstance(result, NexteditError):  # e.g. --failfast's ExampleFailed, raised in an actor
                raise result
            yield result


class _RayShardRunner:
    """A Ray Data actor: holds the job, runs the shards it is given."""

    def __init__(self, payload: bytes) -> None:
        self.job: Job = pickle.loads(payload)

    def __call__(self, row: dict) -> dict:
        try:
            result: ShardResult | NexteditError = run_shard(self.job, pickle.loads(row["shard"]))
        except NexteditError as e:  # the user's to fix: handed to the driver as a value, not a trace
            result = e
        return {"index": row["index"], "result": pickle.dumps(result)}
