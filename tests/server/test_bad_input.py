"""Input that used to be a 5xx is a 4xx naming the field, on every POST endpoint (issue 17, defect 4;
the six of the issue and ``/v1/chat/completions``):
integer literals past Python's 4,300-digit conversion limit, NaN/Infinity and numbers that overflow
a float, nesting past the limit, lone surrogates at any depth, a NaN deadline header, an empty
prompt. Against a real server (heuristic provider, SQLite store)."""

from __future__ import annotations

import json

import httpx
import pytest

from nextedit.server.http import MAX_JSON_DEPTH
from tests.server.test_fuzz import BASE, TEACHER_PROMPT
from tests.server.test_zed_clients import FORMATS

HUGE = "9" * 5000
PROMPT = FORMATS["zeta2_1"][0]()  # a raw prompt the heuristic provider understands
JSON = {"Content-Type": "application/json"}
# each POST endpoint with a body that has one numeric field, and that field's name in messages
ENDPOINTS = {
    "/predict_edits/v3": ({**BASE, "excerpt_start_row": "@N"}, "excerpt_start_row"),
    "/v1/completions": ({"prompt": PROMPT, "max_tokens": "@N"}, "max_tokens"),
    "/api/generate": ({"prompt": PROMPT, "stream": False, "options": {"num_predict": "@N"}}, "options.num_predict"),
    "/v1/chat/completions": ({"messages": [{"role": "user", "content": TEACHER_PROMPT}], "max_tokens": "@N"},
                             "max_tokens"),
    "/predict_edits/accept": ({"request_id": "r1", "e2e_latency_ms": "@N"}, "e2e_latency_ms"),
    "/predict_edits/reject": ({"rejections": [{"request_id": "r1", "e2e_latency_ms": "@N"}]},
                              "rejections.0.e2e_latency_ms"),
    "/predict_edits/settled": ({"predictions": [{"request_id": "r1", "edit_bytes_kept": "@N"}]},
                               "predictions.0.edit_bytes_kept"),
}  # fmt: skip


def with_number(body: dict, literal: str) -> bytes:
    """``body`` as JSON with its ``"@N"`` placeholder replaced by the raw ``literal``."""
    return json.dumps(body).replace('"@N"', literal).encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # noqa: ANN001, ANN201
    from nextedit.server.app import create_app
    from nextedit.server.config import parse_config
    from nextedit.server.launch import ServerThread

    db = tmp_path_factory.mktemp("store") / "t.db"
    cfg = parse_config({"models": {"h": {"provider": "heuristic"}}, "server": {"store": f"sqlite:///{db}"}})
    with ServerThread(create_app(cfg)) as srv:
        yield srv


def error(r: httpx.Response) -> str:
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    return r.json()["error"]["message"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_numbers_json_cannot_carry_are_400_naming_the_field(server, path) -> None:  # noqa: ANN001
    body, field = ENDPOINTS[path]
    with httpx.Client(base_url=server.url, headers=JSON) as c:
        msg = error(c.post(path, content=with_number(body, HUGE)))
        assert msg == f"{field}: integer literal of 5000 digits is too long", msg
        assert "too long" in error(c.post(path, content=with_number(body, "-" + HUGE)))
        for literal in ("NaN", "Infinity", "-Infinity", "1e999"):
            assert f"{literal} is not a finite number" in error(c.post(path, content=with_number(body, literal)))
        ok = c.post(path, content=with_number(body, "1"))  # the same body with a sane number
        assert ok.status_code < 300, ok.text


def test_deep_nesting_and_lone_surrogates_at_any_depth(server) -> None:  # noqa: ANN001
    deep: object = "x"
    for _ in range(MAX_JSON_DEPTH + 5):
        deep = [deep]
    settled = {"predictions": [{"request_id": "r1", "can_collect_data": True, "sample_data": {"a": deep}}]}
    with httpx.Client(base_url=server.url, headers=JSON) as c:
        msg = error(c.post("/predict_edits/settled", json=settled))
        assert msg.startswith("predictions.0.sample_data.a.0.0") and f"deeper than {MAX_JSON_DEPTH}" in msg
        nested = {"a": {"b": [[[{"c": "@S"}]]]}}
        raw = json.dumps({"predictions": [{"request_id": "r1", "can_collect_data": True, "sample_data": nested}]})
        msg = error(c.post("/predict_edits/settled", content=raw.replace('"@S"', '"ok \\ud800"')))
        assert msg.startswith("predictions.0.sample_data.a.b.0.0.0.c: unpaired UTF-16 surrogate"), msg
        assert c.post("/predict_edits/settled", content=raw.replace('"@S"', '"ok \\ud83d\\ude00"')).status_code == 200
        assert "nested too deeply" in error(c.post("/predict_edits/accept", content=b"[" * 100_000))


@pytest.mark.parametrize("value", ["NaN", "nan", "inf", "-Infinity", "1e999", "0", "-5", "soon", ""])
def test_deadline_header_must_be_a_finite_positive_number(server, value) -> None:  # noqa: ANN001
    for path, body in (("/predict_edits/v3", BASE), ("/v1/completions", {"prompt": PROMPT})):
        r = httpx.post(server.url + path, json=body, headers={"x-nextedit-deadline-ms": value})
        assert r.status_code == 400 and "x-nextedit-deadline-ms" in error(r), (path, value, r.text)
    assert httpx.post(server.url + "/predict_edits/v3", json=BASE, headers={"x-nextedit-deadline-ms": "900.5"}).status_code == 200


def test_empty_prompt_is_422_naming_prompt(server) -> None:  # noqa: ANN001
    for path, body in (
        ("/v1/completions", {"prompt": ""}),
        ("/v1/completions", {"prompt": [""]}),
        ("/api/generate", {"prompt": "", "stream": False}),
    ):
        r = httpx.post(server.url + path, json=body)
        assert r.status_code == 422 and "prompt" in error(r), (path, r.text)
    # the server still answers afterwards
    assert httpx.get(server.url + "/healthz").json()["status"] == "ok"
