"""The training loop: phases of LM pretraining, SFT and DPO, checkpoints, exact resume, evaluation.

``train(recipe, out=..., resume=..., max_steps=...)`` runs the recipe's phases back to back on one
global step counter. One optimizer step = ``grad_accum`` micro-batches per process. The learning
rate is linear warm-up then cosine to ``min_lr_ratio × lr`` over the recipe's total steps (times the
phase's ``lr_scale``); ``max_steps`` stops early without changing the schedule, so a later
``--resume`` continues the same run.

Checkpoint ``<out>/checkpoint-<step>/``: ``model.safetensors`` + config + generation config +
tokenizer (HF format, loadable by ``from_pretrained``), ``trainer_state.pt`` (optimizer, scheduler,
RNG states, step, per-phase data position) and ``trainer_state.json`` (step, eval numbers).
``<out>/latest`` and ``<out>/best`` name the newest and the lowest-eval-loss checkpoint. Resume
rebuilds the deterministic batch stream of the current phase and skips the batches already
consumed, so the continued run sees the same data in the same order (same world size required).

A ``dpo`` phase (:mod:`nextedit.training.preference`) optimises the DPO loss against a frozen copy
of the model as it was when the phase started, kept in ``<out>/dpo-reference-<phase index>.pt`` so
that a resume inside the phase compares against the same reference.

Logs: one JSON object per ``log_every`` steps in ``<out>/train_log.jsonl`` (step, phase, loss, lr,
tokens/s counting non-padding tokens, elapsed seconds; a dpo phase adds the policy's mean
``chosen_logp`` / ``rejected_logp`` in nats); eval records carry ``"eval": true``.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import Any

from nextedit.training.batches import (
    SftRecord,
    SftStats,
    encode_sft,
    lm_batch_stream,
    mix_streams,
    region_start_ids,
    sft_batch_stream,
    sft_pairs_from_jsonl,
)
from nextedit.training.progress import NoTrainProgress, TrainProgress
from nextedit.training.recipe import Recipe, build_model_config, count_parameters


# ------------------------------------------------------------------------------------- tokenizer
def prepare_tokenizer(recipe: Recipe, out: Path):
    """Tokenizer of the run: ``<out>/tokenizer`` if present (resume), else the recipe's ``path``,
    else the pretrained checkpoint's, else trained on ``[tokenizer] corpus`` and saved there."""
    from nextedit.model.tokenizer import iter_corpus_texts, load_tokenizer, train_tokenizer

    saved = out / "tokenizer"
    if (saved / "tokenizer.json").exists():
        return load_tokenizer(saved)
    spec = recipe.tokenizer
    if spec.path:
        tok = load_tokenizer(spec.path)
    elif recipe.model.init != "scratch":
        tok = load_tokenizer(recipe.model.init)
    else:
        if not spec.corpus:
            raise ValueError("[tokenizer]: set `path` (an existing tokenizer) or `corpus` (to train one)")
        tok = train_tokenizer(iter_corpus_texts(spec.corpus, max_bytes=spec.max_bytes), spec.vocab_size)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.save_pretrained(saved)
    return tok


# ------------------------------------------------------------------------------------------ model
def build_model(recipe: Recipe, tokenizer, init_from: str | Path | None = None):
    """A causal LM: from scratch (recipe architecture), from ``init_from`` (a checkpoint of this run)
    or from ``model.init`` (any local HF checkpoint), with LoRA adapters when enabled."""
    from transformers import AutoModelForCausalLM

    lora = recipe.lora
    if init_from is not None and lora.enabled:
        from peft import PeftModel

        base = AutoModelForCausalLM.from_pretrained(recipe.model.init, dtype="float32")
        return PeftModel.from_pretrained(base, str(init_from), is_trainable=True)
    if init_from is not None:
        return AutoModelForCausalLM.from_pretrained(str(init_from), dtype="float32")
    if recipe.model.init == "scratch":
        model = AutoModelForCausalLM.from_config(build_model_config(recipe.model, tokenizer))
    else:
        model = AutoModelForCausalLM.from_pretrained(recipe.model.init, dtype="float32")
        if model.get_input_embeddings().weight.shape[0] < len(tokenizer):
            model.resize_token_embeddings(len(tokenizer))
    if lora.enabled:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(
            model,
            LoraConfig(
                r=lora.r,
                lora_alpha=lora.alpha,
                lora_dropout=lora.dropout,
                target_modules=lora.target_modules,
                task_type="CAUSAL_LM",
            ),
        )
    return model


def lr_lambda(recipe: Recipe):
    """Multiplier of ``train.lr`` at a global step (warm-up, cosine, per-phase scale)."""
    total = max(1, recipe.total_steps)
    warm = recipe.train.warmup_steps
    floor = recipe.train.min_lr_ratio
    bounds = _phase_bounds(recipe)

    def f(step: int) -> float:
        scale = recipe.phases[_phase_index(bounds, min(step, total - 1))].lr_scale
        if step < warm:
            return scale * (step + 1) / warm
        t = min(1.0, (step - warm) / max(1, total - warm))
        return scale * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t)))

    return f


def _phase_bounds(recipe: Recipe) -> list[int]:
    out, acc = [], 0
    for p in recipe.phases:
        out.append(acc)
        acc += p.steps
    return out


def _phase_index(bounds: list[int], step: int) -> int:
    idx = 0
    for i, b in enumerate(bounds):
        if step >= b:
            idx = i
    return idx


# ------------------------------------------------------------------------------------------- data
def _sft_records(
    phase, recipe: Recipe, tokenizer, seed: int, stats: SftStats, message: Callable[[str], None]
) -> list[SftRecord]:
    pairs: list[tuple[str, str]] = []
    existing = [p for p in phase.train if Path(p).exists()]
    for missing in sorted(set(phase.train) - set(existing)):
        message(f"[train] phase {phase.name!r}: {missing} does not exist; skipped")
    pairs += list(sft_pairs_from_jsonl(existing, stats))
    if phase.synthetic:
        from nextedit.training.synthetic import synthetic_pairs

        pairs += list(
            synthetic_pairs(
                phase.synthetic_source or recipe.tokenizer.corpus,
                n=phase.synthetic,
                kinds=phase.synthetic_kinds or None,
                max_lines=phase.synthetic_max_lines,
                seed=seed,
            )
        )
    region_ids = region_start_ids(tokenizer)
    records = []
    for prompt, response in pairs:
        rec = encode_sft(
            tokenizer,
            prompt,
            response,
            max_len=phase.seq_len,
            overlong=phase.overlong,
            region_ids=region_ids,
            stats=stats,
        )
        if rec is not None:
            records.append(rec)
    return records


def phase_stream(phase, recipe: Recipe, tokenizer, seed: int, message: Callable[[str], None] | None = None):
    """The infinite deterministic batch stream of one phase (see ``training/batches.py``) and its
    data figures; ``message`` hears of each missing SFT input file (skipped)."""
    from nextedit.model.tokenizer import iter_corpus_texts

    t = recipe.train

    def lm():
        corpus = phase.corpus or recipe.tokenizer.corpus
        return lm_batch_stream(
            lambda: iter_corpus_texts(corpus),
            tokenizer,
            seq_len=phase.seq_len,
            batch_tokens=t.batch_tokens,
            seed=seed,
        )

    if phase.kind == "lm":
        return lm(), {}
    if phase.kind == "dpo":
        return _dpo_stream(phase, tokenizer, seed, message or (lambda text: None))
    stats = SftStats()
    records = _sft_records(phase, recipe, tokenizer, seed, stats, message or (lambda text: None))
    stream = sft_batch_stream(
        records,
        pad_id=tokenizer.pad_token_id,
        batch_tokens=t.batch_tokens,
        max_batch_size=t.max_batch_size,
        buckets=phase.buckets,
        curriculum=phase.curriculum,
        seed=seed,
    )
    if phase.lm_mix > 0:
        stream = mix_streams(stream, lm(), phase.lm_mix, seed)
    info = {
        "examples": len(records),
        "tokens": sum(len(r) for r in records),
        "truncated": stats.truncated,
        "skipped_overlong": stats.skipped_overlong,
        "skipped_missing": stats.skipped_missing,
    }
    return stream, info


def _dpo_stream(phase, tokenizer, seed: int, message: Callable[[str], None]):
    from nextedit.training.preference import (
        PreferenceDataError,
        preference_batch_stream,
        preference_pairs_from_files,
    )

    existing = [p for p in phase.train if Path(p).exists()]
    for missing in sorted(set(phase.train) - set(existing)):
        message(f"[train] phase {phase.name!r}: {missing} does not exist; skipped")
    pairs = preference_pairs_from_files(existing, tokenizer, max_len=phase.seq_len) if existing else []
    if not pairs:
        raise PreferenceDataError(
            f"phase {phase.name!r}: no preference pairs in {', '.join(phase.train)} (examples need "
            "prompt.input, expected_output and a different rejected_output: run format-prompt)"
        )
    return preference_batch_stream(pairs, phase.batch_pairs, seed), {"pairs": len(pairs)}


def dpo_reference(model, out: Path, phase_idx: int, at_start: bool, is_main: bool):
    """The frozen reference of a dpo phase: a copy of ``model`` at the phase's start (saved to
    ``<out>/dpo-reference-<phase_idx>.pt`` by the main process), or, resuming inside the phase,
    that copy's saved weights."""
    import torch

    from nextedit.training.preference import frozen_copy

    path = out / f"dpo-reference-{phase_idx}.pt"
    reference = frozen_copy(model)
    if at_start:
        if is_main:
            torch.save(reference.state_dict(), path)
    elif path.exists():
        reference.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    else:
        raise FileNotFoundError(
            f"{path}: the dpo phase's reference is missing; cannot resume inside the phase"
        )
    return reference


def eval_records(recipe: Recipe, tokenizer, seed: int) -> list[tuple[SftRecord, str]]:
    """Validation examples with their expected output text: the ``[eval] valid`` JSONL files, or
    held-out synthetic examples (different seed) when none exist."""
    spec = recipe.eval
    existing = [p for p in spec.valid if Path(p).exists()]
    n = max(spec.loss_examples, spec.generate_examples)
    pairs = list(islice(sft_pairs_from_jsonl(existing), n)) if existing else []
    if not pairs and spec.synthetic_valid:
        from nextedit.training.synthetic import synthetic_pairs

        sft_phases = [p for p in recipe.phases if p.kind == "sft"]
        src = (sft_phases[-1].synthetic_source if sft_phases else []) or recipe.tokenizer.corpus
        kinds = (sft_phases[-1].synthetic_kinds if sft_phases else []) or None
        pairs = list(
            synthetic_pairs(src, n=spec.synthetic_valid, kinds=kinds, seed=seed + 7919, max_lines=40)
        )
    max_len = max(
        [p.seq_len for p in recipe.phases if p.kind == "sft"] or [recipe.model.max_position_embeddings]
    )
    region_ids = region_start_ids(tokenizer)
    out = []
    for prompt, response in pairs:
        rec = encode_sft(tokenizer, prompt, response, max_len=max_len, region_ids=region_ids)
        if rec is not None:
            out.append((rec, response))
    return out


def predict_examples(recipe: Recipe, seed: int) -> list:
    """Valid ``Example``s for :func:`predict_eval`: from ``[eval] valid`` (lines with expected
    patches), else held-out synthetic edit examples (kinds of the last SFT phase, no copy tasks)."""
    from nextedit.io.jsonl import iter_json_lines
    from nextedit.schema.example import Example

    spec = recipe.eval
    n = spec.predict_examples
    if n <= 0:
        return []
    out: list = []
    for path in [p for p in spec.valid if Path(p).exists()]:
        for _, rec in iter_json_lines(path):
            if (rec.get("prompt_inputs") or rec.get("cursor_position")) and "expected_patches" in rec:
                out.append(Example.model_validate(rec))
            if len(out) >= n:
                return out
    if out:
        return out
    from nextedit.training.synthetic import synthetic_examples

    sft_phases = [p for p in recipe.phases if p.kind == "sft"]
    src = (sft_phases[-1].synthetic_source if sft_phases else []) or recipe.tokenizer.corpus
    kinds = [
        k
        for k in (sft_phases[-1].synthetic_kinds if sft_phases else [])
        if not k.startswith(("copy", "scramble"))
    ]
    gen = synthetic_examples(src, n=n, kinds=kinds or None, seed=seed + 104729, max_lines=40)
    return [Example.model_validate(ex) for ex in gen if "prompt_inputs" in ex]


def predict_eval(model, tokenizer, examples: list, fmt: str) -> dict[str, Any]:
    """The real prediction path (engine with speculative decoding + ``local`` provider + metrics) on
    ``examples``: mean delta chrF, kept rate, exact-lines F1, error rate."""
    from nextedit.metrics.report import summarize
    from nextedit.metrics.score import score_example
    from nextedit.model.engine import Engine
    from nextedit.predict.local import LocalModel
    from nextedit.predict.model_provider import ModelProvider
    from nextedit.predict.stage import PredictStage

    if not examples:
        return {}
    model.eval()
    try:
        engine = Engine(model, tokenizer, speculative=True)
        provider = ModelProvider(LocalModel(prompt_format=fmt, engine=engine))
        stage = PredictStage(provider)
        scores = []
        errors = 0
        for ex in examples:
            ex = stage.process(ex.model_copy(deep=True))
            errors += sum(bool(p.error) for p in ex.predictions)
            scores += score_example(ex)
        summary = summarize(scores)
    finally:
        model.train()
    return {
        "predict_examples": len(examples),
        "delta_chrf": summary.get("avg_delta_chr_f"),
        "kept_rate": summary.get("avg_kept_rate"),
        "exact_lines_f1": summary.get("exact_lines_f1"),
        "prediction_errors": errors,
    }


def strip_eos(text: str, eos: str) -> str:
    return text[: -len(eos)] if eos and text.endswith(eos) else text


def evaluate(model, tokenizer, records: list[tuple[SftRecord, str]], spec, device) -> dict[str, Any]:
    """Mean response loss (token-weighted) and greedy exact-match rate of the generated output."""
    import torch

    from nextedit.training.batches import collate_sft

    if not records:
        return {}
    model.eval()
    eos = tokenizer.eos_token
    loss_sum, tok_sum = 0.0, 0
    with torch.no_grad():
        for rec, _ in records[: spec.loss_examples]:
            batch = {k: v.to(device) for k, v in collate_sft([rec], tokenizer.pad_token_id).items()}
            n = int((batch["labels"][:, 1:] != -100).sum())
            loss_sum += float(model(**batch).loss) * n
            tok_sum += n
        exact = 0
        gen = records[: spec.generate_examples]
        for rec, expected in gen:
            prompt = torch.tensor([rec.ids[: rec.prompt_len]], device=device)
            out = model.generate(
                input_ids=prompt,
                attention_mask=torch.ones_like(prompt),
                max_new_tokens=spec.max_new_tokens,
                do_sample=False,
                eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id,
            )
            text = tokenizer.decode(out[0, prompt.shape[1] :].tolist(), skip_special_tokens=False)
            exact += strip_eos(text, eos) == strip_eos(expected, eos)
    model.train()
    return {
        "eval_loss": loss_sum / max(1, tok_sum),
        "exact_match": exact / max(1, len(gen)),
        "eval_examples": min(len(records), spec.loss_examples),
        "generated": len(gen),
    }


# ------------------------------------------------------------------------------------- checkpoints
def _rng_state() -> dict[str, Any]:
    import numpy as np
    import torch

    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    import numpy as np
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def generation_config(tokenizer, max_new_tokens: int = 256):
    from transformers import GenerationConfig

    return GenerationConfig(
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        do_sample=False,
        max_new_tokens=max_new_tokens,
    )


def save_checkpoint(out: Path, step: int, model, tokenizer, optimizer, scheduler, data_state, meta) -> Path:
    """Write ``<out>/checkpoint-<step>`` atomically (temp dir + rename) and update ``latest``."""
    import torch

    final = out / f"checkpoint-{step:07d}"
    tmp = out / f".tmp-checkpoint-{step:07d}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    generation_config(tokenizer).save_pretrained(tmp)
    torch.save(
        {
            "step": step,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "rng": _rng_state(),
            "data": data_state,
        },
        tmp / "trainer_state.pt",
    )
    (tmp / "trainer_state.json").write_text(json.dumps({"step": step, **meta}, indent=2) + "\n")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    (out / "latest").write_text(final.name + "\n")
    return final


def latest_checkpoint(out: Path) -> Path | None:
    marker = out / "latest"
    if marker.exists():
        path = out / marker.read_text().strip()
        if (path / "trainer_state.pt").exists():
            return path
    found = sorted(out.glob("checkpoint-*"))
    return found[-1] if found else None


def _prune(out: Path, keep: int, protect: set[str]) -> None:
    found = sorted(out.glob("checkpoint-*"))
    for path in found[: max(0, len(found) - keep)]:
        if path.name not in protect:
            shutil.rmtree(path, ignore_errors=True)


# -------------------------------------------------------------------------------------------- loop
def train(
    recipe: Recipe,
    *,
    out: str | Path | None = None,
    resume: bool = False,
    max_steps: int | None = None,
    progress: TrainProgress | None = None,
) -> dict[str, Any]:
    """Run (or continue) the recipe; returns a summary (steps, tokens, losses, eval, paths).

    ``progress`` hears of the run on the main process (see :mod:`nextedit.training.progress`); this
    function prints nothing."""
    import torch
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    out = Path(out or recipe.out)
    out.mkdir(parents=True, exist_ok=True)
    t = recipe.train
    if t.threads:
        torch.set_num_threads(t.threads)
    cuda = torch.cuda.is_available()
    precision = t.precision if t.precision != "auto" else ("bf16" if cuda else "fp32")
    accelerator = Accelerator(mixed_precision="bf16" if precision == "bf16" else "no", cpu=not cuda)
    set_seed(t.seed)
    is_main = accelerator.is_main_process
    world, rank = accelerator.num_processes, accelerator.process_index
    listener: TrainProgress = progress if (progress is not None and is_main) else NoTrainProgress()

    ckpt = latest_checkpoint(out) if resume else None
    if resume and ckpt is None:
        listener.message(f"[train] --resume: no checkpoint in {out}; starting from step 0")
    if not resume and latest_checkpoint(out) is not None:
        raise FileExistsError(
            f"{out} already has checkpoints; pass --resume to continue or choose another --out"
        )
    tokenizer = prepare_tokenizer(recipe, out)
    model = build_model(recipe, tokenizer, init_from=ckpt)
    n_params = count_parameters(model)
    if is_main:
        (out / "recipe.json").write_text(json.dumps(recipe.to_dict(), indent=2) + "\n")

    decay = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": t.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=t.lr,
        betas=t.betas,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(recipe))
    start_step = 0
    if ckpt is not None:
        state = torch.load(ckpt / "trainer_state.pt", weights_only=False)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        _set_rng_state(state["rng"])
        start_step = int(state["step"])
        if state["data"].get("world", 1) != world:
            raise ValueError(f"checkpoint was written with {state['data']['world']} processes, now {world}")
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)
    device = accelerator.device

    total = recipe.total_steps
    stop = min(total, max_steps) if max_steps is not None else total
    bounds = _phase_bounds(recipe)
    valid = eval_records(recipe, tokenizer, t.seed) if is_main else []
    valid_examples = predict_examples(recipe, t.seed) if is_main else []
    log_path = out / "train_log.jsonl"
    log_f = open(log_path, "a", encoding="utf-8") if is_main else None  # noqa: SIM115

    def log(rec: dict[str, Any]) -> None:
        if log_f is not None:
            log_f.write(json.dumps(rec) + "\n")
            log_f.flush()

    summary: dict[str, Any] = {
        "out": str(out),
        "params": n_params,
        "start_step": start_step,
        "stop_step": stop,
    }
    if is_main:
        log(
            {"event": "start", "step": start_step, "params": n_params, "world": world, "precision": precision}
        )

    phase_idx, stream, position = -1, None, 0
    step = start_step
    tokens_total = 0
    t0 = time.time()
    window_loss, window_n, window_tokens, window_t = 0.0, 0, 0, time.time()
    window_pref: list[tuple[float, float]] = []  # dpo: (chosen, rejected) log-probs of each micro-batch
    reference = None
    best = _read_best(out)
    last_loss = None

    model.train()
    listener.start(stop, start_step)
    try:
        while step < stop:
            idx = _phase_index(bounds, step)
            if idx != phase_idx:
                phase = recipe.phases[idx]
                phase_idx = idx
                stream, info = phase_stream(
                    phase, recipe, tokenizer, seed=t.seed + 1000 * idx, message=listener.message
                )
                position = (step - bounds[idx]) * t.grad_accum * world
                if position:
                    stream = islice(stream, position, None)  # resume: skip consumed batches
                reference = None
                if phase.kind == "dpo":
                    reference = dpo_reference(
                        accelerator.unwrap_model(model), out, idx, at_start=position == 0, is_main=is_main
                    ).to(device)
                if is_main:
                    log(
                        {
                            "event": "phase",
                            "step": step,
                            "phase": phase.name,
                            "skip_batches": position,
                            **info,
                        }
                    )
            for micro in range(t.grad_accum):
                batches = [next(stream) for _ in range(world)]
                position += world
                sync = micro == t.grad_accum - 1
                ctx = accelerator.no_sync(model) if (not sync and world > 1) else _null()
                with ctx:
                    if reference is not None:  # dpo: a list of preference pairs
                        from nextedit.training.preference import dpo_step

                        out_step = dpo_step(model, reference, batches[rank], phase.beta)
                        loss, n_tok = out_step.loss, out_step.tokens * world
                        window_pref.append((out_step.chosen_logp, out_step.rejected_logp))
                    else:
                        batch = {k: v.to(device) for k, v in batches[rank].items()}
                        loss = model(**batch).loss
                        n_tok = int(batch["attention_mask"].sum()) * world
                    accelerator.backward(loss / t.grad_accum)
                window_loss += float(loss.detach())
                window_n += 1
                window_tokens += n_tok
                tokens_total += n_tok
            if t.grad_clip:
                accelerator.clip_grad_norm_(model.parameters(), t.grad_clip)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            if step % t.log_every == 0 or step == stop:
                dt = max(1e-9, time.time() - window_t)
                last_loss = window_loss / max(1, window_n)
                rec = {
                    "step": step,
                    "phase": recipe.phases[phase_idx].name,
                    "loss": round(last_loss, 5),
                    "lr": scheduler.get_last_lr()[0],
                    "tokens_per_s": round(window_tokens / dt, 1),
                    "tokens": tokens_total,
                    "elapsed_s": round(time.time() - t0, 1),
                }
                if window_pref:
                    rec["chosen_logp"] = round(sum(c for c, _ in window_pref) / len(window_pref), 4)
                    rec["rejected_logp"] = round(sum(r for _, r in window_pref) / len(window_pref), 4)
                log(rec)
                listener.logged(rec)
                window_loss, window_n, window_tokens, window_t = 0.0, 0, 0, time.time()
                window_pref = []
            if step % t.checkpoint_every == 0 or step == stop:
                accelerator.wait_for_everyone()
                if is_main:
                    unwrapped = accelerator.unwrap_model(model)
                    ev = evaluate(unwrapped, tokenizer, valid, recipe.eval, device)
                    if valid_examples:
                        ev.update(
                            predict_eval(unwrapped, tokenizer, valid_examples, recipe.eval.predict_format)
                        )
                    if ev:
                        log({"event": "eval", "eval": True, "step": step, **ev})
                    data_state = {"phase": phase_idx, "position": position, "world": world}
                    path = save_checkpoint(
                        out,
                        step,
                        unwrapped,
                        tokenizer,
                        optimizer,
                        scheduler,
                        data_state,
                        {"eval": ev, "train_loss": last_loss, "tokens": tokens_total},
                    )
                    if ev and (best is None or ev["eval_loss"] < best[1]):
                        best = (path.name, ev["eval_loss"])
                        (out / "best").write_text(f"{path.name}\n")
                    _prune(out, t.keep_checkpoints, {best[0]} if best else set())
                    summary["last_eval"] = ev
                accelerator.wait_for_everyone()
    finally:
        listener.finish()
    if log_f is not None:
        log({"event": "end", "step": step, "tokens": tokens_total, "elapsed_s": round(time.time() - t0, 1)})
        log_f.close()
    summary.update(
        {"step": step, "tokens": tokens_total, "elapsed_s": time.time() - t0, "last_loss": last_loss}
    )
    summary["best"] = best[0] if best else None
    return summary


def _read_best(out: Path) -> tuple[str, float] | None:
    marker = out / "best"
    if not marker.exists():
        return None
    name = marker.read_text().strip()
    try:
        meta = json.loads((out / name / "trainer_state.json").read_text())
        return name, float(meta["eval"]["eval_loss"])
    except (OSError, KeyError, TypeError, ValueError):
        return None


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


# ------------------------------------------------------------------------------------------ export
class ExportError(ValueError):
    """An export that would not serve as measured (e.g. no serving config); the message says why."""


def _serving_text(checkpoint: Path, serving: str | Path | None) -> tuple[str | None, Path | None]:
    """The serving.json text to ship and where it came from: ``serving`` (a serving.json file or a
    model directory holding one), else the checkpoint's own; ``(None, None)`` when neither exists.
    Raises :class:`ExportError` for a missing or invalid ``serving`` source."""
    import tempfile

    from nextedit.model.serving import SERVING_FILE, ServingConfig

    if serving is not None:
        src = Path(serving)
        src = src / SERVING_FILE if src.is_dir() else src
        if not src.is_file():
            raise ExportError(f"--serving {serving}: no such file")
    elif (checkpoint / SERVING_FILE).is_file():
        src = checkpoint / SERVING_FILE
    else:
        return None, None
    text = src.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:  # validate exactly what will be shipped
        (Path(tmp) / SERVING_FILE).write_text(text, encoding="utf-8")
        try:
            ServingConfig.load(tmp)
        except ValueError as e:
            raise ExportError(f"{src}: invalid serving config ({e.__cause__ or e})") from e
    return text, src


def export_model(
    checkpoint: str | Path,
    dest: str | Path,
    *,
    base: str | None = None,
    serving: str | Path | None = None,
    default_serving: bool = False,
) -> tuple[Path, Path | None]:
    """Copy everything a model needs to serve as it was measured into ``dest``: weights
    (safetensors), config, generation config, tokenizer and ``serving.json`` (LoRA adapters merged
    into ``base`` first; no optimizer state).

    ``serving.json`` comes from ``serving`` (a file or a model directory) or else the checkpoint.
    Without either, the export is refused (:class:`ExportError`, before anything is written)
    unless ``default_serving``: then the model serves with the engine defaults and a stale
    ``dest/serving.json`` of an earlier model is removed. Returns ``(dest, serving source or None)``.
    """
    from transformers import AutoModelForCausalLM

    from nextedit.model.serving import SERVING_FILE
    from nextedit.model.tokenizer import load_tokenizer

    checkpoint, dest = Path(checkpoint), Path(dest)
    serving_text, serving_src = _serving_text(checkpoint, serving)
    if serving_text is None and not default_serving:
        raise ExportError(
            f"{checkpoint} has no {SERVING_FILE}: the exported model would serve with the engine defaults "
            "(full context window, block decoding, no gate), not as measured. Pass --serving "
            "PATH (a serving.json or a model dir) or --default-serving"
        )
    dest.mkdir(parents=True, exist_ok=True)
    tok = load_tokenizer(checkpoint)
    if (checkpoint / "adapter_config.json").exists():
        from peft import PeftModel

        if base is None:
            base = json.loads((checkpoint / "adapter_config.json").read_text())["base_model_name_or_path"]
        model = PeftModel.from_pretrained(
            AutoModelForCausalLM.from_pretrained(base), str(checkpoint)
        ).merge_and_unload()
    else:
        model = AutoModelForCausalLM.from_pretrained(str(checkpoint), dtype="float32")
    model.save_pretrained(dest, safe_serialization=True)
    tok.save_pretrained(dest)
    generation_config(tok).save_pretrained(dest)
    if serving_text is not None:
        (dest / SERVING_FILE).write_text(serving_text, encoding="utf-8")
    else:
        (dest / SERVING_FILE).unlink(missing_ok=True)
    return dest, serving_src


os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
