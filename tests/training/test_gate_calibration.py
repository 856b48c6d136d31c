"""Confidence gate: serving.json, the provider's "no edit" fallback and threshold calibration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nextedit.model.serving import ConfidenceGate, ServingConfig
from nextedit.training.gate_calibration import GateSample, calibrate, evaluate_gate


def test_serving_config_round_trip_and_errors(tmp_path: Path) -> None:
    assert ServingConfig.load(tmp_path) == ServingConfig()
    cfg = ServingConfig(context_window=1024, copy_margin=1.5, max_line_tokens=16, gate=ConfidenceGate("mean_logprob", -0.7))
    cfg.save(tmp_path)
    assert ServingConfig.load(tmp_path) == cfg
    (tmp_path / "serving.json").write_text(json.dumps({"gate": {"measure": "x", "bogus": 1}}))
    with pytest.raises(ValueError, match="serving.json: invalid serving config"):
        ServingConfig.load(tmp_path)


def test_gate_passes() -> None:
    gate = ConfidenceGate("min_logprob", -2.0)
    assert gate.passes({"min_logprob": -1.0})
    assert not gate.passes({"min_logprob": -2.5})
    assert gate.passes({})  # a provider without the statistic is never silenced


def _sample(conf: float, with_chrf: float, without_chrf: float) -> GateSample:
    def score(chrf: float) -> dict:
        return {"delta_chr_f": chrf, "kept_rate": chrf / 100, "reversal_ratio": 0.0}

    return GateSample(score(with_chrf), score(without_chrf), True, {"min_logprob": conf, "mean_logprob": conf})


def test_calibration_silences_the_unsure_wrong_edits() -> None:
    # confident edits are right (80 vs 0 silent); unsure ones are wrong where silence was right
    samples = [_sample(-0.1 * i, 80, 0) for i in range(1, 6)] + [_sample(-3 - i, 0, 100) for i in range(5)]
    rows, best = calibrate(samples)
    assert rows[0]["threshold"] is None and rows[0]["delta_chrf"] == pytest.approx(40)
    assert best is not None and -3 < best.threshold <= -0.5
    gated = evaluate_gate(samples, best)
    assert gated["avg_delta_chr_f"] == pytest.approx(90)
    assert gated["shown"] == pytest.approx(0.5)


def test_calibration_keeps_no_gate_when_nothing_helps() -> None:
    samples = [_sample(-0.5 * i, 60, 0) for i in range(6)]
    _, best = calibrate(samples)
    assert best is None


def test_local_provider_gate_turns_edits_into_no_edit(tiny_model_dir: Path) -> None:
    pytest.importorskip("torch")
    from nextedit.context.example_request import example_request
    from nextedit.io.inputs import read_examples
    from nextedit.predict.local import LocalModel
    from nextedit.predict.model_provider import ModelProvider

    root = Path(__file__).resolve().parents[2]
    plain = LocalModel(tiny_model_dir, "zeta2_1", gate=False)
    ungated = ModelProvider(plain, max_output_tokens=8)
    strict = ModelProvider(LocalModel(tiny_model_dir, "zeta2_1", gate=ConfidenceGate("min_logprob", 0.0),
                                      engine=plain.engine), max_output_tokens=8)  # fmt: skip
    for ex in list(read_examples([root / "examples"]))[:4]:
        req = example_request(ex)
        a = ungated.predict(req)
        b = strict.predict(req)
        assert b.is_no_edit(req.cursor_excerpt)
        if not a.error and not a.is_no_edit(req.cursor_excerpt):
            assert b.stats.get("gated") is True and b.stats["completion_tokens"] <= a.stats["completion_tokens"]


def test_context_window_from_serving_json(tiny_model_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    import shutil

    from nextedit.predict.local import LocalModel

    model = tmp_path / "m"
    shutil.copytree(tiny_model_dir, model)
    ServingConfig(context_window=100, gate=ConfidenceGate("mean_logprob", -1.0)).save(model)
    local = LocalModel(model, "zeta2_1")
    assert local.engine.max_positions == 100
    assert local.gate == ConfidenceGate("mean_logprob", -1.0)
    assert LocalModel(model, "zeta2_1", gate=False).gate is None


def test_bench_gate_cli_predicts_calibrates_and_writes(tiny_model_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    import shutil

    from typer.testing import CliRunner

    from nextedit.cli import app

    model = tmp_path / "m"
    shutil.copytree(tiny_model_dir, model)
    ServingConfig(context_window=512, decode="cursor_line").save(model)
    root = Path(__file__).resolve().parents[2]
    preds = tmp_path / "preds.jsonl"
    res = CliRunner().invoke(
        app, ["bench", "gate", str(root / "examples"), "--model", str(model), "-p", str(preds), "--write"]
    )
    assert res.exit_code == 0, res.output
    assert "confidence gate on 12 examples" in res.output and "first_logprob" in res.output
    assert len(preds.read_text().splitlines()) == 12
    saved = ServingConfig.load(model)
    assert saved.context_window == 512 and saved.decode == "cursor_line"  # the rest is kept
    if "no threshold beats" not in res.output:
        assert saved.gate is not None and saved.gate.measure in ("min_logprob", "mean_logprob", "first_logprob")
