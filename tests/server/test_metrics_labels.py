"""``model_version`` labels come from the server's own models, never from what a client reports
(defect 6 of issue 17): many distinct reported versions leave a bounded label set."""

from __future__ import annotations

import re

import httpx

from nextedit.server.metrics import OTHER_VERSION, ServerMetrics
from tests.server.fakes import todo_backend

CFG = {"models": {"todo": {"provider": "test", "version": "todo-v1"}}}


def _label_values(metrics: str) -> set[str]:
    return set(re.findall(r'model_version="([^"]*)"', metrics))


def test_reported_versions_do_not_grow_the_label_set(start_server) -> None:  # noqa: ANN001
    srv = start_server(CFG, providers={"todo": todo_backend()})
    url = srv.url
    for batch in range(5):  # 500 distinct versions across reject, accept and settled reports
        rejections = [
            {"request_id": f"r{batch}-{i}", "model_version": f"evil-{batch}-{i}"} for i in range(100)
        ]
        assert httpx.post(url + "/predict_edits/reject", json={"rejections": rejections}).status_code == 200
    for i in range(20):
        body = {"request_id": f"a{i}", "model_version": f"accept-{i}"}
        assert httpx.post(url + "/predict_edits/accept", json=body).status_code == 200
    settled = [
        {"request_id": f"s{i}", "model_version": f"s-{i}", "edit_bytes_kept_rate": 0.5} for i in range(32)
    ]
    assert httpx.post(url + "/predict_edits/settled", json={"predictions": settled}).status_code == 200
    known = {"request_id": "k", "model_version": "todo-v1"}
    assert httpx.post(url + "/predict_edits/accept", json=known).status_code == 200
    assert httpx.post(url + "/predict_edits/accept", json={"request_id": "none"}).status_code == 200

    metrics = httpx.get(url + "/metrics").text
    assert _label_values(metrics) <= {"todo-v1", OTHER_VERSION}
    assert 'nextedit_predictions_accepted_total{model_version="other"} 21.0' in metrics
    assert 'nextedit_predictions_accepted_total{model_version="todo-v1"} 1.0' in metrics
    assert (
        'nextedit_predictions_rejected_total{model_version="other",reason="Discarded",was_shown="false"} 500.0'
        in metrics
    )
    assert 'nextedit_settled_kept_rate_count{model_version="other"} 32.0' in metrics
    assert len(metrics) < 50_000


def test_versions_served_before_a_reload_keep_their_label() -> None:
    m = ServerMetrics()
    m.publish_models([("a", "a-v1", "heuristic")])
    m.publish_models([("a", "a-v2", "heuristic"), ("b", "b-v1", "test")])
    assert [m.version_label(v) for v in ("a-v1", "a-v2", "b-v1", "c-v9", None)] == [
        "a-v1",
        "a-v2",
        "b-v1",
        OTHER_VERSION,
        OTHER_VERSION,
    ]
    info = [line for line in m.render().decode().splitlines() if line.startswith("nextedit_model_info{")]
    assert sorted(_label_values("\n".join(info))) == ["a-v2", "b-v1"]  # the gauge shows what is served now
