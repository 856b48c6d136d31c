"""The single internal predictor every protocol adapter goes through.

Two request kinds, two backend kinds:

* ``predict(request)`` — a ``Zeta2PromptInput`` (native ``/predict_edits/v3``): with a model
  (local :class:`~nextedit.model.engine.Engine` or a remote completions backend) the server
  resolves the region and builds the prompt (:mod:`nextedit.prompts`), generates with the format's
  stop tokens and parses the output; with a non-neural provider (``heuristic``...) it calls
  ``provider.predict_request``.
* ``complete(prompt)`` — a raw prompt already formatted by the editor (``/v1/completions``,
  ``/api/generate``): a model generates from it directly; a non-neural provider gets the request
  recovered from the prompt (``PromptFormat.parse_prompt``) and its prediction is encoded back
  into the text the format's parser expects, so Zed accepts it.

Every call returns its own stage timings in **milliseconds** (prompt, model, parse).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from nextedit.predict.base import CancelToken, EditPrediction
from nextedit.server.config import ModelSpec
from nextedit.server.errors import BadRequest, ModelError

#: Marker strings that identify the prompt formats Zed sends to custom providers (§1.7, §2.7).
ZETA1_MARKERS = ("<|editable_region_start|>", "### Instruction:")
SEED_MIDDLE = "<[fim-middle]>"
MERGE_CURRENT = "<<<<<<< CURRENT\n"
MARKER_PREFIX = "<|marker_"


def detect_format(prompt: str) -> str | None:
    """``zeta`` | ``zeta2`` | ``zeta2_1`` from the prompt's markers, else ``None``."""
    if all(m in prompt for m in ZETA1_MARKERS):
        return "zeta"
    if SEED_MIDDLE in prompt:
        if MERGE_CURRENT in prompt:
            return "zeta2"
        if MARKER_PREFIX in prompt:
            return "zeta2_1"
    return None


def estimate_tokens(text: str | None) -> int:
    """Zed's token estimate: UTF-8 bytes // 3."""
    return len(text.encode("utf-8")) // 3 if text else 0


def apply_stop(text: str, stop: list[str]) -> tuple[str, bool]:
    """Cut ``text`` at the earliest stop string (excluded, like OpenAI servers)."""
    cuts = [text.find(s) for s in stop if s and s in text]
    if not cuts:
        return text, False
    return text[: min(cuts)], True


def truncate_tokens(text: str, max_tokens: int) -> tuple[str, bool]:
    """Keep at most ``max_tokens * 3`` bytes (the estimate's inverse), on a character boundary."""
    data = text.encode("utf-8")
    limit = max_tokens * 3
    if len(data) <= limit:
        return text, False
    return data[:limit].decode("utf-8", errors="ignore"), True


def _range(r: Any) -> tuple[int, int]:
    if isinstance(r, tuple | list):
        return int(r[0]), int(r[1])
    return int(r.start), int(r.end)


@dataclass
class Outcome:
    timings: dict[str, float] = field(default_factory=dict)  # ms
    prompt_tokens: int = 0
    completion_tokens: int = 0
    spec_drafted: int | None = None
    spec_accepted: int | None = None
    prompt: str | None = None
    raw_output: str | None = None
    prompt_format: str | None = None


@dataclass
class EditOutcome(Outcome):
    prediction: EditPrediction | None = None


@dataclass
class TextOutcome(Outcome):
    text: str = ""
    finish_reason: str = "stop"


class Predictor:
    """One loaded model. Thread-compatible: called from that model's worker threads."""

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.provider: Any = None
        self.engine: Any = None
        p = spec.provider
        if p.startswith(("openai-compatible:", "remote:")):
            from nextedit.server.remote import RemoteEngine

            self.engine = RemoteEngine(p.split(":", 1)[1], spec.remote_model, timeout_s=spec.timeout_s)
        else:
            from nextedit.predict.registry import get_provider

            self.provider = get_provider(p)
            engine = getattr(self.provider, "engine", None)
            if engine is not None and callable(getattr(engine, "generate", None)):
                self.engine = engine
        self.kind = "model" if self.engine is not None else "provider"

    @property
    def model_version(self) -> str:
        return self.spec.model_version

    def _format(self, name: str | None = None) -> Any:
        from nextedit.prompts import get_format

        return get_format(name or self.spec.prompt_format)

    # ------------------------------------------------------------------ native requests
    def predict(self, request: Any, *, cancel: CancelToken, cache_key: str | None = None) -> EditOutcome:
        if self.engine is None:
            return self._predict_with_provider(request, cancel)
        fmt = self._format()
        out = EditOutcome(prompt_format=fmt.name)
        t0 = time.perf_counter()
        fp = fmt.format_prompt(request)
        t1 = time.perf_counter()
        out.timings["prompt"] = (t1 - t0) * 1000
        if fp is None:  # over the format's prompt budget: Zed makes no request; we answer "no edit"
            out.prediction = EditPrediction("", (0, 0), error="prompt over the format's token budget")
            return out
        prefill = getattr(fp, "prefill", "") or ""
        prompt = fp.prompt + prefill
        out.prompt = prompt
        result = self.engine.generate(
            prompt, max_tokens=self.spec.max_tokens, stop=list(fmt.stop_tokens), cancel=cancel, cache_key=cache_key
        )
        t2 = time.perf_counter()
        out.timings["model"] = (t2 - t1) * 1000
        self._fill_generation_stats(out, result)
        raw = prefill + result.text
        out.raw_output = raw
        parsed = fmt.parse_output(request, raw)
        new_region = getattr(parsed, "new_editable_region", None)
        if new_region is None:
            reason = getattr(parsed, "reason", None) or getattr(parsed, "error", None) or "unparseable output"
            out.prediction = EditPrediction("", (0, 0), raw_output=raw, error=str(reason))
        else:
            out.prediction = EditPrediction(
                output=new_region,
                editable_range=_range(parsed.range_in_excerpt),
                cursor_offset=getattr(parsed, "cursor_offset_in_new_region", None),
                raw_output=raw,
                model_version=self.model_version,
            )
        out.timings["parse"] = (time.perf_counter() - t2) * 1000
        return out

    def _predict_with_provider(self, request: Any, cancel: CancelToken) -> EditOutcome:
        t0 = time.perf_counter()
        pred = self.provider.predict_request(request, cancel=cancel)
        total = (time.perf_counter() - t0) * 1000
        out = EditOutcome(prediction=pred, prompt_format=None)
        stats = pred.stats or {}
        stage = {k: float(stats[f"{k}_ms"]) for k in ("prompt", "model", "parse") if f"{k}_ms" in stats}
        out.timings = stage or {"model": total}
        out.prompt_tokens = int(stats.get("prompt_tokens") or estimate_tokens(request.cursor_excerpt))
        out.completion_tokens = int(stats.get("completion_tokens") or estimate_tokens(pred.output))
        out.raw_output = pred.raw_output
        return out

    @staticmethod
    def _fill_generation_stats(out: Outcome, result: Any) -> None:
        out.prompt_tokens = int(result.prompt_tokens or 0)
        out.completion_tokens = int(result.completion_tokens or 0)
        stats = getattr(result, "stats", None) or {}
        if "drafted_tokens" in stats:
            out.spec_drafted = int(stats["drafted_tokens"])
            out.spec_accepted = int(stats.get("accepted_tokens") or 0)

    # ------------------------------------------------------------------ raw prompts
    def complete(
        self,
        prompt: str,
        *,
        max_tokens: int,
        stop: list[str],
        cancel: CancelToken,
        cache_key: str | None = None,
    ) -> TextOutcome:
        fmt_name = detect_format(prompt)
        if self.engine is not None:
            out = TextOutcome(prompt_format=fmt_name, prompt=prompt)
            t0 = time.perf_counter()
            result = self.engine.generate(prompt, max_tokens=max_tokens, stop=stop, cancel=cancel, cache_key=cache_key)
            out.timings["model"] = (time.perf_counter() - t0) * 1000
            self._fill_generation_stats(out, result)
            out.text, hit = apply_stop(result.text, stop)  # engines honour stop; be safe with remotes
            out.finish_reason = "stop" if hit else result.finish_reason
            out.raw_output = out.text
            return out
        if fmt_name is None:
            raise BadRequest(
                f"model {self.spec.name!r} (provider {self.spec.provider!r}) only understands prompts in the "
                "zeta, zeta2 or zeta2_1 formats, and this prompt has none of their markers"
            )
        return self._complete_with_provider(prompt, fmt_name, max_tokens=max_tokens, stop=stop, cancel=cancel)

    def _complete_with_provider(
        self, prompt: str, fmt_name: str, *, max_tokens: int, stop: list[str], cancel: CancelToken
    ) -> TextOutcome:
        from nextedit.server.raw_prompts import encode_prediction, request_from_prompt

        out = TextOutcome(prompt_format=fmt_name, prompt=prompt)
        fmt = self._format(fmt_name)
        t0 = time.perf_counter()
        try:
            recovered = request_from_prompt(fmt, prompt)
        except Exception as e:  # noqa: BLE001 - any failure to read the prompt is the prompt's fault
            raise BadRequest(f"cannot read the {fmt_name} prompt: {type(e).__name__}: {e}") from None
        t1 = time.perf_counter()
        pred = self.provider.predict_request(recovered.request, cancel=cancel)
        t2 = time.perf_counter()
        try:
            text = encode_prediction(fmt, recovered, pred)
        except ValueError as e:
            raise ModelError(f"cannot encode the prediction as {fmt_name} output: {e}") from e
        text, hit = apply_stop(text, stop)
        text, cut = truncate_tokens(text, max_tokens)
        out.timings = {"prompt": (t1 - t0) * 1000, "model": (t2 - t1) * 1000, "parse": (time.perf_counter() - t2) * 1000}
        out.text = text
        out.finish_reason = "length" if cut else "stop"
        out.raw_output = text
        out.prompt_tokens = estimate_tokens(prompt)
        out.completion_tokens = estimate_tokens(text)
        return out

    def close(self) -> None:
        closer = getattr(self.engine, "close", None) or getattr(self.provider, "close", None)
        if callable(closer):
            closer()
