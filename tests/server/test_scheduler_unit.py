"""ModelWorker/run_job without HTTP: ordering, supersession, overload, deadlines, failures.

A job that must be running blocks on an event and says when it started; the test waits for that
instead of sleeping. (The short ``asyncio.sleep`` calls between submissions only let the just
created task submit its job, in order: the event loop runs it before the sleep returns.)"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from nextedit.server.errors import Canceled, DeadlineExceeded, ModelError, Overloaded
from nextedit.server.scheduler import Job, ModelWorker, run_job


def _job(fn, client: str, loop, deadline_s: float = 5.0) -> Job:  # noqa: ANN001
    return Job(fn, client_key=client, deadline=time.monotonic() + deadline_s, loop=loop)


class Blocker:
    """A job function that signals ``started`` and then waits for ``gate``."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.gate = threading.Event()

    def __call__(self, job: Job) -> str:
        self.started.set()
        assert self.gate.wait(10)
        return "blocker"

    async def running(self) -> None:
        assert await asyncio.to_thread(self.started.wait, 10)


def _recorder(order: list[str]):  # noqa: ANN202
    """``record(name)`` makes a job function that appends ``name`` to ``order`` when it runs."""

    def record(name: str):  # noqa: ANN202
        def fn(job: Job) -> str:
            order.append(name)
            return name

        return fn

    return record


def test_supersede_queued_and_overload_keeps_older() -> None:
    blocker = Blocker()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        w = ModelWorker("m", workers=1, max_queue=1)
        try:
            first = asyncio.create_task(run_job(w, _job(blocker, "a", loop)))
            await blocker.running()
            queued = asyncio.create_task(run_job(w, _job(lambda j: "old", "b", loop)))
            await asyncio.sleep(0.01)
            with pytest.raises(Overloaded):  # queue full for a third client; b's job untouched
                await run_job(w, _job(lambda j: "x", "c", loop))
            newer = asyncio.create_task(
                run_job(w, _job(lambda j: "new", "b", loop))
            )  # replaces b's queued job
            await asyncio.sleep(0.01)
            blocker.gate.set()
            assert await first == "blocker"
            with pytest.raises(Canceled):
                await queued
            assert await newer == "new"
        finally:
            w.close()

    asyncio.run(main())


def test_deadline_while_queued_and_model_failure() -> None:
    blocker = Blocker()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        w = ModelWorker("m", workers=1, max_queue=4)
        try:
            busy = asyncio.create_task(run_job(w, _job(blocker, "a", loop)))
            await blocker.running()
            with pytest.raises(DeadlineExceeded):
                await run_job(w, _job(lambda j: "late", "b", loop, deadline_s=0.1))
            assert not busy.done() and w.queue_depth == 0  # expired while queued, dropped from the queue
            blocker.gate.set()
            await busy

            def boom(job: Job) -> None:
                raise RuntimeError("kaput")

            with pytest.raises(ModelError, match="kaput"):
                await run_job(w, _job(boom, "c", loop))
            assert await run_job(w, _job(lambda j: 42, "c", loop)) == 42  # worker survived
        finally:
            w.close()

    asyncio.run(main())


def test_superseding_request_keeps_the_clients_turn() -> None:
    blocker = Blocker()
    order: list[str] = []

    record = _recorder(order)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        w = ModelWorker("m", workers=1, max_queue=8, order="fifo")
        try:
            busy = asyncio.create_task(run_job(w, _job(blocker, "x", loop)))
            await blocker.running()
            a1 = asyncio.create_task(run_job(w, _job(record("a1"), "a", loop)))
            await asyncio.sleep(0.01)
            b1 = asyncio.create_task(run_job(w, _job(record("b1"), "b", loop)))
            await asyncio.sleep(0.01)
            a2 = asyncio.create_task(run_job(w, _job(record("a2"), "a", loop)))  # replaces a1 in place
            await asyncio.sleep(0.01)
            blocker.gate.set()
            await busy
            with pytest.raises(Canceled):
                await a1
            assert (await a2, await b1) == ("a2", "b1")
            assert order == ["a2", "b1"]
        finally:
            w.close()

    asyncio.run(main())


@pytest.mark.parametrize("backed_up", [False, True])
def test_adaptive_lifo_serves_newest_once_the_queue_backs_up(backed_up: bool) -> None:
    """Short waits: arrival order. Once the oldest job has waited past ``lifo_after_ms``: newest
    first, except a job close to its deadline (``starvation_ms``), which goes before all others.
    The thresholds sit far from what the test's waits can reach on any machine: the queue is
    "backed up" after a 0.3 s wait against 50 ms (else 60 s); with ``starvation_ms`` 9.9 s the
    urgent job (10 s deadline) starves after 0.1 s, the others (60 s) only after 50 s."""
    blocker = Blocker()
    order: list[str] = []

    record = _recorder(order)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        lifo_after_ms = 50 if backed_up else 60_000
        w = ModelWorker("m", workers=1, max_queue=8, lifo_after_ms=lifo_after_ms, starvation_ms=9_900)
        try:
            busy = asyncio.create_task(run_job(w, _job(blocker, "x", loop, deadline_s=60)))
            await blocker.running()
            jobs = [asyncio.create_task(run_job(w, _job(record("old"), "a", loop, deadline_s=60)))]
            await asyncio.sleep(0.01)
            if backed_up:  # its deadline is near when the worker frees up: served first
                jobs.append(asyncio.create_task(run_job(w, _job(record("urgent"), "u", loop, deadline_s=10))))
                await asyncio.sleep(0.01)
            jobs.append(asyncio.create_task(run_job(w, _job(record("mid"), "b", loop, deadline_s=60))))
            await asyncio.sleep(0.01)
            jobs.append(asyncio.create_task(run_job(w, _job(record("new"), "c", loop, deadline_s=60))))
            await asyncio.sleep(0.3 if backed_up else 0.01)
            blocker.gate.set()
            await busy
            await asyncio.gather(*jobs)
        finally:
            w.close()

    asyncio.run(main())
    if backed_up:
        assert order[0] == "urgent" and order[1] == "new"  # then newest first
    else:
        assert order == ["old", "mid", "new"]


def test_unknown_queue_order_is_rejected() -> None:
    with pytest.raises(ValueError, match="order must be one of"):
        ModelWorker("m", order="random")


def test_config_queue_order() -> None:
    from nextedit.server.config import ConfigError, parse_config

    cfg = parse_config({"models": {"m": {"provider": "heuristic", "queue_order": "fifo"}}})
    assert cfg.models["m"].queue_order == "fifo"
    assert parse_config({"models": {"m": {}}}).models["m"].queue_order == "adaptive-lifo"
    with pytest.raises(ConfigError, match="models.m.queue_order must be one of"):
        parse_config({"models": {"m": {"queue_order": "lifo"}}})


def test_first_pool_skips_when_busy_and_a_newer_call_supersedes() -> None:
    from nextedit.schema.cancel import CancelToken
    from nextedit.server.scheduler import FirstPool

    pool = FirstPool(workers=2)
    started = threading.Semaphore(0)
    gate = threading.Event()

    def held(cancel: CancelToken) -> str:
        started.release()
        while not gate.wait(0.005):
            cancel.check()  # a superseded call stops at its next check
        return "done"

    async def scenario():  # noqa: ANN202
        deadline = time.monotonic() + 30
        older = asyncio.create_task(pool.run("a", held, deadline=deadline))
        assert await asyncio.to_thread(started.acquire, True, 10)
        other = asyncio.create_task(pool.run("b", held, deadline=deadline))
        assert await asyncio.to_thread(started.acquire, True, 10)
        skipped = await pool.run("c", held, deadline=deadline)  # both threads busy: not queued
        newer = await pool.run("a", held, deadline=deadline)  # busy too, but "a"'s older call is stale
        with pytest.raises(Canceled):
            await older
        gate.set()
        return skipped, newer, await other

    skipped, newer, other = asyncio.run(scenario())
    assert skipped is None and newer is None and other == "done"
    pool.close()


def test_first_pool_deadline() -> None:
    from nextedit.server.scheduler import FirstPool

    pool = FirstPool(workers=1)
    gate = threading.Event()

    async def scenario() -> None:
        with pytest.raises(DeadlineExceeded):
            await pool.run("a", lambda cancel: gate.wait(10), deadline=time.monotonic() + 0.05)

    asyncio.run(scenario())
    gate.set()
    pool.close()


def test_deadline_counts_from_arrival() -> None:
    """A request that waited before its handler ran has that wait taken off its deadline."""
    from nextedit.predict.registry import Backend
    from nextedit.server.config import parse_config
    from nextedit.server.service import ARRIVED, PredictionService, RequestContext
    from tests.server.fakes import TodoProvider

    todo = TodoProvider()
    cfg = parse_config(
        {"models": {"m": {"provider": "test"}}, "server": {"store": "none", "deadline_ms": 1000}}
    )
    svc = PredictionService(cfg, providers={"m": Backend(todo)})

    async def scenario() -> None:
        token = ARRIVED.set(time.monotonic() - 5)  # arrived 5 s ago
        try:
            ctx = RequestContext(api="v3", client_key="k")
        finally:
            ARRIVED.reset(token)
        with pytest.raises(DeadlineExceeded):
            await svc.execute(ctx, lambda predictor, job: None)

    try:
        asyncio.run(scenario())
        assert todo.calls == 0
    finally:
        svc.close()


def test_queue_deeper_than_the_deadline_allows_is_shed_at_once() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        w = ModelWorker("m", workers=1, max_queue=8, order="fifo")
        blocker = Blocker()
        running = asyncio.create_task(run_job(w, _job(blocker, "a", loop, 30)))
        await blocker.running()
        queued = asyncio.create_task(run_job(w, _job(lambda j: "b", "b", loop, 30)))
        await asyncio.sleep(0)
        assert w.queue_depth == 1
        with pytest.raises(Overloaded, match="before its deadline"):  # 1 waiting, ~50 ms each, 1 ms left
            w.submit(_job(lambda j: "c", "c", loop, 0.001))
        far = asyncio.create_task(run_job(w, _job(lambda j: "d", "d", loop, 30)))  # 30 s: room enough
        await asyncio.sleep(0)
        assert w.queue_depth == 2
        blocker.gate.set()
        assert [await running, await queued, await far] == ["blocker", "b", "d"]
        w.close()

    asyncio.run(scenario())


def test_wait_budget_sheds_at_submission_and_refuses_a_job_that_waited_too_long() -> None:
    """``max_wait_ms``: a queue deeper than the workers can drain within the budget sheds at once,
    and a job still queued after the budget (here: behind a job held on an event, so it provably
    waited) is refused with 429 when its turn comes, instead of answering late."""

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        w = ModelWorker("m", workers=1, max_queue=8, order="fifo", max_wait_ms=100)
        blocker = Blocker()
        running = asyncio.create_task(run_job(w, _job(blocker, "a", loop, 30)))
        await blocker.running()
        stale = asyncio.create_task(run_job(w, _job(lambda j: "b", "b", loop, 30)))
        await asyncio.sleep(0)
        assert w.queue_depth == 1
        # ~50 ms each (the initial estimate), 100 ms budget: room for 2 queued, not 3
        second = asyncio.create_task(run_job(w, _job(lambda j: "c", "c", loop, 30)))
        await asyncio.sleep(0)
        with pytest.raises(Overloaded, match="wait budget"):
            w.submit(_job(lambda j: "d", "d", loop, 30))
        await asyncio.sleep(0.25)  # b and c have now waited longer than 100 ms behind the held job
        blocker.gate.set()
        assert await running == "blocker"
        for task in (stale, second):
            with pytest.raises(Overloaded, match="queue wait exceeded") as e:
                await task
            assert e.value.retry_after >= 1
        assert await run_job(w, _job(lambda j: "e", "e", loop, 30)) == "e"  # a fresh job is served
        w.close()

    asyncio.run(scenario())


def test_config_max_wait_ms() -> None:
    from nextedit.server.config import ConfigError, parse_config

    cfg = parse_config({"models": {"m": {"provider": "heuristic", "max_wait_ms": 250}}})
    assert cfg.models["m"].max_wait_ms == 250
    assert parse_config({"models": {"m": {"provider": "heuristic"}}}).models["m"].max_wait_ms == 500
    with pytest.raises(ConfigError, match="max_wait_ms"):
        parse_config({"models": {"m": {"provider": "heuristic", "max_wait_ms": 0}}})
