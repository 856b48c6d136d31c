"""Mutated requests against the real heuristic server: always a 2xx or a 4xx with a message, never
a 5xx, never a dropped connection, and the server keeps answering with bounded memory.

The first two tests mutate v3 bodies and raw prompts; :func:`test_fuzz_every_endpoint` is the
bounded fuzzer of issue 17: a fixed seed, a few thousand requests over every endpoint (JSON, zstd
and gzip bodies, mutated valid requests, huge numbers, NaN, deep nesting, wrong types, surrogates,
hostile headers), counting 5xx answers and dropped connections (both must be 0) and the process's
RSS (the server runs in it)."""

from __future__ import annotations

import copy
import gzip
import json
import os
import random
import time
from collections import Counter

import httpx
import pytest
import zstandard

from nextedit.prompts.teacher import TeacherFormat
from nextedit.schema.request import Zeta2PromptInput
from tests.server.test_zed_clients import FORMATS

BASE = {
    "cursor_path": "a.py",
    "cursor_excerpt": "def restock(item, quantity):\n    if qty <= 0:\n        return qty\n",
    "cursor_offset_in_excerpt": 26,
    "excerpt_start_row": 0,
    "events": [
        {"event": "BufferChange", "path": "a.py", "old_path": "a.py",
         "diff": "@@ -1,2 +1,2 @@\n-def restock(item, qty):\n+def restock(item, quantity):\n     if qty <= 0:\n",
         "old_range": {"start": 18, "end": 21}, "new_range": {"start": 18, "end": 26}, "predicted": False,
         "in_open_source_repo": True}
    ],
    "related_files": [{"path": "b.py", "max_row": 3, "in_open_source_repo": True,
                       "excerpts": [{"row_range": {"start": 0, "end": 2}, "text": "x = 1\n", "order": 0}]}],
    "excerpt_ranges": {"editable_350": {"start": 0, "end": 60}, "editable_350_context_150": {"start": 0, "end": 60}},
    "syntax_ranges": [{"start": 0, "end": 60}],
    "in_open_source_repo": True,
    "can_collect_data": True,
}  # fmt: skip

JSON = {"Content-Type": "application/json"}
WEIRD = [None, -1, 0, 2**31, 2**70, 1.5, "", "x", "é\u0000\U0001f600", [], {}, True, {"start": 5, "end": 2}]


def _paths(obj, prefix=()):  # noqa: ANN001, ANN202
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


def _mutate(rng: random.Random, body: dict) -> dict:
    b = copy.deepcopy(body)
    path = rng.choice([p for p in _paths(b) if p])
    parent = b
    for k in path[:-1]:
        parent = parent[k]
    if rng.random() < 0.25 and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = rng.choice(WEIRD)
    return b


@pytest.fixture(scope="module")
def server():  # noqa: ANN201
    from nextedit.server.app import create_app
    from nextedit.server.config import parse_config
    from nextedit.server.launch import ServerThread

    cfg = parse_config({"models": {"h": {"provider": "heuristic"}}, "server": {"store": "none"}})
    with ServerThread(create_app(cfg)) as srv:
        yield srv


def test_mutated_v3_bodies(server) -> None:  # noqa: ANN001
    rng = random.Random(7)
    with httpx.Client(base_url=server.url) as c:
        for _ in range(150):
            body = _mutate(rng, BASE)
            if rng.random() < 0.3:
                body = _mutate(rng, body)
            r = c.post("/predict_edits/v3", content=json.dumps(body).encode(), headers=JSON)
            assert r.status_code < 500, (body, r.text)
            if r.status_code >= 400:
                assert r.json()["error"]["message"]
        for _ in range(30):
            raw = json.dumps(BASE).encode()
            cut = rng.randrange(len(raw))
            junk = raw[:cut] + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8))) + raw[cut:]
            assert c.post("/predict_edits/v3", content=junk, headers=JSON).status_code < 500
        assert c.post("/predict_edits/v3", json=BASE).status_code == 200


def test_mutated_raw_prompts(server) -> None:  # noqa: ANN001
    rng = random.Random(11)
    with httpx.Client(base_url=server.url) as c:
        for fmt, (build, stop) in FORMATS.items():
            prompt = build()
            for _ in range(40):
                p = list(prompt)
                for _ in range(rng.randrange(1, 4)):
                    i = rng.randrange(len(p))
                    op = rng.random()
                    if op < 0.4:
                        del p[i : i + rng.randrange(1, 30)]
                    elif op < 0.8:
                        p.insert(
                            i,
                            rng.choice(
                                ["<|marker_1|>", "\n", "<|user_cursor|>", "=======\n", "é", "<[fim-middle]>"]
                            ),
                        )
                    else:
                        p[i] = "\ufffd"
                for path in ("/v1/completions", "/api/generate"):
                    body = {"model": "x", "prompt": "".join(p), "max_tokens": 256, "stop": stop}
                    if path == "/api/generate":
                        body = {
                            "model": "x",
                            "prompt": "".join(p),
                            "stream": False,
                            "options": {"num_predict": 64, "stop": stop},
                        }
                    r = c.post(path, json=body)
                    assert r.status_code < 500, (fmt, "".join(p), r.text)


# --------------------------------------------------------------------------- the bounded fuzzer

PROMPT = FORMATS["zeta2_1"][0]()
TEACHER_PROMPT = TeacherFormat().format_prompt(Zeta2PromptInput.from_json(BASE)).text
SEEDS: dict[str, dict] = {
    "/predict_edits/v3": BASE,
    "/v1/completions": {"model": "h", "prompt": PROMPT, "max_tokens": 64, "stop": ["\n\n"], "temperature": 0},
    "/api/generate": {"model": "h", "prompt": PROMPT, "raw": True, "stream": False,
                      "options": {"num_predict": 64, "stop": ["<|end|>"], "temperature": 0.0}},
    "/v1/chat/completions": {"model": "h", "max_tokens": 256, "messages": [
        {"role": "system", "content": "You predict edits."},
        {"role": "user", "content": [{"type": "text", "text": TEACHER_PROMPT}]}]},
    "/predict_edits/accept": {"request_id": "r-1", "model_version": "h", "e2e_latency_ms": 12.5},
    "/predict_edits/reject": {"rejections": [{"request_id": "r-2", "reason": "Discarded", "was_shown": True,
                                              "model_version": "h", "e2e_latency_ms": 3}]},
    "/predict_edits/settled": {"predictions": [{
        "request_id": "r-3", "settled_editable_region": "x = 1\n", "can_collect_data": True,
        "ts_error_count_before_prediction": 0, "ts_error_count_after_prediction": 1,
        "edit_bytes_kept": 5, "edit_bytes_kept_rate": 0.5, "sample_data": {"k": [1, {"v": "é"}]},
        "model_version": "h", "e2e_latency": 40.0}]},
}  # fmt: skip
GETS = ["/", "/healthz", "/metrics", "/v1/models", "/api/tags", "/edit_prediction_experiments", "/nope"]
#: raw JSON literals spliced in where the body holds a placeholder (json.dumps cannot write them)
RAW = ["9" * 4400, "-" + "1" * 5000, "NaN", "-Infinity", "1e999", "-0", "1E400", "123456789012345678901234567890",
       "[" * 300 + "]" * 300, '"\\ud800"', '"a\\udfff"', '{"\\ud83d": 1}', '"\\u0000"', "1.5e-400", "9223372036854775808",
       "18446744073709551616", '"' + "é" * 3000 + '"', "[" + ",".join(["0"] * 2000) + "]"]  # fmt: skip
TYPES = [None, True, 0, -1, 2**31, 2**63, 2**64, 0.1, -1e308, "", "x" * 300, "\u0000", "\U0001f600", [], [[]], {},
         {"start": 5, "end": 2}, {"a": None}, [None] * 3]  # fmt: skip
DEADLINES = ["NaN", "inf", "-1", "0", "1e999", "0x10", "", "50ms", "1" * 400, "100", "1e-9", "１００"]
CTYPES = ["application/json", "application/json; charset=utf-8", "text/plain", "", "application/x-ndjson",
          "application/json; charset=latin-1", "multipart/form-data"]  # fmt: skip


def _placeholder(rng: random.Random, raws: dict[str, str]) -> str:
    key = f"@RAW{len(raws)}@"
    raws[key] = rng.choice(RAW)
    return key


def _fuzzed_value(rng: random.Random, raws: dict[str, str]) -> object:
    roll = rng.random()
    if roll < 0.35:
        return _placeholder(rng, raws)
    if roll < 0.45:  # deep nesting of a real type
        depth = rng.choice([10, 63, 64, 65, 200])
        v: object = "x"
        for _ in range(depth):
            v = [v] if rng.random() < 0.5 else {"k": v}
        return v
    return copy.deepcopy(rng.choice(TYPES))


def _fuzzed_body(rng: random.Random, seed: dict) -> bytes:
    """A seed request with 1–3 mutations: values replaced (types, raw literals, nesting), keys
    deleted or added, then sometimes byte-level damage."""
    body = copy.deepcopy(seed)
    raws: dict[str, str] = {}
    for _ in range(rng.choice([0, 1, 1, 1, 2, 3])):  # 0: the valid request (headers, encoding fuzzed)
        paths = [p for p in _paths(body) if p]
        if not paths or rng.random() < 0.1:
            body[rng.choice(["extra", "__proto__", "é", ""])] = _fuzzed_value(rng, raws)
            continue
        path = rng.choice(paths)
        parent = body
        for k in path[:-1]:
            parent = parent[k]
        if rng.random() < 0.2 and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = _fuzzed_value(rng, raws)
    text = json.dumps(body)
    for key, literal in raws.items():
        text = text.replace(json.dumps(key), literal)
    raw = text.encode("utf-8", "surrogatepass")
    roll = rng.random()
    if roll < 0.05:
        raw = raw[: rng.randrange(len(raw) + 1)]
    elif roll < 0.1:
        i = rng.randrange(len(raw) + 1)
        raw = raw[:i] + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 6))) + raw[i:]
    elif roll < 0.12:
        raw = rng.choice([b"", b"null", b"[]", b"1", b'"x"', b"\xef\xbb\xbf{}", b"{}" * 3])
    return raw


def _encoded(rng: random.Random, raw: bytes, headers: dict[str, str]) -> bytes:
    roll = rng.random()
    if roll < 0.15:
        headers["Content-Encoding"] = "zstd"
        return zstandard.ZstdCompressor().compress(raw)
    if roll < 0.2:
        headers["Content-Encoding"] = "gzip"
        return gzip.compress(raw)
    if roll < 0.23:
        headers["Content-Encoding"] = rng.choice(["zstd", "gzip", "br", "identity, zstd"])
        return raw  # claims an encoding it does not have
    return raw


def _fuzzed_headers(rng: random.Random) -> dict[str, str]:
    headers = {"Content-Type": "application/json" if rng.random() < 0.8 else rng.choice(CTYPES)}
    if rng.random() < 0.15:
        headers["x-nextedit-deadline-ms"] = rng.choice(DEADLINES)
    if rng.random() < 0.1:
        headers["x-zed-preferred-experiment"] = rng.choice(["h", "nope", "é", "x" * 2000])
    if rng.random() < 0.1:
        headers[rng.choice(["x-zed-device-id", "x-client-id", "Authorization"])] = rng.choice(
            ["d", "Bearer", "Bearer " + "x" * 4000, "\u00e9", "-"]
        )
    if rng.random() < 0.05:
        headers["Origin"] = rng.choice(["https://evil.example", "null"])
    if rng.random() < 0.05:
        headers["Host"] = rng.choice(["evil.example", "[::1", ":::", "localhost:99999", "a" * 300])
    if not headers["Content-Type"]:
        del headers["Content-Type"]
    return headers


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="RSS is read from /proc")
def test_fuzz_every_endpoint(server) -> None:  # noqa: ANN001
    rng = random.Random(20261208)
    n_requests = 2400
    statuses: Counter[int] = Counter()
    dropped: list[str] = []
    server_errors: list[tuple[str, bytes, int, str]] = []
    rss_before = _rss_mb()
    t0 = time.perf_counter()
    with httpx.Client(base_url=server.url, timeout=30) as c:
        for i in range(n_requests):
            if rng.random() < 0.08:
                method, path, content, headers = "GET", rng.choice(GETS), b"", {}
                if rng.random() < 0.3:
                    headers = {"Host": rng.choice(["evil.example", "127.0.0.1"]), "Origin": "null"}
            elif rng.random() < 0.01:
                method, path, content, headers = "POST", "/admin/reload", b"", {}
            else:
                method, path = "POST", rng.choice(list(SEEDS))
                headers = _fuzzed_headers(rng)
                content = _encoded(rng, _fuzzed_body(rng, SEEDS[path]), headers)
            try:
                raw_headers = {k: v.encode("utf-8") for k, v in headers.items()}  # é, fullwidth digits
                r = c.request(method, path, content=content, headers=raw_headers)
            except httpx.TransportError as e:
                dropped.append(f"{i} {method} {path}: {type(e).__name__}: {e}")
                continue
            statuses[r.status_code] += 1
            if r.status_code >= 500:
                server_errors.append((path, content[:300], r.status_code, r.text[:300]))
            elif r.status_code >= 400:
                assert r.json()["error"]["message"], (path, r.text)
    seconds = time.perf_counter() - t0
    server.app.state.service.store.flush()
    rss_growth = _rss_mb() - rss_before
    assert not server_errors, server_errors[:5]
    assert not dropped, dropped[:5]
    assert sum(statuses.values()) == n_requests
    assert statuses[200] > n_requests // 10, statuses  # the mutations leave many requests valid
    assert rss_growth < 200, f"RSS grew by {rss_growth:.0f} MB"
    assert seconds < 120, seconds  # a few seconds on a quiet machine; generous for a loaded one
    metrics = httpx.get(server.url + "/metrics").text
    assert "nextedit_telemetry_dropped_total 0.0" in metrics  # every 2xx report was stored
    values = [line.rsplit(" ", 1)[1] for line in metrics.splitlines() if line and not line.startswith("#")]
    assert not {"NaN", "+Inf", "-Inf"} & set(values)  # no sum poisoned by a report
    for path, seed in SEEDS.items():  # the server still answers every endpoint
        r = httpx.post(server.url + path, json=seed)
        assert r.status_code == 200, (path, r.text)
