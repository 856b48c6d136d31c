from __future__ import annotations

import json
import random

import pytest

pytest.importorskip("torch")
pytest.importorskip("accelerate")

from nextedit.training.recipe import load_recipe, recipe_from_dict  # noqa: E402
from nextedit.training.train import latest_checkpoint, train  # noqa: E402
from tests.conftest import SRC  # noqa: E402


def _sft_file(path, n=40, seed=0):
    rng = random.Random(seed)
    with open(path, "w") as f:
        for i in range(n):
            words = " ".join(rng.choice(["foo", "bar", "baz", "x", "y"]) for _ in range(rng.randint(2, 8)))
            rec = {
                "name": f"e{i}",
                "prompt": {"input": f"<filename>a.py\n{words}\n<[fim-middle]>", "expected_output": words},
            }
            f.write(json.dumps(rec) + "\n")
    return str(path)


def _recipe(tmp_path, tokenizer_dir, lm_steps=4, sft_steps=12):
    sft = _sft_file(tmp_path / "sft.jsonl")
    return recipe_from_dict(
        {
            "name": "t",
            "out": str(tmp_path / "run"),
            "model": {
                "hidden_size": 32,
                "num_layers": 2,
                "num_heads": 2,
                "num_kv_heads": 1,
                "intermediate_size": 64,
            },
            "tokenizer": {"path": str(tokenizer_dir)},
            "train": {
                "lr": 5e-3,
                "warmup_steps": 2,
                "batch_tokens": 256,
                "log_every": 1,
                "checkpoint_every": 5,
                "threads": 1,
                "grad_accum": 2,
            },
            "eval": {"valid": [sft], "loss_examples": 4, "generate_examples": 2, "max_new_tokens": 8},
            "phases": [
                {
                    "name": "lm",
                    "kind": "lm",
                    "steps": lm_steps,
                    "seq_len": 32,
                    "corpus": [str(SRC / "model")],
                },
                {
                    "name": "sft",
                    "kind": "sft",
                    "steps": sft_steps,
                    "seq_len": 64,
                    "train": [sft],
                    "buckets": 2,
                },
            ],
        }
    )


def _losses(run_dir):
    out = {}
    for line in (run_dir / "train_log.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if "loss" in rec:
            out[rec["step"]] = rec["loss"]
    return out


class _Recorder:
    """A TrainProgress that keeps every call."""

    def __init__(self):
        self.calls = []

    def start(self, total_steps, start_step):
        self.calls.append(("start", total_steps, start_step))

    def logged(self, record):
        self.calls.append(("logged", record))

    def message(self, text):
        self.calls.append(("message", text))

    def finish(self):
        self.calls.append(("finish",))


def test_train_loss_decreases_and_checkpoints(tmp_path, small_tokenizer):
    recipe = _recipe(tmp_path, small_tokenizer)
    heard = _Recorder()
    summary = train(recipe, progress=heard)
    run = tmp_path / "run"
    assert summary["step"] == recipe.total_steps == 16
    losses = _losses(run)
    assert heard.calls[0] == ("start", 16, 0) and heard.calls[-1] == ("finish",)
    assert [c[1] for c in heard.calls if c[0] == "logged"] == [
        r for r in map(json.loads, (run / "train_log.jsonl").read_text().splitlines()) if "loss" in r
    ]
    assert sorted(losses) == list(range(1, 17))
    first_sft, last_sft = losses[5], losses[16]
    assert last_sft < first_sft
    ckpt = latest_checkpoint(run)
    assert ckpt.name == "checkpoint-0000016"
    for f in (
        "model.safetensors",
        "config.json",
        "tokenizer.json",
        "generation_config.json",
        "trainer_state.pt",
    ):
        assert (ckpt / f).exists(), f
    evals = [json.loads(x) for x in (run / "train_log.jsonl").read_text().splitlines() if '"eval"' in x]
    assert evals and all("eval_loss" in e and 0 <= e["exact_match"] <= 1 for e in evals)
    with pytest.raises(FileExistsError):
        train(recipe)  # refuses to overwrite without --resume


def test_resume_continues_identically(tmp_path, small_tokenizer):
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.mkdir()
    b.mkdir()
    full = _recipe(a, small_tokenizer)
    train(full)
    part = _recipe(b, small_tokenizer)
    s1 = train(part, max_steps=7)  # "killed" after step 7 (checkpoint at 7: stop step)
    assert s1["step"] == 7 and latest_checkpoint(b / "run").name == "checkpoint-0000007"
    s2 = train(part, resume=True)
    assert s2["start_step"] == 7 and s2["step"] == 16
    la, lb = _losses(a / "run"), _losses(b / "run")
    for step in range(8, 17):
        assert lb[step] == pytest.approx(la[step], rel=1e-5, abs=1e-6), step


def test_recipe_errors_name_the_key(tmp_path):
    bad = tmp_path / "r.toml"
    bad.write_text('[model]\nhiden_size = 3\n[[phases]]\nname="x"\nkind="lm"\nsteps=1\n')
    with pytest.raises(ValueError, match="hiden_size"):
        load_recipe(bad)


def test_shipped_recipes_parse():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "recipes"
    for path in sorted(root.glob("*.toml")):
        r = load_recipe(path)
        assert r.total_steps > 0


def test_predict_eval_runs_the_real_predictor(tiny_model_dir):
    pytest.importorskip("nextedit.predict.local")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from nextedit.schema.example import Example
    from nextedit.training.synthetic import load_sources, synthetic_examples
    from nextedit.training.train import predict_eval

    files = load_sources([SRC / "model"])
    examples = [
        Example.model_validate(e) for e in synthetic_examples(files, n=3, kinds=["rename", "noedit"], seed=1)
    ]
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    out = predict_eval(model, tok, examples, "zeta2_1")
    assert out["predict_examples"] == 3
    assert 0 <= out["delta_chrf"] <= 100 and 0 <= out["kept_rate"] <= 1
    assert 0 <= out["prediction_errors"] <= 3
    assert model.training  # restored
