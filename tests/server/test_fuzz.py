"""Mutated bodies against the real heuristic server: always a 2xx or a 4xx with a message, never a
5xx, and the server keeps answering."""

from __future__ import annotations

import copy
import json
import random

import httpx
import pytest

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
            r = c.post("/predict_edits/v3", content=json.dumps(body).encode())
            assert r.status_code < 500, (body, r.text)
            if r.status_code >= 400:
                assert r.json()["error"]["message"]
        for _ in range(30):
            raw = json.dumps(BASE).encode()
            cut = rng.randrange(len(raw))
            junk = raw[:cut] + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8))) + raw[cut:]
            assert c.post("/predict_edits/v3", content=junk).status_code < 500
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
