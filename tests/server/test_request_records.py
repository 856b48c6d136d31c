"""Every request of every completion API is finished exactly once (one telemetry row, one JSON
log line), whether it is answered, refused while its body is read, or fails in the service; the
answer's log line says who answered when a first provider may."""

from __future__ import annotations

import json
import logging
from collections import Counter

import httpx
import pytest

from nextedit.prompts import get_format
from nextedit.schema.request import Zeta2PromptInput
from tests.server.fakes import todo_backend
from tests.server.test_endpoints import v3_body
from tests.server.test_model_path import RENAME_EVENT, RENAME_EXCERPT

CFG = {"models": {"todo": {"provider": "test", "version": "todo-v1", "first": "heuristic"}}}


def test_each_request_is_recorded_once(start_server, caplog: pytest.LogCaptureFixture) -> None:  # noqa: ANN001
    srv = start_server(CFG, providers={"todo": todo_backend()})
    raw_prompt = get_format("zeta2_1").format_prompt(Zeta2PromptInput.from_json(v3_body())).text
    rename = v3_body(RENAME_EXCERPT, len("def restock(item, quantity"), events=[RENAME_EVENT], cursor_path="a.py")
    bad = "invalid_request"
    calls = [  # (path, body, HTTP status, recorded status, answered_by)
        ("/predict_edits/v3", v3_body(), 200, "ok", "todo"),  # queued for the provider (TODO → DONE)
        ("/predict_edits/v3", rename, 200, "ok", "heuristic"),  # the first provider answers before the queue
        ("/predict_edits/v3", "{not json", 400, bad, None),
        ("/predict_edits/v3", v3_body(cursor_offset_in_excerpt=10_000), 422, bad, None),
        ("/v1/completions", {"model": "todo", "prompt": raw_prompt, "max_tokens": 64}, 200, "ok", "todo"),
        ("/v1/completions", {"model": "todo", "prompt": "no markers", "max_tokens": 64}, 400, bad, None),
        ("/v1/completions", {"model": "todo", "prompt": raw_prompt, "stream": True}, 400, bad, None),
        ("/api/generate", {"model": "todo", "prompt": raw_prompt, "stream": False}, 200, "ok", "todo"),
        ("/api/generate", {"model": "todo"}, 422, bad, None),
    ]
    ids = []
    with caplog.at_level(logging.INFO, logger="nextedit.server.requests"), httpx.Client() as c:
        for path, body, status, _, _ in calls:
            content = body if isinstance(body, str) else json.dumps(body)
            r = c.post(srv.url + path, content=content, headers={"content-type": "application/json"})
            assert r.status_code == status, (path, r.status_code, r.text)
            ids.append(r.headers["x-nextedit-request-id"])  # errors carry it too
    store = srv.app.state.service.store
    store.flush()
    rows = Counter(row["id"] for row in store.fetch())
    assert rows == Counter(ids) and set(rows.values()) == {1}
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "nextedit.server.requests"]
    assert Counter(line["request_id"] for line in lines) == Counter(ids)
    by_id = {line["request_id"]: line for line in lines}
    for request_id, (path, _, _, recorded, answered_by) in zip(ids, calls, strict=True):
        line = by_id[request_id]
        assert (line["status"], line.get("answered_by")) == (recorded, answered_by), (path, line)
