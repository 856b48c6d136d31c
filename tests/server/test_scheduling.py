"""Supersession, deadlines, overload, experiment stickiness and hot reload over real HTTP.

No test races a sleep against a prediction: a provider that must still be running holds on an
event until the test releases it, and the test waits for what it needs (a prediction started, a
job queued, a response back) before the next step."""

from __future__ import annotations

import asyncio
import threading

import httpx

from nextedit.predict.registry import Backend
from nextedit.server.config import parse_config
from nextedit.server.experiments import ExperimentRouter
from tests.server.fakes import TodoProvider, todo_backend
from tests.server.test_endpoints import v3_body


async def _until(condition, timeout: float = 10.0) -> None:  # noqa: ANN001
    """Wait (polling, never racing) until ``condition()`` holds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        assert loop.time() < end, "condition not reached"
        await asyncio.sleep(0.005)


def test_newer_request_supersedes_running_and_queued(start_server) -> None:  # noqa: ANN001
    hold = threading.Event()
    slow = TodoProvider(hold=hold)
    srv = start_server({"models": {"slow": {"provider": "test", "max_queue": 8, "queue_order": "fifo"}},
                        "server": {"deadline_ms": 20000}}, providers={"slow": Backend(slow)})  # fmt: skip
    worker = srv.app.state.service.models["slow"].worker
    url = srv.url + "/predict_edits/v3"

    async def scenario():  # noqa: ANN202
        async with httpx.AsyncClient(timeout=30) as c:
            h = {"x-client-id": "typist"}
            first = asyncio.create_task(c.post(url, json=v3_body(), headers=h))
            await asyncio.to_thread(slow.wait_started, 1)  # running
            other = asyncio.create_task(c.post(url, json=v3_body(), headers={"x-client-id": "other"}))
            await _until(lambda: worker.queue_depth == 1)  # queued behind it: keeps the worker busy next
            second = asyncio.create_task(c.post(url, json=v3_body(), headers=h))  # supersedes the running one
            first = await first  # 409 once the provider saw its cancel token
            await asyncio.to_thread(slow.wait_started, 2)  # "other" runs now; the second waits in the queue
            last = asyncio.create_task(c.post(url, json=v3_body(), headers=h))
            second = await second  # 409 as soon as the last one takes its place in the queue
            hold.set()
            return first, await other, second, await last

    first, other, second, last = asyncio.run(scenario())
    assert first.status_code == 409 and first.json()["error"]["type"] == "canceled", first.text
    assert (
        first.headers["x-nextedit-model-version"] == "slow" and "queue;dur=" in first.headers["server-timing"]
    )
    assert second.status_code == 409 and "superseded" in second.json()["error"]["message"]
    assert other.status_code == 200 and last.status_code == 200
    assert slow.canceled == 1  # the running one stopped between "forward passes"
    store = srv.app.state.service.store
    store.flush()
    statuses = sorted(r["status"] for r in store.fetch())
    assert statuses == ["canceled", "canceled", "ok", "ok"]


def test_deadline_is_408_with_retry_after(start_server) -> None:  # noqa: ANN001
    hold = threading.Event()
    slow = TodoProvider(hold=hold)
    srv = start_server(
        {"models": {"slow": {"provider": "test"}}, "server": {"deadline_ms": 200}},
        providers={"slow": Backend(slow)},
    )
    try:
        r = httpx.post(srv.url + "/predict_edits/v3", json=v3_body())
        assert r.status_code == 408 and int(r.headers["retry-after"]) >= 1
        assert slow.calls == 1 and not hold.is_set()  # answered at the deadline, the model still held
        r = httpx.post(srv.url + "/predict_edits/v3", json=v3_body(), headers={"x-nextedit-deadline-ms": "50"})
        assert r.status_code == 408
    finally:
        hold.set()


def test_full_queue_is_429_with_retry_after(start_server) -> None:  # noqa: ANN001
    hold = threading.Event()
    slow = TodoProvider(hold=hold)
    srv = start_server(
        {"models": {"slow": {"provider": "test", "max_queue": 2, "workers": 1}}, "server": {"deadline_ms": 20000}},
        providers={"slow": Backend(slow)},
    )
    url = srv.url + "/predict_edits/v3"

    async def flood():  # noqa: ANN202
        async with httpx.AsyncClient(timeout=30) as c:
            running = asyncio.create_task(c.post(url, json=v3_body(), headers={"x-client-id": "c0"}))
            await asyncio.to_thread(slow.wait_started, 1)
            rest = [asyncio.create_task(c.post(url, json=v3_body(), headers={"x-client-id": f"c{i}"})) for i in range(1, 8)]
            await _until(lambda: sum(t.done() for t in rest) == 5)  # 2 queue, 5 are refused at once
            hold.set()
            return [await running, *[await t for t in rest]]

    rs = asyncio.run(flood())
    codes = [r.status_code for r in rs]
    assert sorted(codes) == [200, 200, 200, 429, 429, 429, 429, 429], codes
    busy = [r for r in rs if r.status_code == 429][0]
    assert int(busy.headers["retry-after"]) >= 1 and "queue is full" in busy.json()["error"]["message"]
    assert httpx.get(srv.url + "/healthz").status_code == 200


EXP_CFG = {
    "models": {
        "a": {"provider": "test", "version": "model-a"},
        "b": {"provider": "test", "version": "model-b"},
    },
    "experiments": [
        {"name": "control", "model": "a", "weight": 1},
        {"name": "treatment", "model": "b", "weight": 1},
    ],
}


def test_experiments_sticky_and_pinned(start_server) -> None:  # noqa: ANN001
    srv = start_server(EXP_CFG, providers={"a": todo_backend(), "b": todo_backend()})
    url = srv.url + "/predict_edits/v3"
    seen: dict[str, set[str]] = {}
    with httpx.Client() as c:
        for i in range(16):
            for _ in range(3):
                d = c.post(url, json=v3_body(), headers={"x-client-id": f"device-{i}"}).json()
                seen.setdefault(f"device-{i}", set()).add(d["model_version"])
        assert all(len(v) == 1 for v in seen.values())  # sticky
        assert set.union(*seen.values()) == {"model-a", "model-b"}  # both arms get traffic
        dev = next(k for k, v in seen.items() if v == {"model-a"})
        pinned = c.post(
            url, json=v3_body(), headers={"x-client-id": dev, "x-zed-preferred-experiment": "treatment"}
        )
        assert pinned.json()["model_version"] == "model-b"
        # OpenAI-style `model` naming an experiment pins too (raw prompt path; heuristic not needed to route)
    router = ExperimentRouter(parse_config(EXP_CFG))
    share = sum(router.assign(f"u{i}").experiment == "control" for i in range(4000)) / 4000
    assert 0.45 < share < 0.55
    srv.app.state.service.store.flush()
    rows = srv.app.state.service.store.fetch()
    assert {r["experiment"] for r in rows} == {"control", "treatment"}
    assert all((r["experiment"] == "control") == (r["model_version"] == "model-a") for r in rows)


def test_weights_respected() -> None:
    cfg = parse_config(
        {
            **EXP_CFG,
            "experiments": [
                {"name": "c", "model": "a", "weight": 9},
                {"name": "t", "model": "b", "weight": 1},
            ],
        }
    )
    router = ExperimentRouter(cfg)
    share = sum(router.assign(f"u{i}").experiment == "t" for i in range(5000)) / 5000
    assert 0.08 < share < 0.12


def test_reload_without_dropping_requests(start_server, tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "serve.toml"
    path.write_text('[models.m]\nprovider = "test"\nversion = "v1"\n')
    hold = threading.Event()
    slow = TodoProvider(hold=hold)
    srv = start_server(
        {"models": {"m": {"provider": "test", "version": "v1"}}, "server": {"deadline_ms": 20000}},
        providers={"m": Backend(slow)},
        config_path=path,
    )
    url = srv.url + "/predict_edits/v3"

    async def scenario():  # noqa: ANN202
        async with httpx.AsyncClient(timeout=30) as c:
            inflight = asyncio.create_task(c.post(url, json=v3_body(), headers={"x-client-id": "a"}))
            await asyncio.to_thread(slow.wait_started, 1)  # the old model is working on it
            path.write_text('[models.m]\nprovider = "none"\nversion = "v2"\n')
            reload = await c.post(srv.url + "/admin/reload")
            after = await c.post(url, json=v3_body(), headers={"x-client-id": "b"})
            hold.set()
            return await inflight, reload, after

    inflight, reload, after = asyncio.run(scenario())
    assert reload.status_code == 200, reload.text
    assert inflight.status_code == 200 and inflight.json()["model_version"] == "v1"
    assert inflight.json()["output"]  # the old model finished its work
    assert after.status_code == 200 and after.json()["model_version"] == "v2"
    assert after.json()["output"] == ""  # the `none` provider now answers
    path.write_text("[models.m]\nprovider = \n")
    bad = httpx.post(srv.url + "/admin/reload")
    assert bad.status_code == 400 and "cannot parse" in bad.json()["error"]["message"]
    assert httpx.post(url, json=v3_body()).json()["model_version"] == "v2"  # old config kept


def test_fallback_provider_when_model_fails_to_load(start_server, tmp_path) -> None:  # noqa: ANN001
    cfg = {"models": {"m": {"provider": "no-such-provider", "fallback": "heuristic"}}}
    srv = start_server(cfg)
    h = httpx.get(srv.url + "/healthz").json()
    assert h["models"]["m"] == {"model_version": "heuristic", "provider": "heuristic", "queue": 0}
    d = httpx.post(srv.url + "/predict_edits/v3", json=v3_body()).json()
    assert d["model_version"] == "heuristic"
