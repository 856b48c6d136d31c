"""DPO on a tiny real model: the loss falls and chosen log-prob rises over rejected."""

from __future__ import annotations

import pytest

from nextedit.schema.example import Example, PromptRecord
from nextedit.training.preference import dpo_loss, preference_pairs, sequence_logprobs, train_preference


def _examples() -> list[Example]:
    return [
        Example(name=f"e{i}", prompt=PromptRecord(input=f"def f{i}(x):\n    return", expected_output=" x + 1\n",
                                                  rejected_output=" None\n"))  # fmt: skip
        for i in range(6)
    ] + [Example(name="same", prompt=PromptRecord(input="a", expected_output="b", rejected_output="b")),
         Example(name="sft-only", prompt=PromptRecord(input="a", expected_output="b"))]  # fmt: skip


def test_dpo_loss_at_the_reference_is_log_2() -> None:
    torch = pytest.importorskip("torch")
    z = torch.zeros(3)
    assert float(dpo_loss(z, z, z, z, 0.1)) == pytest.approx(0.6931, abs=1e-4)


def test_dpo_prefers_the_chosen_output(tiny_model_dir) -> None:  # noqa: ANN001
    torch = pytest.importorskip("torch")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    pairs = preference_pairs(_examples(), tok)
    assert len(pairs) == 6  # identical and SFT-only examples are not pairs

    def margin() -> float:
        with torch.no_grad():
            prompts = [p.prompt for p in pairs]
            c = sequence_logprobs(model, prompts, [p.chosen for p in pairs])
            r = sequence_logprobs(model, prompts, [p.rejected for p in pairs])
        return float((c - r).mean())

    before = margin()
    log = train_preference(model, pairs, steps=30, lr=3e-3, beta=0.5, batch_size=4)
    assert log[0]["loss"] == pytest.approx(0.6931, abs=1e-3)  # policy = reference at the start
    assert sum(r["loss"] for r in log[-5:]) / 5 < log[0]["loss"] - 0.1
    assert margin() > before + 1.0


def test_no_pairs_is_an_error(tiny_model_dir) -> None:  # noqa: ANN001
    pytest.importorskip("torch")
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    with pytest.raises(ValueError, match="no preference pairs"):
        train_preference(model, [], steps=1)


def test_train_preference_command(tiny_model_dir, tmp_path) -> None:  # noqa: ANN001
    pytest.importorskip("torch")
    from typer.testing import CliRunner

    from nextedit.cli import app

    src = tmp_path / "prompts.jsonl"
    src.write_text("".join(ex.to_json() + "\n" for ex in _examples()))
    out = tmp_path / "dpo-model"
    args = ["train-preference", str(tiny_model_dir), str(src), "-o", str(out), "--steps", "5", "--lr", "3e-3"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "6 pairs, 5 steps" in r.output and (out / "config.json").is_file()
    r = CliRunner().invoke(app, ["train-preference", str(tmp_path), str(src), "-o", str(out)])
    assert r.exit_code == 2 and "not a model directory" in r.output
