"""Settled reports linked to their request and re-measured by the server (real server + SQLite)."""

from __future__ import annotations

import httpx
import pytest

from nextedit.metrics.kept_rate import compute_kept_rate
from tests.server.fakes import todo_backend
from tests.server.test_endpoints import CFG, EXCERPT, store_of, v3_body


@pytest.fixture
def server(start_server, store_url):  # noqa: ANN001, ANN201
    return start_server(CFG, providers={"todo": todo_backend()}, store=store_url)


def _predict(url: str, **kw) -> dict:  # noqa: ANN003
    r = httpx.post(url + "/predict_edits/v3", json=v3_body(**kw))
    assert r.status_code == 200, r.text
    return r.json()


def _settled_rows(srv) -> dict[str, dict]:  # noqa: ANN001
    return {r["request_id"]: r for r in store_of(srv).fetch("outcome_events", kind="settled")}


def test_settled_linked_and_recomputed(server) -> None:  # noqa: ANN001
    url = server.url
    a = _predict(url, can_collect_data=True)
    b = _predict(url, can_collect_data=True)
    c = _predict(url)  # no collection: the server has no excerpt to re-measure with
    store_of(server)  # the request rows are committed (a real report comes >= 10 s later)
    s, e = a["editable_range"]["start"], a["editable_range"]["end"]
    before = EXCERPT.encode()[s:e].decode()
    settled = a["output"].replace("DONE", "DONE: None is fine")  # kept the prediction, typed more
    truth = compute_kept_rate(before, a["output"], settled)
    assert 0 < truth.kept_rate <= 1 and truth.recall_rate < 1
    reports = [
        {"request_id": a["request_id"], "settled_editable_region": settled, "can_collect_data": True,
         **truth.to_edit_bytes()},
        {"request_id": b["request_id"], "settled_editable_region": settled, "can_collect_data": True,
         "edit_bytes_kept_rate": 0.01, "edit_bytes_recall_rate": 0.02},
        {"request_id": c["request_id"], "edit_bytes_kept_rate": 0.5},
        {"request_id": "never-served", "settled_editable_region": settled, "can_collect_data": True},
    ]  # fmt: skip
    r = httpx.post(url + "/predict_edits/settled", json={"predictions": reports})
    assert r.status_code == 200, r.text  # a mismatch is a warning, never a failure
    rows = _settled_rows(server)

    ra = rows[a["request_id"]]
    assert ra["linked"] is True and ra["kept_rate_mismatch"] is False
    assert ra["server_kept_rate"] == pytest.approx(truth.kept_rate)
    assert ra["server_recall_rate"] == pytest.approx(truth.recall_rate)
    assert ra["server_edit_bytes"] == truth.to_edit_bytes()
    assert ra["edit_bytes_kept_rate"] == pytest.approx(truth.kept_rate)  # the client's figure too

    rb = rows[b["request_id"]]
    assert rb["linked"] is True and rb["kept_rate_mismatch"] is True
    assert rb["edit_bytes_kept_rate"] == pytest.approx(0.01)  # both kept
    assert rb["server_kept_rate"] == pytest.approx(truth.kept_rate)

    rc = rows[c["request_id"]]
    assert rc["linked"] is True and rc["server_kept_rate"] is None and rc["kept_rate_mismatch"] is None
    assert rc["settled_region"] is None

    rn = rows["never-served"]
    assert rn["linked"] is False and rn["server_kept_rate"] is None

    metrics = httpx.get(url + "/metrics").text
    for result, n in (("match", 1), ("mismatch", 1), ("no_region", 1), ("unlinked", 1)):
        assert f'nextedit_settled_remeasured_total{{result="{result}"}} {n}.0' in metrics


def test_no_edit_request_is_linked_without_figures(server) -> None:  # noqa: ANN001
    d = _predict(server.url, excerpt="x = 1\n", cursor=0, can_collect_data=True)
    store_of(server)
    rep = {"request_id": d["request_id"], "settled_editable_region": "x = 2\n", "can_collect_data": True}
    assert httpx.post(server.url + "/predict_edits/settled", json={"predictions": [rep]}).status_code == 200
    row = _settled_rows(server)[d["request_id"]]
    assert row["linked"] is True and row["server_kept_rate"] is None


def test_an_older_store_gains_the_new_columns(tmp_path) -> None:  # noqa: ANN001
    import sqlite3

    from nextedit.server.telemetry import TelemetryStore

    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE requests (id VARCHAR(64) PRIMARY KEY, created_at FLOAT NOT NULL)")
    conn.execute("INSERT INTO requests VALUES ('old', 1.0)")
    conn.execute(
        "CREATE TABLE outcome_events (id INTEGER PRIMARY KEY AUTOINCREMENT, request_id VARCHAR(64) NOT NULL,"
        " created_at FLOAT NOT NULL, kind VARCHAR(16) NOT NULL)"
    )
    conn.commit()
    conn.close()
    store = TelemetryStore(f"sqlite:///{db}")
    try:
        store.record_event({"request_id": "old", "created_at": 2.0, "kind": "settled", "linked": True})
        assert store.flush() and store.dropped == 0
        (row,) = store.fetch("outcome_events")
        assert row["linked"] is True and row["server_kept_rate"] is None
        assert store.fetch()[0]["editable_start"] is None
    finally:
        store.close()
