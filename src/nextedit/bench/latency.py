"""`nextedit bench latency`: end-to-end latency of the prediction path on held-out examples.

End to end = request JSON → validated ``Zeta2PromptInput`` → region choice + prompt → model →
parse → minimal edits. Each example is sent twice by the same client: *cold* (nothing cached) and
*warm* (the user typed one more character at the cursor, so the prefix KV cache of the previous
request covers the stable start of the prompt). Runs with and without speculative decoding, with
the other core idle and, with ``--busy``, with a busy-looping process on it; each run starts after
a few unmeasured warm-up requests, so the first run is not charged with the process's warm-up.

Forward passes per output token are reported over all outputs, over *long* outputs (≥ 16 tokens)
and over *copy-heavy* outputs: long ones of which at least half the tokens lie in a 4-gram of the
prompt (``copied_tokens``), which is what prompt-lookup drafting can speed up. Decoding is lossless,
so greedy decoding makes the same outputs at exactly one pass per token.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from nextedit.errors import NexteditError
from nextedit.metrics.report import percentile
from nextedit.prompts.registry import DEFAULT_FORMAT
from nextedit.schema.request import Zeta2PromptInput

LONG_OUTPUT_TOKENS = 16
COPY_HEAVY_SHARE = 0.5  # of a long output's tokens in 4-grams of the prompt
WARMUP_REQUESTS = 3


def _busy_loop() -> None:  # pragma: no cover - runs in a child process
    x = 0
    while True:
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF


@dataclass
class RunStats:
    label: str
    e2e_ms: list[float] = field(default_factory=list)
    stage_ms: dict[str, list[float]] = field(default_factory=dict)
    forward_passes: int = 0
    completion_tokens: int = 0
    long_passes: int = 0
    long_tokens: int = 0
    copy_heavy_passes: int = 0
    copy_heavy_tokens: int = 0
    drafted: int = 0
    accepted: int = 0
    model_s: float = 0.0
    errors: int = 0

    def row(self) -> dict[str, Any]:
        e = self.e2e_ms or [0.0]
        return {
            "run": self.label,
            "n": len(self.e2e_ms),
            "p50_ms": percentile(e, 50),
            "p95_ms": percentile(e, 95),
            "p99_ms": percentile(e, 99),
            "mean_ms": statistics.fmean(e),
            "passes_per_token": self.forward_passes / max(1, self.completion_tokens),
            "long_passes_per_token": self.long_passes / max(1, self.long_tokens),
            "copy_heavy_passes_per_token": self.copy_heavy_passes / max(1, self.copy_heavy_tokens),
            "copy_heavy_tokens": self.copy_heavy_tokens,
            "tokens_per_s": self.completion_tokens / self.model_s if self.model_s else 0.0,
            "draft_acceptance": self.accepted / self.drafted if self.drafted else 0.0,
            "unparseable": self.errors,
            **{f"{k}_p50_ms": percentile(v, 50) for k, v in self.stage_ms.items()},
        }


def typed_one_more(request: Zeta2PromptInput) -> Zeta2PromptInput:
    """The same request after the user typed one character at the cursor (the byte before it,
    or a space), with every excerpt range after the cursor shifted by one byte."""
    data = request.excerpt_bytes()
    c = request.cursor_offset_in_excerpt
    ch = data[c - 1 : c] if c > 0 and data[c - 1 : c].isascii() and data[c - 1 : c] != b"\n" else b" "
    new = data[:c] + ch + data[c:]
    body = request.to_zed_json()
    body["cursor_excerpt"] = new.decode()
    body["cursor_offset_in_excerpt"] = c + 1

    def shift(r: dict[str, int]) -> dict[str, int]:
        return {
            "start": r["start"] + (1 if r["start"] > c else 0),
            "end": r["end"] + (1 if r["end"] >= c else 0),
        }

    if body.get("excerpt_ranges"):
        body["excerpt_ranges"] = {k: shift(v) for k, v in body["excerpt_ranges"].items() if v}
    if body.get("syntax_ranges"):
        body["syntax_ranges"] = [shift(r) for r in body["syntax_ranges"]]
    return Zeta2PromptInput.model_validate(body)


def load_requests(inputs: list[str], limit: int) -> list[Zeta2PromptInput]:
    from nextedit.context.example_request import example_request
    from nextedit.io.inputs import read_examples

    out: list[Zeta2PromptInput] = []
    for ex in read_examples(inputs, on_error=lambda msg: None):
        try:
            out.append(example_request(ex))
        except Exception:  # noqa: BLE001 - a broken example is skipped, counted below
            continue
        if len(out) >= limit:
            break
    return out


def run_once(provider: Any, request_json: str, stats: RunStats, cache_key: str) -> None:
    from nextedit.prompts.edits import compute_edits

    t0 = time.perf_counter()
    request = Zeta2PromptInput.model_validate_json(request_json)
    t_req = time.perf_counter()
    pred = provider.predict(request, cache_key=cache_key)
    t_pred = time.perf_counter()
    s, e = pred.editable_range
    old = request.excerpt_bytes()[s:e].decode(errors="replace")
    compute_edits(old, pred.output, pred.cursor_offset)
    t1 = time.perf_counter()
    stats.e2e_ms.append(1000 * (t1 - t0))
    st = pred.stats
    stages = {
        "request": 1000 * (t_req - t0),
        "prompt": st.get("prompt_ms", 0.0),
        "model": st.get("model_ms", 1000 * (t_pred - t_req)),
        "parse": st.get("parse_ms", 0.0),
        "edits": 1000 * (t1 - t_pred),
    }
    for k, v in stages.items():
        stats.stage_ms.setdefault(k, []).append(v)
    n = int(st.get("completion_tokens") or 0)
    passes = int(st.get("forward_passes") or 0)
    stats.forward_passes += passes
    stats.completion_tokens += n
    if n >= LONG_OUTPUT_TOKENS:
        stats.long_passes += passes
        stats.long_tokens += n
        if int(st.get("copied_tokens") or 0) >= COPY_HEAVY_SHARE * n:
            stats.copy_heavy_passes += passes
            stats.copy_heavy_tokens += n
    stats.drafted += int(st.get("drafted_tokens") or 0)
    stats.accepted += int(st.get("accepted_tokens") or 0)
    stats.model_s += stages["model"] / 1000
    if pred.error:
        stats.errors += 1


def bench_latency(
    model: str | None,
    inputs: list[str],
    *,
    limit: int = 50,
    prompt_format: str = DEFAULT_FORMAT,
    busy: bool = False,
    threads: int = 1,
    modes: tuple[bool, ...] = (True, False),
    max_output_tokens: int = 64,
    decode: str | None = None,
) -> list[dict[str, Any]]:
    """Run the benchmark; return one row of figures per (speculative, cold/warm, idle/busy) run.
    The model directory's ``serving.json`` applies (window, copy margin, gate, decode mode);
    ``decode`` overrides its decode mode (``block`` shows speculative decoding on whole spans)."""
    from nextedit.model.engine import DEFAULT_MODEL_DIR, Engine
    from nextedit.model.serving import ServingConfig
    from nextedit.predict.local import LocalModel
    from nextedit.predict.model_provider import ModelProvider

    requests = load_requests(inputs, limit)
    if not requests:
        raise NexteditError(f"no usable examples in {', '.join(inputs)}")
    serving = ServingConfig.load(model or DEFAULT_MODEL_DIR)
    engine = Engine.load(
        model, threads=threads, context_window=serving.context_window, copy_margin=serving.copy_margin
    )
    rows: list[dict[str, Any]] = []
    loads = [False, True] if busy else [False]
    for loaded in loads:
        proc = None
        if loaded:
            proc = mp.get_context("spawn").Process(target=_busy_loop, daemon=True)
            proc.start()
        try:
            for spec in modes:
                engine.speculative = spec
                local = LocalModel(model or DEFAULT_MODEL_DIR, prompt_format, engine=engine, decode=decode)
                provider = ModelProvider(local, max_output_tokens)
                cold = RunStats(f"{'spec' if spec else 'greedy'}/cold/{'busy' if loaded else 'idle'}")
                warm = RunStats(f"{'spec' if spec else 'greedy'}/warm/{'busy' if loaded else 'idle'}")
                for i, req in enumerate(requests[:WARMUP_REQUESTS]):
                    run_once(provider, json.dumps(req.to_zed_json()), RunStats("warm-up"), f"warm-up-{i}")
                engine.prefix_cache.clear()
                for i, req in enumerate(requests):
                    key = f"bench-{spec}-{loaded}-{i}"
                    run_once(provider, json.dumps(req.to_zed_json()), cold, key)
                    run_once(provider, json.dumps(typed_one_more(req).to_zed_json()), warm, key)
                rows += [{**stats.row(), "decode": local.decode} for stats in (cold, warm)]
        finally:
            if proc is not None:
                proc.terminate()
                proc.join()
    return rows


def default_inputs() -> list[str]:
    """The test split of the default dataset when built (``<data dir>/default/test.jsonl``), else
    ``./examples`` (see :mod:`nextedit.paths`)."""
    from nextedit.paths import data_dir, examples_dir

    test = data_dir() / "default" / "test.jsonl"
    return [str(test)] if test.exists() else [str(examples_dir())]
