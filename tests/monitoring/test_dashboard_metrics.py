"""Prometheus families per model version and experiment (``server.metrics``): labels only from
served versions and configured experiments, reports for unknown requests under ``none``; and the
Grafana dashboard in ``docs/`` charts those families."""

from __future__ import annotations

import json
from pathlib import Path

from nextedit.server.metrics import EXPERIMENT_MEMORY, ServerMetrics

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_outcomes_are_labelled_by_version_and_experiment() -> None:
    m = ServerMetrics()
    m.publish_models([("a", "v1", "heuristic")])
    m.publish_experiments(["control", "treatment"])
    m.remember_request("r1", "treatment")
    m.remember_request("r2", "rogue")  # not configured: never a label
    m.observe_outcome("accepted", "r1", "v1")
    m.observe_outcome("rejected", "r2", "v1", reason="Discarded", was_shown=True)
    m.observe_outcome("settled", "r1", "v1", kept_rate=0.75)
    m.observe_outcome("accepted", "unknown-request", "v9")
    text = m.render().decode()
    assert 'nextedit_outcomes_total{experiment="treatment",model_version="v1",outcome="accepted"} 1.0' in text
    assert 'nextedit_rejections_total{experiment="none",model_version="v1",reason="Discarded"} 1.0' in text
    assert 'nextedit_outcome_kept_rate_sum{experiment="treatment",model_version="v1"} 0.75' in text
    assert 'nextedit_outcomes_total{experiment="none",model_version="other",outcome="accepted"} 1.0' in text
    assert 'nextedit_predictions_accepted_total{model_version="v1"} 1.0' in text  # the old families too


def test_experiment_memory_is_bounded() -> None:
    m = ServerMetrics()
    m.publish_experiments(["control"])
    for i in range(EXPERIMENT_MEMORY + 10):
        m.remember_request(f"r{i}", "control")
    assert m.experiment_label("r0") == "none"
    assert m.experiment_label(f"r{EXPERIMENT_MEMORY + 9}") == "control"


def test_grafana_dashboard_uses_the_exported_families() -> None:
    board = json.loads((DOCS / "grafana-nextedit.json").read_text())
    exprs = " ".join(t["expr"] for p in board["panels"] for t in p.get("targets", []))
    text = ServerMetrics().render().decode()
    for family in ("nextedit_outcomes_total", "nextedit_rejections_total", "nextedit_outcome_kept_rate_bucket",
                   "nextedit_request_latency_seconds_bucket", "nextedit_requests_total"):  # fmt: skip
        assert family in exprs
        assert family.rsplit("_", 1)[0] in text or family in text
    assert {v["name"] for v in board["templating"]["list"]} >= {"model_version", "experiment"}
