"""What the outcome endpoints accept, the store stores (defects 3 and 5 of issue 17).

Every value the report models let through is stored verbatim on SQLite and PostgreSQL (the limits
are the columns'); anything else is a 4xx naming the field and leaves no row, instead of a 2xx whose
row the writer drops later. Settled reports refuse NaN, ±Infinity, negative counts and rates
outside [0, 1], so the kept-rate metric stays a number."""

from __future__ import annotations

import json

import httpx
import pytest

from nextedit.server.telemetry.schema import ID_CHARS, INT_MAX, JSON_DEPTH, VERSION_CHARS, storable_json
from tests.server.fakes import todo_backend

CFG = {"models": {"todo": {"provider": "test", "version": "todo-v1"}}}


@pytest.fixture
def server(start_server, store_url):  # noqa: ANN001, ANN201
    return start_server(CFG, providers={"todo": todo_backend()}, store=store_url)


def _nested(depth: int, leaf: object) -> object:
    v = leaf
    for _ in range(depth):
        v = {"k": v}
    return v


def _post(srv, path: str, body: dict | str) -> httpx.Response:  # noqa: ANN001
    raw = body if isinstance(body, str) else json.dumps(body)
    return httpx.post(srv.url + path, content=raw, headers={"Content-Type": "application/json"})


def _events(srv) -> list[dict]:  # noqa: ANN001
    store = srv.app.state.service.store
    assert store.flush()
    return store.fetch("outcome_events")


def settled(**fields) -> dict:  # noqa: ANN003
    return {"predictions": [{"request_id": "r1", **fields}]}


REFUSED = [
    ("/predict_edits/accept", {"request_id": "a" * (ID_CHARS + 1)}, "request_id"),
    ("/predict_edits/accept", {"request_id": "a" * 200}, "request_id"),
    ("/predict_edits/accept", {"request_id": "a\x00b"}, "request_id"),
    (
        "/predict_edits/accept",
        {"request_id": "r", "model_version": "v" * (VERSION_CHARS + 1)},
        "model_version",
    ),
    ("/predict_edits/accept", {"request_id": "r", "model_version": "v\x00"}, "model_version"),
    ("/predict_edits/accept", {"request_id": "r", "e2e_latency_ms": -1}, "e2e_latency_ms"),
    (
        "/predict_edits/reject",
        {"rejections": [{"request_id": "r", "model_version": "\x00"}]},
        "model_version",
    ),
    ("/predict_edits/reject", {"rejections": [{"request_id": "b" * 65}]}, "request_id"),
    ("/predict_edits/settled", settled(edit_bytes_kept=INT_MAX + 1), "edit_bytes_kept"),
    ("/predict_edits/settled", settled(edit_bytes_context=2**63), "edit_bytes_context"),
    ("/predict_edits/settled", settled(edit_bytes_discarded=-1), "edit_bytes_discarded"),
    (
        "/predict_edits/settled",
        settled(ts_error_count_before_prediction=-3),
        "ts_error_count_before_prediction",
    ),
    (
        "/predict_edits/settled",
        settled(ts_error_count_after_prediction=2**31),
        "ts_error_count_after_prediction",
    ),
    ("/predict_edits/settled", settled(settled_editable_region="x\x00y"), "settled_editable_region"),
    ("/predict_edits/settled", settled(edit_bytes_kept_rate=-0.1), "edit_bytes_kept_rate"),
    ("/predict_edits/settled", settled(edit_bytes_kept_rate=1.5), "edit_bytes_kept_rate"),
    ("/predict_edits/settled", settled(edit_bytes_recall_rate=2), "edit_bytes_recall_rate"),
    ("/predict_edits/settled", settled(e2e_latency=-5), "e2e_latency"),
    (
        "/predict_edits/settled",
        settled(can_collect_data=True, sample_data=_nested(JSON_DEPTH + 5, "\ud800")),
        "sample_data",
    ),
    ("/predict_edits/settled", settled(can_collect_data=True, notes=_nested(JSON_DEPTH + 5, 1)), "notes"),
]


@pytest.mark.parametrize(
    "path,body,field", REFUSED, ids=[f"{p.rsplit('/', 1)[1]}-{f}" for p, _, f in REFUSED]
)
def test_refused_with_the_field_named_and_nothing_stored(server, path, body, field) -> None:  # noqa: ANN001
    r = _post(server, path, body)
    assert 400 <= r.status_code < 500, r.text
    assert field in r.json()["error"]["message"]
    assert _events(server) == []


@pytest.mark.parametrize(
    "literal,field",
    [
        ("NaN", "edit_bytes_kept_rate"),
        ("Infinity", "edit_bytes_kept_rate"),
        ("-Infinity", "edit_bytes_recall_rate"),
        ("1e999", "e2e_latency"),
        ("NaN", "e2e_latency"),
    ],
)
def test_settled_non_finite_numbers_are_refused_and_the_metric_stays_finite(
    server,
    literal,
    field,  # noqa: ANN001
) -> None:
    r = _post(
        server, "/predict_edits/settled", f'{{"predictions": [{{"request_id": "r1", "{field}": {literal}}}]}}'
    )
    assert 400 <= r.status_code < 500, r.text
    ok = _post(server, "/predict_edits/settled", settled(model_version="todo-v1", edit_bytes_kept_rate=0.25))
    assert ok.status_code == 200, ok.text
    metrics = httpx.get(server.url + "/metrics").text
    assert 'nextedit_settled_kept_rate_sum{model_version="todo-v1"} 0.25' in metrics
    assert "NaN" not in metrics
    assert [e["edit_bytes_kept_rate"] for e in _events(server)] == [0.25]


def test_values_at_the_limits_are_stored_verbatim(server) -> None:  # noqa: ANN001
    rid = "i" * ID_CHARS
    version = "é" * VERSION_CHARS  # characters, not bytes: PostgreSQL varchar(200) counts characters
    assert (
        _post(server, "/predict_edits/accept", {"request_id": rid, "model_version": version}).status_code
        == 200
    )
    sample = _nested(JSON_DEPTH - 8, "emoji \U0001f600 and \u00e9")
    body = settled(
        request_id=rid,
        can_collect_data=True,
        settled_editable_region="tab\tand \u2028 line sep",
        sample_data=sample,
        edit_bytes_kept=INT_MAX,
        edit_bytes_context=0,
        ts_error_count_before_prediction=INT_MAX,
        edit_bytes_kept_rate=1.0,
        edit_bytes_recall_rate=0,
        e2e_latency=1e300,
        big=2**70,
        note="NUL \x00 inside JSON is escaped",
    )
    r = _post(server, "/predict_edits/settled", body)
    assert r.status_code == 200, r.text
    events = {e["kind"]: e for e in _events(server)}
    assert events["accept"]["request_id"] == rid and events["accept"]["model_version"] == version
    s = events["settled"]
    assert (
        s["request_id"] == rid and s["edit_bytes_kept"] == INT_MAX and s["ts_error_count_before"] == INT_MAX
    )
    assert (
        s["edit_bytes_kept_rate"] == 1.0 and s["edit_bytes_recall_rate"] == 0 and s["e2e_latency_ms"] == 1e300
    )
    assert s["settled_region"] == "tab\tand \u2028 line sep"
    assert s["extra"] == {"sample_data": sample, "big": 2**70, "note": "NUL \x00 inside JSON is escaped"}


@pytest.mark.parametrize(
    "value,why",
    [
        (_nested(JSON_DEPTH + 1, 1), "nested deeper"),
        ({"a": [1.0, float("nan")]}, "NaN"),
        ({"a": float("-inf")}, "Infinity"),
        ([{"k": "\udc00"}], "surrogates"),
    ],
)
def test_storable_json_refuses_what_a_json_column_cannot_hold(value, why) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match=why):
        storable_json(value)


def test_storable_json_keeps_what_it_can_hold() -> None:
    value = {"deep": _nested(JSON_DEPTH - 1, "\U0001f600"), "big": 2**80, "nul": "a\x00b"}
    assert storable_json(value) is value
