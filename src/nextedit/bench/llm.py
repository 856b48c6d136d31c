"""The LLM client layer's own cost (``nextedit bench llm``), against the loopback replay server.

* ``raw_http_ms``: mean milliseconds of one Chat Completions request sent with ``http.client`` on a
  kept-alive connection — the server's and the loopback's share;
* ``client_ms``: the same request through :class:`~nextedit.llm.LLMClient` (``openai-compatible:``,
  the openai SDK, retries armed, the answer written to the response cache);
* ``sdk_ms``: the same request through the openai SDK alone (the backend's one attempt);
* ``overhead_ms``: ``client_ms - raw_http_ms`` — what the SDK and the client layer add per request;
  ``layer_ms``: ``client_ms - sdk_ms`` — the client layer's share (key, cache lookup and write, stats);
* ``cache_hits_per_s``: answers served from the cache (a rerun over the same input), by ``chat_many``;
* ``requests_per_s_pN``: fresh requests per second with ``max_parallelism`` N.

Not a test: figures depend on the machine (two shared cores here). No key is used.
"""

from __future__ import annotations

import http.client
import json
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from nextedit.llm import ChatParams, ChatRequest, LLMClient
from nextedit.llm.replay import ReplayServer


def _requests(n: int, tag: str) -> list[ChatRequest]:
    return [
        ChatRequest.of(
            [{"role": "user", "content": f"{tag} request {i}: " + "x" * 400}], ChatParams(max_tokens=64)
        )
        for i in range(n)
    ]


def _raw_http_ms(base: str, n: int) -> float:
    url = urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    start = time.perf_counter()
    for i in range(n):
        body = json.dumps({"model": "m", "messages": [{"role": "user", "content": f"raw {i}: " + "x" * 400}]})
        conn.request("POST", f"{url.path}/chat/completions", body, {"Content-Type": "application/json"})
        conn.getresponse().read()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed / n * 1000


def bench_llm(requests: int = 200, parallelism: tuple[int, ...] = (1, 4, 16)) -> dict[str, float | int]:
    """Figures for ``requests`` requests per measurement (see the module docstring)."""
    with ReplayServer() as server, tempfile.TemporaryDirectory() as tmp:
        spec = f"openai-compatible:{server.openai_base}#replay"
        _raw_http_ms(server.openai_base, 5)  # warm up
        raw_ms = _raw_http_ms(server.openai_base, requests)
        client = LLMClient(spec, cache=Path(tmp) / "cache.sqlite", max_parallelism=1, timeout=30)
        client.chat_many(_requests(5, "warm"))
        sdk = _requests(requests, "sdk")
        start = time.perf_counter()
        for request in sdk:
            client.backend.complete(request, 30)
        sdk_ms = (time.perf_counter() - start) / requests * 1000
        batch = _requests(requests, "sequential")
        start = time.perf_counter()
        client.chat_many(batch)
        client_ms = (time.perf_counter() - start) / requests * 1000
        start = time.perf_counter()
        hits = client.chat_many(batch)
        hits_per_s = requests / (time.perf_counter() - start)
        assert all(r.cached for r in hits)  # a bug, not a figure
        figures: dict[str, float | int] = {
            "requests": requests,
            "raw_http_ms": round(raw_ms, 3),
            "client_ms": round(client_ms, 3),
            "sdk_ms": round(sdk_ms, 3),
            "overhead_ms": round(client_ms - raw_ms, 3),
            "layer_ms": round(client_ms - sdk_ms, 3),
            "cache_hits_per_s": round(hits_per_s),
        }
        for p in parallelism:
            parallel = LLMClient(spec, cache=Path(tmp) / f"p{p}.sqlite", max_parallelism=p, timeout=30)
            start = time.perf_counter()
            parallel.chat_many(_requests(requests, f"p{p}"))
            figures[f"requests_per_s_p{p}"] = round(requests / (time.perf_counter() - start), 1)
            parallel.close()
        client.close()
    return figures
