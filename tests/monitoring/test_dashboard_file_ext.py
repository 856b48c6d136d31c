"""The dashboard's file-extension filter: ``requests.file_ext`` rolled up and filterable, the
extension taken from a path (never more of it), and a store from before that column."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from nextedit.bench.dashboard import fill_store
from nextedit.monitoring import dashboard as D
from nextedit.monitoring.store_reader import open_store_readonly
from nextedit.server.telemetry.schema import add_missing_columns, file_ext, requests

END = 1_764_547_200.0
ALL = D.Filters(since=END - 3 * 86400, until=END + 3600)


@pytest.mark.parametrize(
    ("path", "ext"),
    [("src/main.rs", "rs"), ("a/B.PY", "py"), ("C:\\x\\y.ts", "ts"), ("Makefile", None), (".gitignore", None),
     ("dir.d/file", None), ("a." + "x" * 40, None), ("a.r s", None), (None, None)],
)  # fmt: skip
def test_file_ext_is_the_short_extension_only(path: str | None, ext: str | None) -> None:
    assert file_ext(path) == ext


def test_filter_by_extension_matches_the_raw_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    fill_store(path, 3000, 3000, days=2, end=END, seed=5, users=100)
    engine = open_store_readonly(f"sqlite:///{path}")
    assert set(D.options(engine)["file_exts"]) == {"rs", "py", "ts", "go", "md"}
    with engine.connect() as conn:
        n_rs = conn.execute(
            select(func.count()).select_from(requests).where(requests.c.file_ext == "rs")
        ).scalar()
    rs = D.Filters(ALL.since, ALL.until, file_ext="rs")
    assert sum(t["requests"] for t in D.timeseries(engine, rs)["totals"].values()) == n_rs < 3000
    lat_all = D.latency(engine, ALL)["histogram"]
    lat_rs = D.latency(engine, rs)["histogram"]
    assert sum(sum(lat_rs[g]) for g in lat_rs if g != "edges_ms") < sum(
        sum(lat_all[g]) for g in lat_all if g != "edges_ms"
    )
    with engine.connect() as conn:
        ids = {i for (i,) in conn.execute(select(requests.c.id).where(requests.c.file_ext == "rs"))}
    recent = {r["id"] for r in D.recent(engine, rs)["rows"]}
    assert recent and recent <= ids
    engine.dispose()


def test_a_store_from_before_the_file_ext_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    fill_store(path, 300, 300, days=1, end=END, seed=2, users=10)
    engine = open_store_readonly(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX IF EXISTS ix_requests_file_ext"))
        conn.execute(text("ALTER TABLE requests DROP COLUMN file_ext"))
    totals = D.timeseries(engine, ALL)["totals"]
    assert sum(t["requests"] for t in totals.values()) == 300
    assert D.options(engine)["file_exts"] == []
    assert D.timeseries(engine, D.Filters(ALL.since, ALL.until, file_ext="rs"))["totals"] == {}
    assert D.recent(engine, D.Filters(ALL.since, ALL.until, file_ext="rs"))["rows"] == []
    assert add_missing_columns(engine) == ["requests.file_ext"]  # what the server does on open
    engine.dispose()
