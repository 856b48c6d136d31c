"""A ``kind = "dpo"`` phase of ``nextedit train`` on a tiny real model: after an SFT phase, DPO on
expected vs rejected outputs lowers the loss from log 2 and raises chosen over rejected; a resume
inside the phase keeps the phase-start reference."""

from __future__ import annotations

import json
import math

import pytest

pytest.importorskip("torch")
pytest.importorskip("accelerate")

from nextedit.training.recipe import recipe_from_dict  # noqa: E402
from nextedit.training.train import train  # noqa: E402
from tests.training.test_preference import _examples  # noqa: E402

DPO_STEPS = 16


def _recipe(tmp_path, model_dir, data: str, dpo: dict | None = None):  # noqa: ANN001, ANN202
    return recipe_from_dict(
        {
            "name": "t",
            "out": str(tmp_path / "run"),
            "model": {"init": str(model_dir)},
            "train": {
                "lr": 3e-3,
                "warmup_steps": 1,
                "min_lr_ratio": 1.0,
                "weight_decay": 0.0,
                "batch_tokens": 256,
                "log_every": 1,
                "checkpoint_every": 100,
                "threads": 1,
            },  # fmt: skip
            "eval": {"valid": [data], "loss_examples": 2, "generate_examples": 0},
            "phases": [
                {"name": "sft", "kind": "sft", "steps": 2, "seq_len": 64, "train": [data], "buckets": 1},
                {
                    "name": "dpo",
                    "kind": "dpo",
                    "steps": DPO_STEPS,
                    "seq_len": 64,
                    "train": [data],
                    "beta": 0.5,
                    "batch_pairs": 4,
                    **(dpo or {}),
                },  # fmt: skip
            ],
        }
    )


@pytest.fixture
def data(tmp_path) -> str:  # noqa: ANN001
    path = tmp_path / "prompts.jsonl"
    path.write_text("".join(ex.to_json() + "\n" for ex in _examples()))
    return str(path)


def _dpo_records(run) -> list[dict]:  # noqa: ANN001
    recs = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    return [r for r in recs if r.get("phase") == "dpo" and "loss" in r]


def test_dpo_phase_prefers_the_chosen_output(tmp_path, tiny_model_dir, data) -> None:  # noqa: ANN001
    summary = train(_recipe(tmp_path, tiny_model_dir, data))
    run = tmp_path / "run"
    assert summary["step"] == 2 + DPO_STEPS and (run / "dpo-reference-1.pt").is_file()
    recs = _dpo_records(run)
    assert [r["step"] for r in recs] == list(range(3, 3 + DPO_STEPS))
    assert recs[0]["loss"] == pytest.approx(math.log(2), abs=1e-3)  # the reference is the phase-start model
    assert sum(r["loss"] for r in recs[-4:]) / 4 < recs[0]["loss"] - 0.1
    margin = [r["chosen_logp"] - r["rejected_logp"] for r in recs]
    assert margin[-1] > margin[0] + 0.5


def test_resume_inside_the_phase_keeps_the_reference(tmp_path, tiny_model_dir, data) -> None:  # noqa: ANN001
    recipe = _recipe(tmp_path, tiny_model_dir, data)
    assert train(recipe, max_steps=6)["step"] == 6
    assert train(recipe, resume=True)["step"] == 2 + DPO_STEPS
    recs = _dpo_records(tmp_path / "run")
    assert [r["step"] for r in recs] == list(range(3, 3 + DPO_STEPS))
    after = next(r for r in recs if r["step"] == 7)
    assert after["loss"] < math.log(2) - 0.01  # measured against the phase-start model, not the resumed one


def test_dpo_phase_errors(tmp_path, tiny_model_dir, data) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="'dpo': a dpo phase reads `train` files only"):
        _recipe(tmp_path, tiny_model_dir, data, {"train": []})
    sft_only = tmp_path / "sft.jsonl"
    sft_only.write_text(json.dumps({"name": "a", "prompt": {"input": "a", "expected_output": "b"}}) + "\n")
    recipe = _recipe(tmp_path, tiny_model_dir, str(sft_only))
    with pytest.raises(ValueError, match="phase 'dpo': no preference pairs"):
        train(recipe)
