"""``nextedit ab report`` end to end: a real SQLite store written by the server's telemetry store,
the real CLI, the JSON it writes; and its one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from nextedit.cli import app
from tests.monitoring.conftest import DAY, STAFF, START, PlantedStore

runner = CliRunner()
WINDOW = ["--since", str(START), "--until", str(START + 4 * DAY), "--pre-since", str(START - 3 * DAY)]


def run(args: list[str]):  # noqa: ANN201
    return runner.invoke(app, ["ab", "report", *args])


def test_report_json_finds_the_planted_effect(planted_store: PlantedStore, tmp_path: Path) -> None:
    out = tmp_path / "ab.json"
    res = run(["--config", str(planted_store.config), *WINDOW, "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "decision" in res.stdout and "acceptance" in res.stdout
    report = json.loads(out.read_text())

    arms = {a["name"]: a for a in report["arms"]}
    assert set(arms) == {"control", "bigger"}
    for name, arm in arms.items():
        assert arm["users"] == planted_store.users[name]
        assert arm["requests"] > arm["users"]
        assert arm["users_with_pre_period"] > 0.8 * arm["users"]
        for metric in ("acceptance_rate", "kept_rate", "latency_p95_ms", "error_rate"):
            fig = arm["metrics"][metric]
            lo, hi = fig["ci"]
            assert lo <= fig["value"] <= hi, (name, metric, fig)
    assert 100 < arms["control"]["metrics"]["latency_p95_ms"]["value"] < 400

    comparisons = {c["metric"]: c for c in report["comparisons"]}
    assert set(comparisons) == {"acceptance_rate", "kept_rate", "latency_p95_ms", "error_rate"}
    for c in comparisons.values():
        assert (c["arm"], c["control"]) == ("bigger", "control")
        assert set(c) >= {"diff", "ci", "p_value", "sequential"}
        assert c["ci"][0] <= c["diff"] <= c["ci"][1]
    acc = comparisons["acceptance_rate"]
    assert acc["role"] == "primary" and acc["p_value"] < 1e-6 and acc["ci"][0] > 0
    assert acc["sequential"]["ci"][0] > 0 and acc["verdict"] == "better"
    assert acc["cuped_variance_reduction"] > 0.05  # the pre-period shares each user's propensity
    assert comparisons["latency_p95_ms"]["role"] == "guardrail"
    assert 0 <= report["srm"]["p_value"] <= 1 and not report["srm"]["mismatch"]
    assert report["sequential"]["method"] == "msprt"
    assert report["excluded"]["users_in_several_arms"] == STAFF
    # planted: no latency or error difference, but 500 users may not yet prove non-inferiority
    assert report["decision"]["action"] in ("ship", "keep running")
    assert report["decision"]["action"] != "ship" or report["decision"]["arm"] == "bigger"


def test_report_with_alpha_spending_and_no_config(planted_store: PlantedStore, tmp_path: Path) -> None:
    out = tmp_path / "ab.json"
    res = run(["--store", planted_store.url, *WINDOW, "--planned-users", "1000", "--json", str(out)])
    assert res.exit_code == 0, res.output
    report = json.loads(out.read_text())
    assert {a["name"] for a in report["arms"]} == {"control", "bigger"}  # the labels found in the store
    assert report["srm"]["p_value"] is None  # no configured weights to test against
    seq = report["sequential"]
    assert seq["method"] == "alpha-spending" and seq["looks"] == 4 and seq["information_fraction"] == 0.5
    acc = next(c for c in report["comparisons"] if c["metric"] == "acceptance_rate")
    assert acc["sequential"]["ci"][0] > 0


def test_an_arm_without_users_is_reported_without_figures(
    planted_store: PlantedStore, tmp_path: Path
) -> None:
    config = tmp_path / "three-arms.toml"
    extra = '\n[[experiments]]\nname = "idle"\nmodel = "a"\nweight = 0\n'
    config.write_text(planted_store.config.read_text() + extra)
    out = tmp_path / "ab.json"
    res = run(["--config", str(config), *WINDOW, "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "Warning" not in res.output
    report = json.loads(out.read_text())
    idle = next(a for a in report["arms"] if a["name"] == "idle")
    assert idle["users"] == 0 and idle["metrics"]["acceptance_rate"]["value"] is None
    assert set(report["srm"]["observed"]) == {"control", "bigger"}  # a weight-0 arm gets no share
    idle_vs = [c for c in report["comparisons"] if c["arm"] == "idle"]
    assert idle_vs and all(c["verdict"] == "no data" for c in idle_vs)
    assert report["decision"]["arms"]["idle"]["action"] == "keep running"


def one_line_error(res, *names: str) -> None:  # noqa: ANN001
    assert res.exit_code in (1, 2), res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])


def test_one_line_errors(planted_store: PlantedStore, tmp_path: Path) -> None:
    cfg = str(planted_store.config)
    one_line_error(run(["--config", cfg, "--control", "nope"]), "--control", "nope")
    one_line_error(run(["--config", cfg, "--since", "yesterday-ish"]), "--since")
    missing = tmp_path / "missing.db"
    one_line_error(run(["--config", cfg, "--store", f"sqlite:///{missing}"]), str(missing))
    assert not missing.exists()  # read-only: never creates a store
    not_a_store = tmp_path / "other.db"
    import sqlite3

    sqlite3.connect(not_a_store).execute("create table t (x)").connection.close()
    one_line_error(run(["--config", cfg, "--store", f"sqlite:///{not_a_store}"]), "not a telemetry store")
    one_line_error(run(["--config", cfg, "--primary", "latency"]), "--primary")
    one_line_error(run([]), "--config")
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    from nextedit.server.telemetry.store import TelemetryStore

    TelemetryStore(empty).close()
    one_line_error(run(["--config", cfg, "--store", empty]), "no request of experiment")
    one_line_error(
        run(["--config", cfg, "--since", str(START + 10 * DAY), "--until", str(START + 11 * DAY)]), "no user"
    )
