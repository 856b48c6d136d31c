"""``nextedit bench llm`` runs end to end on a few requests (figures only; no timing asserted)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from nextedit.cli import app


def test_bench_llm_command(tmp_path):
    out = tmp_path / "llm.json"
    result = CliRunner().invoke(app, ["bench", "llm", "--requests", "5", "--json", str(out)])
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text())
    assert figures["requests"] == 5 and figures["cache_hits_per_s"] > 0
    assert {"raw_http_ms", "sdk_ms", "client_ms", "layer_ms", "requests_per_s_p16"} <= set(figures)
