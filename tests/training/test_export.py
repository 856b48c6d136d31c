"""`nextedit export-model`: the exported directory serves exactly as the source did (serving.json)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nextedit.cli import app
from nextedit.model.serving import SERVING_FILE, ConfidenceGate, ServingConfig

runner = CliRunner()
SERVING = ServingConfig(
    context_window=200, decode="cursor_line", line_cut_logprob=-2.0, gate=ConfidenceGate("mean_logprob", -1.5)
)


@pytest.fixture
def model_with_serving(tiny_model_dir: Path, tmp_path: Path) -> Path:
    model = tmp_path / "src-model"
    shutil.copytree(tiny_model_dir, model)
    SERVING.save(model)
    return model


def test_export_ships_serving_json_and_serves_the_same(model_with_serving: Path, tmp_path: Path) -> None:
    from nextedit.predict.local import LocalModel

    dest = tmp_path / "exported"
    res = runner.invoke(app, ["export-model", str(model_with_serving), str(dest)])
    assert res.exit_code == 0, res.output
    assert f"serving.json from {model_with_serving / SERVING_FILE}" in res.output
    assert "model.safetensors" in res.output and "tokenizer.json" in res.output
    assert ServingConfig.load(dest) == SERVING
    src, out = LocalModel(model_with_serving, "zeta2_1"), LocalModel(dest, "zeta2_1")
    assert out.engine.max_positions == src.engine.max_positions == 200
    assert out.gate == src.gate == SERVING.gate
    assert (out.decode, out.line_cut_logprob) == (src.decode, src.line_cut_logprob) == ("cursor_line", -2.0)


def test_export_without_serving_json_is_refused_before_writing(tiny_model_dir: Path, tmp_path: Path) -> None:
    dest = tmp_path / "exported"
    res = runner.invoke(app, ["export-model", str(tiny_model_dir), str(dest)])
    assert res.exit_code == 2
    assert "has no serving.json" in res.output and "--serving" in res.output
    assert not dest.exists()


def test_export_with_serving_source_or_defaults(tiny_model_dir: Path, model_with_serving: Path, tmp_path: Path):
    dest = tmp_path / "exported"
    serving = ["--serving", str(model_with_serving)]
    res = runner.invoke(app, ["export-model", str(tiny_model_dir), str(dest), *serving])
    assert res.exit_code == 0, res.output
    assert ServingConfig.load(dest) == SERVING
    # --default-serving: said loudly, and the earlier model's serving.json does not linger
    res = runner.invoke(app, ["export-model", str(tiny_model_dir), str(dest), "--default-serving"])
    assert res.exit_code == 0, res.output
    assert "warning: no serving.json" in res.output and not (dest / SERVING_FILE).exists()
    bad = tmp_path / "bad.json"
    bad.write_text('{"decode": "sideways"}')
    res = runner.invoke(app, ["export-model", str(tiny_model_dir), str(dest), "--serving", str(bad)])
    assert res.exit_code == 2 and "invalid serving config" in res.output
