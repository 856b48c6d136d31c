"""The inference engine on the prediction path: greedy decoding for any HF causal LM, with
prompt-lookup speculative decoding, per-client prefix KV-cache reuse, stop strings, max tokens and
cancellation between forward passes.

One forward pass does all of: prefill of the uncached prompt tail + verification of a draft. Per
step the cache holds every token but the last one generated; the step feeds that token plus the
draft, accepts the longest draft prefix the model agrees with, adds the model's own next token,
and crops the rejected draft tokens from the cache.

    engine = Engine.load(default_model_dir())   # the shipped model, or $NEXTEDIT_MODEL_DIR
    result = engine.generate(prompt, max_tokens=256, stop=["<[end▁of▁sentence]>"], cache_key="client-1")
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nextedit.model.prefix_cache import CacheEntry, PrefixCache, common_prefix_len
from nextedit.model.speculative import PromptLookupDrafter, copied_tokens
from nextedit.paths import default_model_dir
from nextedit.schema.cancel import Canceled, CancelToken

COPY_STAT_MIN_TOKENS = 16  # outputs this long report how much of them copies the prompt
TRUNCATE_STEP = 128  # granularity of the left cut of over-long prompts (keeps prefix caches valid)
DEFAULT_MODEL_DIR = default_model_dir()  # $NEXTEDIT_MODEL_DIR or the shipped model (see nextedit.paths)


@dataclass
class GenerationResult:
    """Text generated after the prompt (stop string excluded) and how it was produced."""

    text: str
    finish_reason: str  # "stop" (eos or stop string) | "length" | "low_confidence"
    prompt_tokens: int
    completion_tokens: int
    stats: dict[str, Any] = field(default_factory=dict)
    token_ids: list[int] = field(default_factory=list)
    token_logprobs: list[float] = field(default_factory=list)  # log-prob of each of token_ids


def logprob_stats(logprobs: list[float]) -> dict[str, float]:
    """Confidence statistics of generated tokens (what :class:`nextedit.model.serving.ConfidenceGate`
    measures); all 0.0 for an empty list."""
    return {
        "min_logprob": min(logprobs, default=0.0),
        "first_logprob": logprobs[0] if logprobs else 0.0,
        "mean_logprob": (sum(logprobs) / len(logprobs)) if logprobs else 0.0,
    }


def is_looping(ids: list[int], repeats: int, max_period: int = 8) -> bool:
    """True if ``ids`` ends with a block of ≤ ``max_period`` tokens repeated ``repeats`` times in a
    row: a degenerate loop (``1, 1, 1, …``) that greedy decoding never leaves. Stopping there
    saves the rest of the token budget; the unfinished output is then reported as unparseable."""
    for period in range(1, max_period + 1):
        span = period * repeats
        if len(ids) < span:
            break
        block = ids[-period:]
        if all(ids[-span + k * period : -span + (k + 1) * period] == block for k in range(repeats - 1)):
            return True
    return False


class Engine:
    """Greedy generator around a loaded model and tokenizer (CPU by default).

    Thread-safe: concurrent :meth:`generate` calls share the (read-only) weights and run their
    forward passes in parallel (torch releases the GIL inside kernels; one torch thread each, one
    caller per core); each call owns its KV cache (a client's cached prefix is *taken* from the
    prefix cache, so two calls never touch the same one)."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        speculative: bool = True,
        max_draft: int = 8,
        cache_entries: int = 64,
        name: str = "model",
        repetition_stop: int = 6,
        copy_margin: float | None = None,
        max_draft_grow: int = 32,
    ) -> None:
        import torch

        self.torch = torch
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.speculative = speculative
        self.max_draft = max_draft
        self.prefix_cache = PrefixCache(cache_entries)
        self.name = name
        self.repetition_stop = repetition_stop
        self.copy_margin = copy_margin
        self.max_draft_grow = max_draft_grow  # drafts grow to this length while fully accepted
        self.device = next(model.parameters()).device
        self.eos_ids = self._eos_ids()
        self._stop_cache: dict[tuple[str, ...], set[int]] = {}
        self.max_positions = int(getattr(model.config, "max_position_embeddings", 1 << 30))

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        *,
        threads: int | None = None,
        device: str | None = None,
        speculative: bool = True,
        max_draft: int = 8,
        context_window: int | None = None,
        copy_margin: float | None = None,
        lean: bool = True,
    ) -> Engine:
        """Load a local HF checkpoint directory (default: :data:`DEFAULT_MODEL_DIR`).
        ``context_window`` caps prompt + output tokens below the model's position limit.
        ``lean``: run Llama/Qwen2 checkpoints on the CPU through :mod:`nextedit.model.lean` (same
        weights, less overhead per forward pass); other models keep the transformers forward."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from nextedit.model.lean import lean_model

        path = Path(path) if path else DEFAULT_MODEL_DIR
        if not (path / "config.json").exists():
            raise FileNotFoundError(f"{path}: not a model directory (no config.json)")
        n = threads if threads is not None else int(os.environ.get("NEXTEDIT_THREADS", "1"))
        torch.set_num_threads(max(1, n))
        dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.bfloat16 if dev.startswith("cuda") else torch.float32
        tokenizer = AutoTokenizer.from_pretrained(str(path))
        model = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype).to(dev)
        engine = cls(
            (lean_model(model, release=True) if lean else None) or model,
            tokenizer,
            speculative=speculative,
            max_draft=max_draft,
            name=path.name,
            copy_margin=copy_margin,
        )
        if context_window:
            engine.max_positions = min(engine.max_positions, int(context_window))
        return engine

    def _eos_ids(self) -> set[int]:
        ids: set[int] = set()
        eos = getattr(self.tokenizer, "eos_token_id", None)
        if eos is not None:
            ids.add(int(eos))
        gen_eos = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        if isinstance(gen_eos, int):
            ids.add(gen_eos)
        elif isinstance(gen_eos, list):
            ids.update(int(x) for x in gen_eos)
        return ids

    # ------------------------------------------------------------------ helpers
    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)

    def _new_cache(self) -> Any:
        """An empty KV cache for the model (the lean model brings its own kind)."""
        new_cache = getattr(self.model, "new_cache", None)
        if new_cache is not None:
            return new_cache()
        from transformers import DynamicCache

        return DynamicCache(config=self.model.config)

    def _stop_ids(self, stop: list[str]) -> set[int]:
        """Stop strings that are single tokens are matched by id (cheap); the rest by text.
        Memoized per stop list: a server asks with the same few lists on every request."""
        key = tuple(stop)
        cached = self._stop_cache.get(key)
        if cached is not None:
            return cached
        out = set(self.eos_ids)
        for s in stop:
            ids = self.encode(s)
            if len(ids) == 1 and self.decode(ids) == s:
                out.add(ids[0])
        if len(self._stop_cache) < 64:
            self._stop_cache[key] = out
        return out

    def _forward(
        self,
        input_ids: list[int],
        cache: Any,
        n_logits: int,
        constraint: Any = None,
        generated: list[int] | None = None,
        draft: list[int] | None = None,
        copy_margin: float | None = None,
    ) -> tuple[list[int], list[float]]:
        """Run the model on ``input_ids``; return the chosen next token for the last ``n_logits``
        positions and its log-probability under the model's unconstrained distribution.

        Position j continues ``generated + draft[:j]``. The choice is the greedy token under
        ``constraint``; with ``copy_margin``, the draft token ``draft[j]`` wins instead when the
        model rates it at most ``copy_margin`` nats below its favourite (copy-biased decoding).
        """
        torch = self.torch
        x = torch.tensor([input_ids], dtype=torch.long, device=self.device)
        out = self.model(input_ids=x, cache=cache, use_cache=True, logits_to_keep=n_logits)
        logp = out.logits[0].float().log_softmax(-1)
        draft = draft or []
        if constraint is None:
            preds = logp.argmax(-1)
            if copy_margin is not None and draft:
                k = len(draft)
                d = torch.tensor(draft, device=logp.device)
                rows = torch.arange(k, device=logp.device)
                take = logp[rows, d] >= logp[rows, preds[:k]] - copy_margin
                preds[:k] = torch.where(take, d, preds[:k])
        else:
            chosen: list[int] = []
            for j in range(logp.shape[0]):
                allowed, banned = constraint((generated or []) + draft[:j])
                row = logp[j]
                if allowed is not None:
                    idx = torch.tensor(sorted(allowed), device=row.device)
                    best = int(idx[row[idx].argmax()])
                elif banned:
                    masked = row.clone()
                    masked[torch.tensor(sorted(banned), device=row.device)] = float("-inf")
                    best = int(masked.argmax())
                else:
                    best = int(row.argmax())
                if copy_margin is not None and j < len(draft):
                    dj = draft[j]
                    ok = (allowed is None or dj in allowed) and dj not in banned
                    if ok and float(row[dj]) >= float(row[best]) - copy_margin:
                        best = dj
                chosen.append(best)
            preds = torch.tensor(chosen, device=logp.device)
        logprobs = logp.gather(-1, preds[:, None])[:, 0]
        return preds.tolist(), logprobs.tolist()

    # ------------------------------------------------------------------ generation
    def generate(
        self,
        prompt: str | list[int],
        max_tokens: int = 256,
        stop: list[str] | None = None,
        *,
        cancel: CancelToken | None = None,
        cache_key: str | None = None,
        speculative: bool | None = None,
        draft_from: int | None = None,
        constraint: Any = None,
        min_logprob: float | None = None,
        copy_margin: float | None = None,
    ) -> GenerationResult:
        """Greedy-decode after ``prompt``. ``cache_key`` enables prefix reuse across calls;
        ``draft_from`` is a token index where prompt lookup searches first (the editable region);
        ``constraint`` (see :mod:`nextedit.model.constraints`) restricts the tokens chosen.
        ``min_logprob``: stop as soon as a generated token is less likely than this (finish reason
        ``"low_confidence"``): a confidence gate on the minimum would discard the answer anyway.
        ``copy_margin`` (speculative decoding only; default: the engine's): accept a drafted copy
        token unless the model prefers another one by more than this many nats. Next-edit answers
        are mostly copies of the editable region, and a small model's copying is its weak point:
        the bias keeps unchanged text unchanged and accepts longer drafts (fewer forward passes).
        Raises :class:`Canceled` if ``cancel`` fires between forward passes."""
        stop = stop or []
        copy_margin = self.copy_margin if copy_margin is None else copy_margin

        t0 = time.perf_counter()
        prompt_ids = self.encode(prompt) if isinstance(prompt, str) else list(prompt)
        if not prompt_ids:
            raise ValueError("empty prompt")
        # A prompt longer than the model's window loses its start (as in training, see
        # training/batches.py): the editable region sits at the end of every supported layout. The cut
        # is rounded up to a multiple of TRUNCATE_STEP tokens so that the next keystroke's prompt
        # (a few tokens longer) is usually cut at the same place and its prefix cache still applies.
        truncated = max(0, len(prompt_ids) + max_tokens - self.max_positions)
        if truncated:
            truncated = min(-(-truncated // TRUNCATE_STEP) * TRUNCATE_STEP, len(prompt_ids) - 1)
            prompt_ids = prompt_ids[truncated:]
        max_tokens = max(0, min(max_tokens, self.max_positions - len(prompt_ids)))
        stop_ids = self._stop_ids(stop)
        text_stops = [s for s in stop if s]
        use_spec = self.speculative if speculative is None else speculative
        drafter = (
            PromptLookupDrafter(self.max_draft, search_start=draft_from or 0, grow_to=self.max_draft_grow)
            if use_spec
            else None
        )

        # -- prefix cache: reuse the longest common token prefix of this client's previous run
        entry = self.prefix_cache.take(cache_key) if cache_key else None
        reused = 0
        if entry is not None:
            reused = min(common_prefix_len(entry.token_ids, prompt_ids), len(prompt_ids) - 1)
            cache = entry.cache
            extra = cache.get_seq_length() - reused
            if reused <= 0:
                cache = self._new_cache()
                reused = 0
            elif extra > 0:
                cache.crop(-extra)
        else:
            cache = self._new_cache()

        ids = list(prompt_ids)
        pending = ids[reused:]  # tokens not yet in the cache (at least one)
        generated: list[int] = []
        logprobs: list[float] = []  # of each generated token (stop token excluded)
        forward_passes = drafted = accepted = 0
        finish = "length"
        stopped_by = None
        first_token_ms = None
        with self.torch.inference_mode():
            while len(generated) < max_tokens:
                if cancel is not None and cancel.canceled:
                    raise Canceled()
                budget = max_tokens - len(generated) - 1
                draft = drafter.draft(ids, budget) if drafter is not None else []
                preds, lps = self._forward(
                    pending + draft, cache, len(draft) + 1, constraint, generated, draft, copy_margin
                )
                forward_passes += 1
                if first_token_ms is None:
                    first_token_ms = 1000 * (time.perf_counter() - t0)
                n_ok = 0
                while n_ok < len(draft) and draft[n_ok] == preds[n_ok]:
                    n_ok += 1
                new = draft[:n_ok] + [preds[n_ok]]
                new_lps = lps[: n_ok + 1]
                drafted += len(draft)
                accepted += n_ok
                if len(draft) > n_ok:
                    cache.crop(-(len(draft) - n_ok))
                stop_hit = False
                for j, tok in enumerate(new):
                    if tok in stop_ids:
                        new = new[:j]
                        new_lps = new_lps[:j]
                        stop_hit = True
                        break
                ids.extend(new)
                generated.extend(new)
                logprobs.extend(new_lps)
                pending = [ids[-1]] if new else []
                if drafter is not None and new:
                    drafter.advance(ids, len(new))
                if stop_hit:
                    finish = "stop"
                    break
                if min_logprob is not None and new_lps and min(new_lps) < min_logprob:
                    finish = "low_confidence"
                    break
                if self.repetition_stop:
                    # check every new prefix so speculative and plain decoding stop at the same token
                    start = len(generated) - len(new)
                    cut = next(
                        (
                            k
                            for k in range(start + 1, len(generated) + 1)
                            if is_looping(generated[:k], self.repetition_stop)
                        ),
                        None,
                    )
                    if cut is not None:
                        drop = len(generated) - cut
                        if drop:
                            del generated[cut:]
                            del logprobs[cut:]
                            del ids[len(ids) - drop :]
                        finish = "stop"
                        stopped_by = "repetition"
                        break
                if text_stops:
                    text = self.decode(generated)
                    if any(s in text for s in text_stops):
                        finish = "stop"
                        break
                if not pending:
                    break
        text = self.decode(generated)
        if text_stops:
            cut = min((text.find(s) for s in text_stops if s in text), default=-1)
            if cut >= 0:
                text = text[:cut]
                finish = "stop"
        if cache_key:
            # keep the cache consistent with ids: a stop inside an accepted draft left extra tokens
            excess = cache.get_seq_length() - len(ids)
            if excess > 0:
                cache.crop(-excess)
            self.prefix_cache.put(cache_key, CacheEntry(ids[: cache.get_seq_length()], cache))
        total_ms = 1000 * (time.perf_counter() - t0)
        n_out = len(generated)
        return GenerationResult(
            text=text,
            finish_reason=finish,
            prompt_tokens=len(prompt_ids),
            completion_tokens=n_out,
            token_ids=generated,
            token_logprobs=logprobs,
            stats={
                **logprob_stats(logprobs),
                "forward_passes": forward_passes,
                "drafted_tokens": drafted,
                "accepted_tokens": accepted,
                "reused_prefix_tokens": reused,
                "truncated_prompt_tokens": truncated,
                "stopped_by": stopped_by,
                "prefilled_tokens": len(prompt_ids) - reused,
                "copied_tokens": (
                    copied_tokens(prompt_ids, generated) if n_out >= COPY_STAT_MIN_TOKENS else None
                ),
                "first_token_ms": first_token_ms,
                "model_ms": total_ms,
                "tokens_per_s": (n_out / (total_ms / 1000)) if total_ms > 0 else 0.0,
            },
        )
