"""The dashboard's panels on a real SQLite store (filled by the bench's bulk writer), over HTTP on
a real loopback server (``nextedit serve``'s app with the dashboard mounted), and its CLI errors."""

from __future__ import annotations

import re
from importlib import resources

import httpx
import pytest
from sqlalchemy import func, select

from nextedit.bench.dashboard import MODEL_VERSIONS, fill_store
from nextedit.cli.serve_cmds import mount_dashboard
from nextedit.errors import NexteditError
from nextedit.monitoring import dashboard as D
from nextedit.monitoring import dashboard_rollup as R
from nextedit.monitoring.dashboard_app import dashboard_app
from nextedit.monitoring.store_reader import open_store_readonly
from nextedit.server.app import create_app
from nextedit.server.config import default_config
from nextedit.server.launch import ServerThread
from nextedit.server.telemetry.schema import outcome_events, requests

END = 1_764_547_200.0  # 2025-12-01T00:00:00Z: every hour of the store is closed (rolled up)
ALL = D.Filters(since=END - 3 * 86400, until=END + 3600)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):  # noqa: ANN201
    path = tmp_path_factory.mktemp("dash") / "telemetry.db"
    counts = fill_store(path, 4000, 4000, days=2, end=END, seed=3, users=200)
    return f"sqlite:///{path}", counts


def _truth(engine, mv: str | None = None) -> dict:  # noqa: ANN001 - straight SQL over the raw rows
    r, e = requests.c, outcome_events.c
    with engine.connect() as conn:
        q = select(func.count()).select_from(requests)
        n = conn.execute(q.where(r.model_version == mv) if mv else q).scalar()
        j = select(e.kind, e.was_shown, e.edit_bytes_kept_rate, e.source).select_from(
            outcome_events.join(requests, r.id == e.request_id)
        )
        ev = conn.execute(j.where(r.model_version == mv) if mv else j).all()
    shown = sum(k == "accept" or (k == "reject" and s) for k, s, _, _ in ev)
    acc = sum(k == "accept" for k, _, _, _ in ev)
    kept = [x for k, _, x, src in ev if k == "settled" and src is None]
    inferred = [x for k, _, x, src in ev if k == "settled" and src == "inferred"]
    return {"requests": n, "shown": shown, "accepted": acc, "kept_rate": sum(kept) / len(kept),
            "kept_rate_inferred": sum(inferred) / len(inferred)}  # fmt: skip


def test_timeseries_totals_match_the_raw_rows(seeded) -> None:
    url, counts = seeded
    engine = open_store_readonly(url)
    ts = D.timeseries(engine, ALL)
    assert sum(t["requests"] for t in ts["totals"].values()) == counts["requests"] == 4000
    assert sum(t["accepted"] for t in ts["totals"].values()) == counts["accept"]
    for mv in MODEL_VERSIONS:
        truth, got = _truth(engine, mv), ts["totals"][mv]
        assert got["requests"] == truth["requests"]
        assert got["acceptance_rate"] == pytest.approx(truth["accepted"] / truth["shown"])
        assert got["kept_rate"] == pytest.approx(truth["kept_rate"])
        assert got["kept_rate_inferred"] == pytest.approx(truth["kept_rate_inferred"])
        assert sum(ts["series"][mv]["requests"]) == truth["requests"]
    assert len(ts["buckets"]) >= 48 and ts["buckets"] == sorted(ts["buckets"])


def test_filters_and_daily_buckets_restrict_the_figures(seeded) -> None:
    url, _ = seeded
    engine = open_store_readonly(url)
    one = D.timeseries(engine, D.Filters(ALL.since, ALL.until, model_version=MODEL_VERSIONS[1], api="v3"))
    assert list(one["totals"]) == [MODEL_VERSIONS[1]]
    with engine.connect() as conn:
        n = conn.execute(
            select(func.count())
            .select_from(requests)
            .where(requests.c.model_version == MODEL_VERSIONS[1], requests.c.api == "v3")
        ).scalar()
    assert one["totals"][MODEL_VERSIONS[1]]["requests"] == n
    day = D.timeseries(engine, D.Filters(ALL.since, ALL.until, bucket="day", group="experiment"))
    assert set(day["totals"]) == {"control", "treatment"} and len(day["buckets"]) in (2, 3)
    with pytest.raises(NexteditError, match="bucket"):
        D.Filters(0, 1, bucket="week").check()


def test_incremental_rollup_equals_a_rollup_built_at_once(seeded, tmp_path) -> None:
    url, _ = seeded
    copy = tmp_path / "copy.db"
    fill_store(copy, 4000, 4000, days=2, end=END, seed=3, users=200)
    stepwise = open_store_readonly(f"sqlite:///{copy}")
    for now in (END - 86400, END - 3600 * 5 + 17, END - 3600, END + 3600):  # hour by hour, then the rest
        R.refresh(stepwise, now=now)
    at_once = open_store_readonly(url)
    assert D.timeseries(stepwise, ALL)["totals"] == D.timeseries(at_once, ALL)["totals"]
    assert D.latency(stepwise, ALL)["percentiles"] == D.latency(at_once, ALL)["percentiles"]


def test_latency_percentiles_are_close_to_the_exact_ones(seeded) -> None:
    url, _ = seeded
    engine = open_store_readonly(url)
    lat = D.latency(engine, ALL)
    with engine.connect() as conn:
        vals = sorted(
            v
            for (v,) in conn.execute(
                select(requests.c.model_ms).where(
                    requests.c.status == "ok", requests.c.model_version == MODEL_VERSIONS[0]
                )
            )
        )
    exact_p95 = vals[int(0.95 * len(vals))]
    assert lat["percentiles"][MODEL_VERSIONS[0]]["model"]["p95"] == pytest.approx(exact_p95, rel=0.1)
    hist = lat["histogram"]
    assert len(hist["edges_ms"]) == len(hist[MODEL_VERSIONS[0]]) + 1


def test_recent_requests_show_output_only_when_collection_was_allowed(seeded) -> None:
    url, _ = seeded
    rows = D.recent(open_store_readonly(url), ALL)["rows"]
    assert len(rows) == D.RECENT_ROWS
    assert [r["created_at"] for r in rows] == sorted((r["created_at"] for r in rows), reverse=True)
    engine = open_store_readonly(url)
    with engine.connect() as conn:
        allowed = dict(conn.execute(select(requests.c.id, requests.c.can_collect_data)).all())
    assert all(r["output"] is None for r in rows if not allowed[r["id"]])


def test_served_under_the_servers_auth_with_the_ab_panel(seeded) -> None:
    url, _ = seeded
    cfg = default_config("heuristic").with_overrides(store=url, auth_tokens=("s3cret",))
    app = create_app(cfg)
    mount_dashboard(app)
    with ServerThread(app) as srv:
        page = httpx.get(srv.url + "/dashboard")  # the static shell is open: it asks for the token
        assert page.status_code == 200 and "uPlot" in page.text and 'id="login"' in page.text
        assert not re.search(r"<(script|link)[^>]+(src|href)=", page.text)  # everything inlined
        q = {"since": ALL.since, "until": ALL.until}
        assert httpx.get(srv.url + "/dashboard/api/timeseries", params=q).status_code == 401
        auth = {"Authorization": "Bearer s3cret"}
        ts = httpx.get(srv.url + "/dashboard/api/timeseries", params=q, headers=auth).json()
        assert sum(t["requests"] for t in ts["totals"].values()) == 4000
        ab = httpx.get(srv.url + "/dashboard/api/ab", params=q, headers=auth).json()
        assert "unavailable" in ab  # the default config has no experiments to compare
        bad = httpx.get(srv.url + "/dashboard/api/latency", params={"since": "yesterday"}, headers=auth)
        assert bad.status_code == 400 and "since" in bad.json()["error"]["message"]
        assert httpx.get(srv.url + "/dashboard/static/dashboard.js", headers=auth).status_code == 404


def test_standalone_ab_panel_compares_the_experiments_in_the_store(seeded) -> None:
    url, _ = seeded
    with ServerThread(dashboard_app(url)) as srv:
        ab = httpx.get(srv.url + "/dashboard/api/ab", params={"since": ALL.since, "until": ALL.until}).json()
    assert [a["name"] for a in ab["arms"]] == ["control", "treatment"]
    assert ab["decision"]["action"] and ab["comparisons"]


def test_missing_store_is_one_line(tmp_path) -> None:
    with pytest.raises(NexteditError, match="does not exist"):
        dashboard_app(f"sqlite:///{tmp_path / 'nope.db'}")


def test_assets_ship_in_the_package_and_nothing_comes_from_a_cdn() -> None:
    static = resources.files("nextedit.monitoring").joinpath("static")
    assert "MIT License" in static.joinpath("vendor/uPlot.LICENSE.txt").read_text()
    for name in ("index.html", "dashboard.js", "dashboard.css"):
        assert not re.search(r"(src|href)=\"https?://", static.joinpath(name).read_text())


def test_cli_dashboard_on_a_missing_store_is_one_line_and_bench_runs(tmp_path) -> None:
    import json

    from typer.testing import CliRunner

    from nextedit.cli.app import app

    runner = CliRunner()
    bad = runner.invoke(app, ["dashboard", "--store", f"sqlite:///{tmp_path / 'nope.db'}"])
    assert bad.exit_code == 1 and "does not exist" in bad.output and "Traceback" not in bad.output
    out = tmp_path / "bench.json"
    args = ["bench", "dashboard", "--store", str(tmp_path / "b.db"), "--requests", "2000", "--events", "2000",
            "--repeat", "1", "--json", str(out)]  # fmt: skip
    ok = runner.invoke(app, args)
    assert ok.exit_code == 0, ok.output
    panels = {r["panel"]: r["ms"] for r in json.loads(out.read_text())}
    assert {"options", "latency (7 d)", "recent requests", "A/B report (7 d, cached)"} <= set(panels)
    again = runner.invoke(app, args)
    assert again.exit_code != 0 and "already exists" in again.output


def test_a_store_from_before_the_source_column_and_an_old_rollup_layout(tmp_path) -> None:
    from sqlalchemy import text

    path = tmp_path / "old.db"
    fill_store(path, 500, 500, days=1, end=END, seed=1, users=20)
    engine = open_store_readonly(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE outcome_events DROP COLUMN source"))
        conn.execute(text("CREATE TABLE dashboard_rollup (hour INTEGER, requests FLOAT)"))  # an older layout
    totals = D.timeseries(engine, ALL)["totals"]
    assert sum(t["requests"] for t in totals.values()) == 500
    assert all(t["kept_rate_inferred"] is None and t["kept_rate"] is not None for t in totals.values())
    assert all(t["settled_inferred"] == 0 for t in totals.values())
