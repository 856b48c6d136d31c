"""Admission control, connection limits and the first-provider pool over real HTTP on loopback
(issue 17, defects 1, 7 and 8). No test races a sleep against the server: a model that must be
busy holds on an event, and a timeout is only the bound of a wait for what must happen."""

from __future__ import annotations

import asyncio
import socket
import threading

import httpx

from nextedit.predict.registry import Backend
from tests.predict.test_heuristic_bounds import table_diff
from tests.server.fakes import TodoProvider
from tests.server.test_endpoints import v3_body
from tests.server.test_scheduling import _until


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_inflight_limit_answers_429_with_retry_after_at_once(start_server) -> None:  # noqa: ANN001
    hold = threading.Event()
    slow = TodoProvider(hold=hold)
    srv = start_server(
        {"models": {"slow": {"provider": "test", "max_queue": 8}},
         "server": {"deadline_ms": 20000, "max_inflight": 2}},
        providers={"slow": Backend(slow)},
    )  # fmt: skip
    worker = srv.app.state.service.models["slow"].worker
    url = srv.url + "/predict_edits/v3"

    async def scenario():  # noqa: ANN202
        async with httpx.AsyncClient(timeout=30) as c:
            running = asyncio.create_task(c.post(url, json=v3_body(), headers={"x-client-id": "a"}))
            await asyncio.to_thread(slow.wait_started, 1)
            queued = asyncio.create_task(c.post(url, json=v3_body(), headers={"x-client-id": "b"}))
            await _until(lambda: worker.queue_depth == 1)
            shed = await c.post(url, json=v3_body(), headers={"x-client-id": "c"})  # the limit is full
            health = await c.get(srv.url + "/healthz")  # never shed
            still_held = not hold.is_set() and not running.done()
            hold.set()
            return shed, health, still_held, await running, await queued

    shed, health, still_held, running, queued = asyncio.run(scenario())
    assert still_held  # answered while both admitted requests were still waiting on the model
    assert shed.status_code == 429 and int(shed.headers["retry-after"]) >= 1, shed.text
    assert shed.json()["error"]["type"] == "overloaded"
    assert health.status_code == 200
    assert running.status_code == 200 and queued.status_code == 200


def test_deadline_counts_from_arrival(start_server) -> None:  # noqa: ANN001
    """The server's own total includes the time before the handler ran."""
    srv = start_server({"models": {"m": {"provider": "heuristic"}}})
    r = httpx.post(srv.url + "/predict_edits/v3", json=v3_body())
    assert r.status_code == 200
    total = float(r.headers["server-timing"].split("total;dur=")[1].split(",")[0])
    assert total >= float(r.headers["server-timing"].split("context;dur=")[1].split(",")[0])


def test_oversized_header_is_refused_without_buffering_it(start_server) -> None:  # noqa: ANN001
    srv = start_server({"models": {"m": {"provider": "heuristic"}}, "server": {"max_header_bytes": 8192}})
    before = _rss_bytes()
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        chunk = b"a" * 65536
        sent = 0
        try:
            while sent < 64 << 20:  # the server refuses long before 64 MB
                s.sendall(chunk)
                sent += len(chunk)
        except OSError:  # reset: the server closed the connection
            pass
        try:
            answer = s.recv(4096)
        except OSError:
            answer = b""
    assert sent < 64 << 20 or answer.startswith(b"HTTP/1.1 4")
    assert answer == b"" or answer.split(b" ")[1] in (b"400", b"431"), answer[:80]
    assert _rss_bytes() - before < 16 << 20  # nowhere near what was sent
    assert httpx.get(srv.url + "/healthz").status_code == 200


def test_partial_header_is_closed_after_the_read_timeout(start_server) -> None:  # noqa: ANN001
    srv = start_server({"models": {"m": {"provider": "heuristic"}}, "server": {"read_timeout_s": 0.3}})
    with socket.create_connection(("127.0.0.1", srv.port), timeout=20) as s:
        s.sendall(b"POST /predict_edits/v3 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Len")
        assert s.recv(4096) == b""  # closed by the server (the socket's 20 s timeout would raise)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=20) as s:  # a body that never ends
        s.sendall(b"POST /predict_edits/v3 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{")
        assert not s.recv(4096).startswith(b"HTTP/1.1 2")  # closed (or an error), never answered 2xx
    with socket.create_connection(("127.0.0.1", srv.port), timeout=20) as s:  # a whole request is answered
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200")


def test_big_requests_do_not_wedge_other_clients(start_server) -> None:  # noqa: ANN001
    """8 clients send the wedge (a 384-line repeated-table edit: 217 s each before the heuristic's
    work budget) to a hybrid model and its heuristic first provider; a small request of another
    client is answered too, and so are they (the 30 s client timeout is only a bound)."""
    srv = start_server(
        {"models": {"m": {"provider": "test", "first": "heuristic", "workers": 1}},
         "server": {"deadline_ms": 20000}},
        providers={"m": Backend(TodoProvider())},
    )  # fmt: skip
    url = srv.url + "/predict_edits/v3"
    excerpt = "\n".join(["1, 1, 1, 1,"] * 384) + "\nx = 1\n"
    big = v3_body(excerpt, 0, events=[{"path": "proj/a.py", "diff": table_diff(384)}])
    big["cursor_path"] = "proj/a.py"

    async def scenario():  # noqa: ANN202
        async with httpx.AsyncClient(timeout=30) as c:
            bigs = [
                asyncio.create_task(c.post(url, json=big, headers={"x-client-id": f"big{i}"}))
                for i in range(8)
            ]
            small = await c.post(url, json=v3_body(), headers={"x-client-id": "small"})
            return small, [await t for t in bigs]

    small, bigs = asyncio.run(scenario())
    assert small.status_code == 200 and small.json()["output"], small.text
    assert [r.status_code for r in bigs] == [200] * 8


def test_busy_first_pool_does_not_starve_other_clients(start_server) -> None:  # noqa: ANN001
    """Both threads of the first-provider pool held by slow first calls: the other clients'
    requests skip the pool and are answered by the model meanwhile, never queued behind them."""
    hold = threading.Event()
    slow_first = TodoProvider("slow-first", hold=hold)
    srv = start_server(
        {"models": {"m": {"provider": "test", "max_queue": 16}},
         "server": {"deadline_ms": 20000, "first_workers": 2}},
        providers={"m": Backend(TodoProvider("model"), first=slow_first)},
    )  # fmt: skip
    url = srv.url + "/predict_edits/v3"

    async def scenario():  # noqa: ANN202
        async with httpx.AsyncClient(timeout=30) as c:
            held = [
                asyncio.create_task(c.post(url, json=v3_body(), headers={"x-client-id": f"h{i}"}))
                for i in (0, 1)
            ]
            await asyncio.to_thread(slow_first.wait_started, 2)  # the pool is full
            others = [await c.post(url, json=v3_body(), headers={"x-client-id": f"o{i}"}) for i in range(8)]
            still_held = not any(t.done() for t in held)
            hold.set()
            return others, still_held, [await t for t in held]

    others, still_held, held = asyncio.run(scenario())
    assert still_held
    assert all(r.status_code == 200 and r.json()["output"] for r in others), [r.text for r in others]
    assert [r.status_code for r in held] == [200, 200]
    assert slow_first.calls == 2  # the others never waited for the pool
