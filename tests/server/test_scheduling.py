"""Supersession, deadlines, overload, experiment stickiness and hot reload over real HTTP."""

from __future__ import annotations

import asyncio
import time

import httpx

from nextedit.server.config import parse_config
from nextedit.server.experiments import ExperimentRouter
from tests.server.fakes import TodoProvider
from tests.server.test_endpoints import v3_body


async def _post(
    client: httpx.AsyncClient, url: str, body: dict, headers: dict, delay: float = 0.0
) -> httpx.Response:
    await asyncio.sleep(delay)
    return await client.post(url, json=body, headers=headers)


def test_newer_request_supersedes_running_and_queued(start_server) -> None:  # noqa: ANN001
    slow = TodoProvider(delay_s=0.6)
    srv = start_server({"models": {"slow": {"provider": "test", "max_queue": 8}}}, providers={"slow": slow})
    url = srv.url + "/predict_edits/v3"

    async def scenario():  # noqa: ANN202
        async with httpx.AsyncClient(timeout=10) as c:
            h = {"x-client-id": "typist"}
            return await asyncio.gather(
                _post(c, url, v3_body(), h, 0.0),  # running when superseded
                _post(c, url, v3_body(), {"x-client-id": "other"}, 0.05),  # keeps the worker busy
                _post(c, url, v3_body(), h, 0.15),  # queued, then superseded
                _post(c, url, v3_body(), h, 0.3),  # the one that counts
            )

    first, other, second, last = asyncio.run(scenario())
    assert first.status_code == 409 and first.json()["error"]["type"] == "canceled", first.text
    assert (
        first.headers["x-nextedit-model-version"] == "slow" and "queue;dur=" in first.headers["server-timing"]
    )
    assert second.status_code == 409 and "superseded" in second.json()["error"]["message"]
    assert other.status_code == 200 and last.status_code == 200
    assert slow.canceled >= 1  # the running one stopped between "forward passes"
    store = srv.app.state.service.store
    store.flush()
    statuses = sorted(r["status"] for r in store.fetch())
    assert statuses == ["canceled", "canceled", "ok", "ok"]


def test_deadline_is_408_with_retry_after(start_server) -> None:  # noqa: ANN001
    srv = start_server(
        {"models": {"slow": {"provider": "test"}}, "server": {"deadline_ms": 200}},
        providers={"slow": TodoProvider(delay_s=1.0)},
    )
    t0 = time.monotonic()
    r = httpx.post(srv.url + "/predict_edits/v3", json=v3_body())
    assert r.status_code == 408 and int(r.headers["retry-after"]) >= 1
    assert time.monotonic() - t0 < 0.9  # answered at the deadline, not when the model finished
    r = httpx.post(srv.url + "/predict_edits/v3", json=v3_body(), headers={"x-nextedit-deadline-ms": "50"})
    assert r.status_code == 408


def test_full_queue_is_429_with_retry_after(start_server) -> None:  # noqa: ANN001
    srv = start_server(
        {"models": {"slow": {"provider": "test", "max_queue": 2, "workers": 1}}},
        providers={"slow": TodoProvider(delay_s=0.3)},
    )
    url = srv.url + "/predict_edits/v3"

    async def flood():  # noqa: ANN202
        async with httpx.AsyncClient(timeout=10) as c:
            return await asyncio.gather(
                *[_post(c, url, v3_body(), {"x-client-id": f"c{i}"}, i * 0.01) for i in range(8)]
            )

    rs = asyncio.run(flood())
    codes = [r.status_code for r in rs]
    assert codes.count(200) >= 2 and codes.count(429) >= 1, codes
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
    srv = start_server(EXP_CFG, providers={"a": TodoProvider(), "b": TodoProvider()})
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
    slow = TodoProvider(delay_s=0.5)
    srv = start_server(
        {"models": {"m": {"provider": "test", "version": "v1"}}}, providers={"m": slow}, config_path=path
    )
    url = srv.url + "/predict_edits/v3"

    async def scenario():  # noqa: ANN202
        async with httpx.AsyncClient(timeout=10) as c:
            inflight = asyncio.create_task(c.post(url, json=v3_body(), headers={"x-client-id": "a"}))
            await asyncio.sleep(0.1)
            path.write_text('[models.m]\nprovider = "none"\nversion = "v2"\n')
            reload = await c.post(srv.url + "/admin/reload")
            after = await c.post(url, json=v3_body(), headers={"x-client-id": "b"})
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
