"""The single internal predictor every protocol adapter goes through.

Two request kinds, two backend kinds:

* ``predict(request)`` — a ``Zeta2PromptInput`` (native ``/predict_edits/v3``): a model provider
  (:class:`nextedit.predict.model_provider.ModelProvider`: the local engine or a remote completions
  backend) resolves the region, builds the prompt in the model's ``prompt_format``, generates with
  the format's stop tokens (per-client prefix-cache key) and parses; a non-neural provider
  (``heuristic``...) answers directly.
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
from nextedit.server.config import ServedModel
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


def _count(stats: dict[str, Any], key: str, text: str | None) -> int:
    """The token count a model reported (0 included), else Zed's estimate from ``text``."""
    value = stats.get(key)
    return int(value) if value is not None else estimate_tokens(text)


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
    answered_by: str | None = None  # which provider of a hybrid answered


@dataclass
class EditOutcome(Outcome):
    prediction: EditPrediction | None = None


@dataclass
class TextOutcome(Outcome):
    text: str = ""
    finish_reason: str = "stop"


def make_provider(spec: ServedModel) -> Any:
    """The provider object for ``spec``: model providers get the spec's prompt format and limits."""
    kind, _, arg = spec.provider.partition(":")
    max_output_tokens = max(1, -(-spec.max_tokens // 4))  # the format asks for 4x this many tokens
    if kind == "openai-compatible" and arg:
        from nextedit.predict.openai_compatible import OpenAICompatibleProvider

        return OpenAICompatibleProvider(
            arg,
            spec.prompt_format,
            model=spec.remote_model or "default",
            max_output_tokens=max_output_tokens,
            timeout_s=spec.timeout_s,
        )
    if kind in ("local", "hybrid"):
        from nextedit.predict.local import LocalProvider

        model = LocalProvider(arg or None, spec.prompt_format, max_output_tokens=max_output_tokens)
        if kind == "hybrid":
            from nextedit.predict.hybrid import HybridProvider

            return HybridProvider(model)
        return model
    from nextedit.predict.registry import get_provider

    return get_provider(spec.provider)


def is_model_provider(provider: Any) -> bool:
    """Model providers generate text (``complete``) from prompts in their ``format``."""
    return callable(getattr(provider, "complete", None)) and getattr(provider, "format", None) is not None


class Predictor:
    """One loaded model. Thread-compatible: called from that model's worker threads.

    A ``hybrid`` provider is taken apart: its cheap ``first`` provider answers before the queue
    (:meth:`predict_first`, :meth:`complete_first`, called by the service), and only when it has
    no edit does the request queue for the model (``provider``)."""

    def __init__(self, spec: ServedModel, provider: Any = None) -> None:
        self.spec = spec
        provider = provider if provider is not None else make_provider(spec)
        self.first = getattr(provider, "first", None)
        if self.first is not None:
            provider = provider.model
        self.provider = provider
        self.kind = "model" if is_model_provider(self.provider) else "provider"

    @property
    def model_version(self) -> str:
        return self.spec.model_version

    def _format(self, name: str | None = None) -> Any:
        from nextedit.prompts import get_format

        return get_format(name or self.spec.prompt_format)

    # ------------------------------------------------------------------ native requests
    def predict(self, request: Any, *, cancel: CancelToken, cache_key: str | None = None) -> EditOutcome:
        """Region, prompt, model and parse for a ``Zeta2PromptInput`` (a model provider does the
        four stages and reports their timings; other providers answer directly)."""
        t0 = time.perf_counter()
        if self.kind == "model":
            pred = self.provider.predict_request(request, cancel=cancel, cache_key=cache_key)
        else:
            pred = self.provider.predict_request(request, cancel=cancel)
        total = (time.perf_counter() - t0) * 1000
        fmt = getattr(self.provider, "format", None)
        out = EditOutcome(prediction=pred, prompt_format=getattr(fmt, "name", None))
        stats = pred.stats or {}
        stage = {
            k: float(stats[f"{k}_ms"])
            for k in ("prompt", "model", "parse")
            if stats.get(f"{k}_ms") is not None
        }
        out.timings = stage or {"model": total}
        out.prompt_tokens = _count(stats, "prompt_tokens", request.cursor_excerpt)
        out.completion_tokens = _count(stats, "completion_tokens", pred.output)
        self._fill_speculative(out, stats)
        out.raw_output = pred.raw_output
        out.answered_by = self._model_name()
        return out

    def _model_name(self) -> str | None:
        """Who answers queued requests, when a first provider may answer others."""
        return getattr(self.provider, "name", None) if self.first is not None else None

    # ------------------------------------------------------------------ first provider (hybrid)
    def predict_first(self, request: Any) -> EditOutcome | None:
        """The first provider's edit for a ``Zeta2PromptInput``, or None (no first provider, or
        no edit: then the model answers)."""
        if self.first is None:
            return None
        t0 = time.perf_counter()
        pred = self.first.predict_request(request, cancel=CancelToken())
        if pred.is_no_edit(request.cursor_excerpt):
            return None
        out = EditOutcome(prediction=pred, answered_by=self.first.name)
        out.timings = {"model": (time.perf_counter() - t0) * 1000}
        out.prompt_tokens = estimate_tokens(request.cursor_excerpt)
        out.completion_tokens = estimate_tokens(pred.output)
        return out

    def complete_first(self, prompt: str, *, max_tokens: int, stop: list[str]) -> TextOutcome | None:
        """The first provider's edit for a raw prompt (the request read back out of it, the edit
        encoded in its format), or None: no first provider, a prompt or answer that does not
        translate, or no edit."""
        fmt_name = detect_format(prompt)
        if self.first is None or fmt_name is None:
            return None
        try:
            out = self._complete_with_provider(
                prompt, fmt_name, max_tokens=max_tokens, stop=stop, cancel=CancelToken(), provider=self.first
            )
        except (BadRequest, ModelError):
            return None
        if out is not None:
            out.answered_by = self.first.name
        return out

    @staticmethod
    def _fill_speculative(out: Outcome, stats: dict[str, Any]) -> None:
        if stats.get("drafted_tokens") is not None:
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
        if self.kind == "model":
            out = TextOutcome(prompt_format=fmt_name, prompt=prompt, answered_by=self._model_name())
            t0 = time.perf_counter()
            text, stats = self.provider.complete(prompt, max_tokens, stop, cancel, cache_key)
            out.timings["model"] = (time.perf_counter() - t0) * 1000
            out.prompt_tokens = _count(stats, "prompt_tokens", prompt)
            out.completion_tokens = _count(stats, "completion_tokens", text)
            self._fill_speculative(out, stats)
            if stats.get("finish_reason") == "low_confidence" and fmt_name is not None:
                text = self._no_edit_text(prompt, fmt_name, text)  # the gate stopped an unsure answer
            out.text, hit = apply_stop(text, stop)  # engines honour stop; be safe with remotes
            out.finish_reason = "stop" if hit else (stats.get("finish_reason") or "stop")
            out.raw_output = out.text
            return out
        if fmt_name is None:
            raise BadRequest(
                f"model {self.spec.name!r} (provider {self.spec.provider!r}) only understands prompts in the "
                "zeta, zeta2 or zeta2_1 formats, and this prompt has none of their markers"
            )
        out = self._complete_with_provider(prompt, fmt_name, max_tokens=max_tokens, stop=stop, cancel=cancel)
        assert out is not None  # only a provider asked first may have no answer
        return out

    def _no_edit_text(self, prompt: str, fmt_name: str, fallback: str) -> str:
        """The completion meaning "no edit" for ``prompt`` (what Zed's parser maps to no change)."""
        from nextedit.server.raw_prompts import encode_prediction, request_from_prompt

        fmt = self._format(fmt_name)
        try:
            recovered = request_from_prompt(fmt, prompt)
            return encode_prediction(fmt, recovered, EditPrediction(output="", editable_range=(0, 0)))
        except ValueError:
            return fallback

    def _complete_with_provider(
        self,
        prompt: str,
        fmt_name: str,
        *,
        max_tokens: int,
        stop: list[str],
        cancel: CancelToken,
        provider: Any = None,
    ) -> TextOutcome | None:
        """Answer a raw prompt with a request-level provider (the predictor's own, or the cheap
        ``provider`` a hybrid asks first: then None when it has no edit)."""
        from nextedit.server.raw_prompts import encode_prediction, request_from_prompt

        out = TextOutcome(prompt_format=fmt_name, prompt=prompt)
        fmt = self._format(fmt_name)
        t0 = time.perf_counter()
        try:
            recovered = request_from_prompt(fmt, prompt)
        except Exception as e:  # noqa: BLE001 - any failure to read the prompt is the prompt's fault
            raise BadRequest(f"cannot read the {fmt_name} prompt: {type(e).__name__}: {e}") from None
        t1 = time.perf_counter()
        pred = (provider or self.provider).predict_request(recovered.request, cancel=cancel)
        t2 = time.perf_counter()
        if provider is not None and pred.is_no_edit(recovered.request.cursor_excerpt):
            return None
        try:
            text = encode_prediction(fmt, recovered, pred)
        except ValueError as e:
            raise ModelError(f"cannot encode the prediction as {fmt_name} output: {e}") from e
        text, hit = apply_stop(text, stop)
        text, cut = truncate_tokens(text, max_tokens)
        out.timings = {
            "prompt": (t1 - t0) * 1000,
            "model": (t2 - t1) * 1000,
            "parse": (time.perf_counter() - t2) * 1000,
        }
        out.text = text
        out.finish_reason = "length" if cut else "stop"
        out.raw_output = text
        out.prompt_tokens = estimate_tokens(prompt)
        out.completion_tokens = estimate_tokens(text)
        return out

    def close(self) -> None:
        client = getattr(self.provider, "client", None)  # remote providers hold an HTTP client
        closer = getattr(self.provider, "close", None) or getattr(client, "close", None)
        if callable(closer):
            closer()
