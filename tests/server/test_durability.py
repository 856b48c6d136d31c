"""An acknowledged outcome report is committed (defect 2 of issue 17).

The handler answers only after the transaction holding its rows commits, so: while the store cannot
commit, no answer comes; a write that fails is a 503, not a 200; concurrent reports share commits;
closing the store drains its queue; and a server killed with SIGKILL under load has every
acknowledged report in its store."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import httpx
import pytest

from nextedit.bench.durability import fresh_postgres_db, run_round
from nextedit.server.telemetry import TelemetryStore
from tests.server.conftest import POSTGRES_URL
from tests.server.fakes import todo_backend

CFG = {"models": {"todo": {"provider": "test", "version": "todo-v1"}}}


def _event(rid: str) -> tuple[dict, str]:
    return {"request_id": rid, "created_at": 1.0, "kind": "accept"}, "accepted"


class SqliteWriteLock:
    """Holds the database's write lock from another connection (the store's writer waits on it)."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


def test_report_is_answered_only_after_its_row_commits(start_server, tmp_path) -> None:  # noqa: ANN001
    db = tmp_path / "t.db"
    srv = start_server(CFG, providers={"todo": todo_backend()}, store=f"sqlite:///{db}")
    lock = SqliteWriteLock(str(db))
    answered: list[httpx.Response] = []
    done = threading.Event()

    def post() -> None:
        answered.append(httpx.post(srv.url + "/predict_edits/accept", json={"request_id": "r1"}, timeout=30))
        done.set()

    threading.Thread(target=post, daemon=True).start()
    assert not done.wait(0.5), "answered while the row could not be committed"
    lock.release()
    assert done.wait(30) and answered[0].status_code == 200
    # no flush: a fresh connection sees the committed row as soon as the answer came
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT kind FROM outcome_events WHERE request_id = 'r1'").fetchall() == [
            ("accept",)
        ]


def test_a_report_that_cannot_be_stored_is_a_503(start_server, tmp_path) -> None:  # noqa: ANN001
    db = tmp_path / "t.db"
    srv = start_server(CFG, providers={"todo": todo_backend()}, store=f"sqlite:///{db}")
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE outcome_events")
    r = httpx.post(srv.url + "/predict_edits/accept", json={"request_id": "r1"})
    assert r.status_code == 503 and "telemetry" in r.json()["error"]["message"]
    body = {"rejections": [{"request_id": "r2"}]}
    assert httpx.post(srv.url + "/predict_edits/reject", json=body).status_code == 503
    assert httpx.get(srv.url + "/healthz").status_code == 200  # the writer survived


def test_concurrent_reports_share_commits(tmp_path) -> None:  # noqa: ANN001
    db = tmp_path / "t.db"
    store = TelemetryStore(f"sqlite:///{db}")
    lock = SqliteWriteLock(str(db))  # the writer's first commit waits: everything else queues behind it

    async def report_all() -> None:
        writes = [asyncio.ensure_future(store.write_events([_event(f"r{i}")])) for i in range(50)]
        await asyncio.sleep(0)  # every write is queued
        lock.release()
        await asyncio.gather(*writes)

    asyncio.run(report_all())
    assert store.written == 50 and store.commits <= 2
    assert len(store.fetch("outcome_events")) == 50
    store.close()


def test_close_drains_the_whole_queue(tmp_path) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 't.db'}"
    store = TelemetryStore(url, max_pending=10_000)
    lock = SqliteWriteLock(str(tmp_path / "t.db"))
    for i in range(3000):
        store.record_request({"id": f"q{i}", "created_at": 1.0})
    threading.Timer(0.2, lock.release).start()
    store.close()
    again = TelemetryStore(url)
    assert len(again.fetch("requests")) == 3000
    again.close()


STORES = [
    "sqlite",
    pytest.param(
        "postgres", marks=pytest.mark.skipif(not POSTGRES_URL, reason="NEXTEDIT_TEST_POSTGRES_URL not set")
    ),
]


@pytest.mark.parametrize("backend", STORES)
def test_kill_9_under_load_loses_no_acknowledged_report(backend, tmp_path) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 't.db'}" if backend == "sqlite" else fresh_postgres_db(POSTGRES_URL)
    figures = run_round(
        url, graceful=False, threads=4, load_s=1.0, reject_batch=5, pythonpath=None, workdir=tmp_path
    )
    assert figures["events_acked"] > 0, figures
    assert figures["events_lost"] == 0, figures


@pytest.mark.skipif(not POSTGRES_URL, reason="NEXTEDIT_TEST_POSTGRES_URL not set")
def test_writer_reconnects_after_postgres_drops_its_connection(start_server) -> None:  # noqa: ANN001
    import sqlalchemy as sa

    url = fresh_postgres_db(POSTGRES_URL)
    srv = start_server(CFG, providers={"todo": todo_backend()}, store=url)
    assert httpx.post(srv.url + "/predict_edits/accept", json={"request_id": "before"}).status_code == 200
    admin = sa.create_engine(url)
    with admin.connect() as conn:  # what a server restart or an idle timeout does to the writer's connection
        killed = conn.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    admin.dispose()
    assert killed >= 1
    assert httpx.post(srv.url + "/predict_edits/accept", json={"request_id": "after"}).status_code == 200
    store = srv.app.state.service.store
    assert sorted(e["request_id"] for e in store.fetch("outcome_events")) == ["after", "before"]
