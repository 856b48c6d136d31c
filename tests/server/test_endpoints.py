"""Each endpoint over real HTTP, the telemetry rows it leaves, and every error class."""

from __future__ import annotations

import json

import httpx
import pytest
import zstandard

from tests.server.fakes import todo_backend

EXCERPT = "def f(x):\n    # TODO: handle None\n    return x\n"
CFG = {"models": {"todo": {"provider": "test", "version": "todo-v1"}}}


def v3_body(excerpt: str = EXCERPT, cursor: int = 10, **kw) -> dict:  # noqa: ANN003
    body = {
        "cursor_path": "proj/a.py",
        "cursor_excerpt": excerpt,
        "cursor_offset_in_excerpt": cursor,
        "excerpt_start_row": 0,
        "events": [],
        "related_files": [],
        "excerpt_ranges": {},
        "in_open_source_repo": False,
        "can_collect_data": False,
    }
    body.update(kw)
    return body


@pytest.fixture
def server(start_server, store_url):  # noqa: ANN001, ANN201
    return start_server(CFG, providers={"todo": todo_backend()}, store=store_url)


def store_of(srv):  # noqa: ANN001, ANN201
    s = srv.app.state.service.store
    assert s.flush()
    return s


def test_health_models_tags_metrics(server) -> None:  # noqa: ANN001
    h = httpx.get(server.url + "/healthz").json()
    assert h["status"] == "ok" and h["models"]["todo"]["model_version"] == "todo-v1"
    models = httpx.get(server.url + "/v1/models").json()
    assert models["object"] == "list" and [m["id"] for m in models["data"]] == ["todo"]
    tags = httpx.get(server.url + "/api/tags").json()
    assert tags["models"][0]["name"] == "todo"
    httpx.post(server.url + "/predict_edits/v3", json=v3_body())
    m = httpx.get(server.url + "/metrics")
    assert m.status_code == 200
    text = m.text
    assert 'nextedit_request_latency_seconds_bucket{le="0.3",model_version="todo-v1",stage="total"}' in text
    assert 'stage="queue"' in text and 'stage="model"' in text
    assert "nextedit_queue_depth" in text and "nextedit_prompt_tokens_total" in text


@pytest.mark.parametrize("zstd", [False, True])
def test_v3_edit_plain_and_zstd(server, zstd) -> None:  # noqa: ANN001
    raw = json.dumps(v3_body()).encode()
    headers = {"Content-Type": "application/json"}
    if zstd:
        raw = zstandard.ZstdCompressor(level=3).compress(raw)
        headers["Content-Encoding"] = "zstd"
    r = httpx.post(server.url + "/predict_edits/v3", content=raw, headers=headers)
    assert r.status_code == 200, r.text
    d = r.json()
    s, e = d["editable_range"]["start"], d["editable_range"]["end"]
    new = EXCERPT.encode()[:s] + d["output"].encode() + EXCERPT.encode()[e:]
    assert new.decode() == EXCERPT.replace("TODO", "DONE")
    assert d["model_version"] == "todo-v1" and d["request_id"]
    assert 0 <= d["cursor_offset"] <= len(d["output"].encode())
    assert r.headers["x-nextedit-model-version"] == "todo-v1"


def test_v3_no_edit_is_empty_range(server) -> None:  # noqa: ANN001
    d = httpx.post(server.url + "/predict_edits/v3", json=v3_body("x = 1\n", 0)).json()
    assert d["output"] == "" and d["editable_range"] == {"start": 0, "end": 0}
    row = [r for r in store_of(server).fetch() if r["id"] == d["request_id"]][0]
    assert row["no_edit"] is True and row["status"] == "ok"


def test_telemetry_rows_and_outcomes(server) -> None:  # noqa: ANN001
    url = server.url
    a = httpx.post(url + "/predict_edits/v3", json=v3_body(), headers={"x-client-id": "dev-1"}).json()
    b = httpx.post(
        url + "/predict_edits/v3", json=v3_body(can_collect_data=True), headers={"x-client-id": "dev-2"}
    ).json()
    assert (
        httpx.post(
            url + "/predict_edits/accept",
            json={"request_id": a["request_id"], "model_version": "todo-v1", "e2e_latency_ms": 120},
        ).status_code
        == 200
    )
    rej = {
        "rejections": [
            {
                "request_id": b["request_id"],
                "reason": "Replaced",
                "was_shown": True,
                "model_version": "todo-v1",
            }
        ]
    }
    assert httpx.post(url + "/predict_edits/reject", json=rej).status_code == 200
    settled = {
        "predictions": [
            {
                "request_id": a["request_id"],
                "settled_editable_region": "SECRET CODE",
                "can_collect_data": False,
                "is_in_open_source_repo": True,
                "edit_bytes_kept": 14,
                "edit_bytes_kept_rate": 0.5,
                "edit_bytes_recall_rate": 1.0,
                "model_version": "todo-v1",
                "e2e_latency": 99,
                "ts_error_count_before_prediction": 0,
                "ts_error_count_after_prediction": 1,
            },
            {
                "request_id": b["request_id"],
                "settled_editable_region": "kept code",
                "can_collect_data": True,
                "edit_bytes_kept_rate": 1.0,
            },
        ]
    }
    z = zstandard.ZstdCompressor(level=3).compress(json.dumps(settled).encode())
    r = httpx.post(
        url + "/predict_edits/settled",
        content=z,
        headers={"Content-Encoding": "zstd", "Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    store = store_of(server)
    rows = {r["id"]: r for r in store.fetch()}
    ra, rb = rows[a["request_id"]], rows[b["request_id"]]
    assert ra["model_version"] == "todo-v1" and ra["experiment"] == "todo" and ra["api"] == "v3"
    assert ra["status"] == "ok" and ra["http_status"] == 200 and ra["no_edit"] is False
    for k in ("queue_ms", "context_ms", "model_ms", "total_ms"):
        assert ra[k] is not None and ra[k] >= 0
    assert ra["prompt_tokens"] > 0 and ra["completion_tokens"] > 0
    assert ra["client_id"] != rb["client_id"] and "dev-1" not in ra["client_id"]
    # code only when the client allowed data collection
    assert ra["prompt"] is None and ra["input_json"] is None and ra["output"] is None
    assert "TODO" in rb["input_json"] and "DONE" in rb["output"]
    assert ra["outcome"] == "accepted" and rb["outcome"] == "rejected:Replaced"
    events = store.fetch("outcome_events")
    kinds = sorted((e["kind"], e["request_id"] == a["request_id"]) for e in events)
    assert kinds == [("accept", True), ("reject", False), ("settled", False), ("settled", True)]
    sa = [e for e in events if e["kind"] == "settled" and e["request_id"] == a["request_id"]][0]
    assert sa["settled_region"] is None and sa["edit_bytes_kept"] == 14 and sa["edit_bytes_kept_rate"] == 0.5
    assert sa["ts_error_count_after"] == 1 and sa["e2e_latency_ms"] == 99
    sb = [e for e in events if e["kind"] == "settled" and e["request_id"] == b["request_id"]][0]
    assert sb["settled_region"] == "kept code"
    rej_ev = [e for e in events if e["kind"] == "reject"][0]
    assert rej_ev["reason"] == "Replaced" and rej_ev["was_shown"] is True
    metrics = httpx.get(url + "/metrics").text
    assert 'nextedit_predictions_accepted_total{model_version="todo-v1"} 1.0' in metrics
    assert (
        'nextedit_predictions_rejected_total{model_version="todo-v1",reason="Replaced",was_shown="true"} 1.0'
        in metrics
    )
    assert 'nextedit_predictions_settled_total{model_version="todo-v1"} 1.0' in metrics


BAD_CASES = [
    ("bad json", b'{"cursor_excerpt": ', {}, 400, "not valid JSON"),
    ("not an object", b"[1, 2]", {}, 400, "JSON object"),
    ("empty", b"", {}, 400, "empty request body"),
    ("invalid utf-8", b'{"cursor_excerpt": "\xff\xfe"}', {}, 400, "UTF-8"),
    ("lone surrogate", b'{"cursor_excerpt": "\\ud800"}', {}, 400, "surrogate"),
    ("bad zstd", b"definitely not zstd", {"Content-Encoding": "zstd"}, 400, "zstd"),
    ("unknown encoding", b"{}", {"Content-Encoding": "br"}, 415, "Content-Encoding"),
    ("wrong type", json.dumps(v3_body(cursor="ten")).encode(), {}, 422, "cursor_offset_in_excerpt"),
    ("cursor outside", json.dumps(v3_body(cursor=10_000)).encode(), {}, 422, "outside cursor_excerpt"),
    ("cursor mid-char", json.dumps(v3_body("é = 1\n", 1)).encode(), {}, 422, "character boundary"),
    ("negative cursor", json.dumps(v3_body(cursor=-1)).encode(), {}, 422, "cursor_offset_in_excerpt"),
    (
        "range outside",
        json.dumps(v3_body(excerpt_ranges={"editable_350": {"start": 0, "end": 999}})).encode(),
        {},
        422,
        "excerpt_ranges.editable_350",
    ),
    ("events wrong type", json.dumps(v3_body(events="nope")).encode(), {}, 422, "events"),
]


@pytest.mark.parametrize("name,body,headers,status,needle", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_v3_malformed_bodies_are_4xx(server, name, body, headers, status, needle) -> None:  # noqa: ANN001
    r = httpx.post(
        server.url + "/predict_edits/v3",
        content=body,
        headers={"Content-Type": "application/json", **headers},
    )
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert needle in err["message"], err
    # the worker is alive and the next request works
    assert httpx.post(server.url + "/predict_edits/v3", json=v3_body()).status_code == 200


@pytest.mark.parametrize(
    "path,body,needle",
    [
        ("/v1/completions", {"model": "x"}, "prompt"),
        ("/v1/completions", {"prompt": "p", "max_tokens": -3}, "max_tokens"),
        ("/v1/completions", {"prompt": 5}, "prompt"),
        ("/v1/completions", {"prompt": "plain text without zeta markers"}, "zeta"),
        ("/api/generate", {"model": "x"}, "prompt"),
        ("/api/generate", {"prompt": "p", "options": {"stop": 3}}, "options.stop"),
        ("/predict_edits/accept", {"model_version": "x"}, "request_id"),
        ("/predict_edits/reject", {"rejections": [{"request_id": "a", "reason": "Bogus"}]}, "reason"),
        ("/predict_edits/reject", {"rejections": [{"request_id": str(i)} for i in range(101)]}, "rejections"),
        (
            "/predict_edits/settled",
            {"predictions": [{"request_id": "a", "edit_bytes_kept": "many"}]},
            "edit_bytes_kept",
        ),
    ],
)
def test_other_endpoints_reject_bad_bodies(server, path, body, needle) -> None:  # noqa: ANN001
    r = httpx.post(server.url + path, json=body)
    assert 400 <= r.status_code < 500, r.text
    assert needle in r.json()["error"]["message"]


def test_body_size_limit(start_server) -> None:  # noqa: ANN001
    srv = start_server({**CFG, "server": {"max_body_bytes": 1000}}, providers={"todo": todo_backend()})
    r = httpx.post(srv.url + "/predict_edits/v3", json=v3_body("x" * 5000, 0))
    assert r.status_code == 413 and "exceeds" in r.json()["error"]["message"]
    bomb = zstandard.ZstdCompressor().compress(json.dumps(v3_body("y" * 200_000, 0)).encode())
    assert len(bomb) < 1000
    srv2 = start_server(
        {**CFG, "server": {"max_body_bytes": 1000, "max_decompressed_bytes": 10_000}},
        providers={"todo": todo_backend()},
    )
    r = httpx.post(srv2.url + "/predict_edits/v3", content=bomb, headers={"Content-Encoding": "zstd"})
    assert r.status_code == 413 and "decompressed" in r.json()["error"]["message"]


def test_bearer_auth(start_server) -> None:  # noqa: ANN001
    srv = start_server({**CFG, "server": {"auth_tokens": ["s3cret"]}}, providers={"todo": todo_backend()})
    assert httpx.get(srv.url + "/healthz").status_code == 200  # health stays open
    r = httpx.post(srv.url + "/predict_edits/v3", json=v3_body())
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = httpx.post(srv.url + "/predict_edits/v3", json=v3_body(), headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
    r = httpx.post(srv.url + "/predict_edits/v3", json=v3_body(), headers={"Authorization": "Bearer s3cret"})
    assert r.status_code == 200
    assert httpx.get(srv.url + "/metrics").status_code == 401
