"""`nextedit train-preference`: DPO from a model directory on formatted examples (§3.8) — the
standalone form of a recipe's ``kind = "dpo"`` phase (same code: :mod:`nextedit.training.preference`)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from nextedit.cli import checks
from nextedit.cli.app import app
from nextedit.cli.options import Inputs


@app.command("train-preference")
def train_preference_cmd(
    model_dir: Annotated[
        Path, typer.Argument(help="The current model (a transformers directory, e.g. an export).")
    ],
    inputs: Inputs,
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory for the new model.")],
    steps: Annotated[int, typer.Option("--steps", min=1, help="Optimizer steps.")] = 100,
    lr: Annotated[float, typer.Option("--lr", min=0.0, help="AdamW learning rate.")] = 1e-5,
    beta: Annotated[float, typer.Option("--beta", min=0.0, help="DPO β (strength of the reference).")] = 0.1,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Pairs per step.")] = 4,
    max_len: Annotated[int, typer.Option("--max-len", min=16, help="Tokens per prompt + response.")] = 2048,
    seed: Annotated[int, typer.Option("--seed", help="Batch sampling seed.")] = 0,
) -> None:
    """Continue ``MODEL_DIR`` with DPO on ``prompt.expected_output`` (chosen) vs
    ``prompt.rejected_output`` (rejected) of the examples (``format-prompt`` output); writes the
    model, its tokenizer and its serving.json to ``--output``."""
    checks.existing_inputs(inputs)
    if not (model_dir / "config.json").is_file():
        raise typer.BadParameter(
            f"{model_dir}: no config.json (not a model directory)", param_hint="MODEL_DIR"
        )
    import torch
    from transformers import AutoModelForCausalLM

    from nextedit.io.inputs import expand_inputs, read_examples
    from nextedit.model.serving import SERVING_FILE
    from nextedit.model.tokenizer import load_tokenizer
    from nextedit.training.preference import preference_pairs, train_preference

    torch.manual_seed(seed)
    tok = load_tokenizer(model_dir)
    pairs = preference_pairs(read_examples(expand_inputs(inputs)), tok, max_len=max_len)
    if not pairs:
        raise typer.BadParameter(
            "no example has prompt.input, expected_output and a different rejected_output (run format-prompt)",
            param_hint="INPUTS",
        )
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    log = train_preference(model, pairs, steps=steps, lr=lr, beta=beta, batch_size=batch_size, seed=seed)
    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output)
    tok.save_pretrained(output)
    if (model_dir / SERVING_FILE).is_file():
        shutil.copyfile(model_dir / SERVING_FILE, output / SERVING_FILE)
    first, last = log[0], log[-1]
    typer.echo(
        f"{len(pairs)} pairs, {steps} steps: loss {first['loss']:.4f} -> {last['loss']:.4f}, "
        f"chosen-rejected log-prob {first['chosen_logp'] - first['rejected_logp']:.2f} -> "
        f"{last['chosen_logp'] - last['rejected_logp']:.2f} nats; model in {output}"
    )
