"""The single internal predictor every protocol adapter goes through.

A served model is a :class:`~nextedit.predict.registry.Backend` built by the provider registry
from its :class:`~nextedit.server.config.ServedModel`: a ``provider`` that answers editor
requests, the ``model`` behind it when it is model-backed, and optionally a cheap ``first``
provider. Two request kinds:

* ``predict(request)`` — a ``Zeta2PromptInput`` (native ``/predict_edits/v3``): the provider answers
  (a model provider resolves the region, builds the prompt in the model's format, generates with
  the format's stop tokens and the client's prefix-cache key, parses).
* ``complete(prompt)`` — a raw prompt already formatted by the editor (``/v1/completions``,
  ``/api/generate``): the model continues it directly; without a model, the provider gets the
  request recovered from the prompt (``PromptFormat.parse_prompt``) and its prediction is encoded
  back into the text the format's parser expects, so Zed accepts it.

``predict_first``/``complete_first`` ask the ``first`` provider; the service calls them before a
request queues. Every call returns its own stage timings in **milliseconds** (prompt, model,
parse) and token counts (the model's, else Zed's estimate: UTF-8 bytes // 3).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from nextedit.context.excerpt_ranges import estimate_tokens
from nextedit.predict.registry import Backend, ProviderOptions, build_backend, first_provider
from nextedit.schema.cancel import CancelToken
from nextedit.schema.completion import Completion, GenerationParams
from nextedit.schema.prediction import EditPrediction
from nextedit.server.config import ServedModel
from nextedit.server.errors import BadRequest, ModelError

if TYPE_CHECKING:
    from nextedit.schema.provider import Provider
    from nextedit.schema.request import Zeta2PromptInput

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


def _count(reported: int | None, text: str | None) -> int:
    """The token count a model reported (0 included), else Zed's estimate from ``text``."""
    return int(reported) if reported is not None else estimate_tokens(text or "")


def provider_options(spec: ServedModel) -> ProviderOptions:
    """Registry options of a served model (``max_tokens`` caps the generation; the format asks
    for 4x its editable-region budget, so the budget is a quarter of it)."""
    return ProviderOptions(
        prompt_format=spec.prompt_format,
        max_output_tokens=max(1, -(-spec.max_tokens // 4)),
        timeout_s=spec.timeout_s,
        remote_model=spec.remote_model or "default",
    )


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
    answered_by: str | None = None  # which provider answered, when a first provider may

    def count_model_work(self, completion: Completion | None, prompt: str | None, output: str | None) -> None:
        """Token counts and speculative-decoding counters of ``completion`` (estimates without one)."""
        self.prompt_tokens = _count(completion.prompt_tokens if completion else None, prompt)
        self.completion_tokens = _count(completion.completion_tokens if completion else None, output)
        if completion is not None and completion.stats.drafted_tokens is not None:
            self.spec_drafted = completion.stats.drafted_tokens
            self.spec_accepted = completion.stats.accepted_tokens or 0


@dataclass
class EditOutcome(Outcome):
    prediction: EditPrediction | None = None


@dataclass
class TextOutcome(Outcome):
    text: str = ""
    finish_reason: str = "stop"


class Predictor:
    """One served model. Thread-compatible: called from that model's worker threads (and, for
    ``first``, from a thread of its own before the queue)."""

    def __init__(self, spec: ServedModel, backend: Backend | None = None) -> None:
        """``backend``: a ready one (embedding, tests) instead of the registry's for
        ``spec.provider``; the spec's ``first`` applies to it too."""
        if backend is None:
            backend = build_backend(spec.provider, provider_options(spec), first=spec.first)
        elif spec.first is not None:
            backend = replace(backend, first=first_provider(spec.first))
        self.spec = spec
        self.backend = backend
        self.first: Provider | None = backend.first
        self.provider: Provider = backend.provider
        self.model = backend.model
        self.kind = "model" if self.model is not None else "provider"

    @property
    def model_version(self) -> str:
        return self.spec.model_version

    def _answered_by(self, provider: Provider) -> str | None:
        """Who answered, when a first provider may answer instead of the queued one."""
        return provider.name if self.first is not None else None

    # ------------------------------------------------------------------ native requests
    def predict(
        self, request: Zeta2PromptInput, *, cancel: CancelToken, cache_key: str | None = None
    ) -> EditOutcome:
        """The provider's edit for a ``Zeta2PromptInput``, with its stage timings (a model provider
        reports prompt, model and parse; others one ``model`` time)."""
        t0 = time.perf_counter()
        pred = self.provider.predict(request, cancel=cancel, cache_key=cache_key)
        total = (time.perf_counter() - t0) * 1000
        out = EditOutcome(
            prediction=pred,
            prompt_format=self.model.prompt_format if self.model is not None else None,
            timings=dict(pred.timings_ms) or {"model": total},
            raw_output=pred.raw_output,
            answered_by=self._answered_by(self.provider),
        )
        out.count_model_work(pred.completion, request.cursor_excerpt, pred.output)
        return out

    def predict_first(self, request: Zeta2PromptInput, *, cancel: CancelToken | None = None) -> EditOutcome | None:
        """The first provider's edit for a ``Zeta2PromptInput``, or None (no first provider, or
        no edit: then the request queues for the provider)."""
        if self.first is None:
            return None
        t0 = time.perf_counter()
        pred = self.first.predict(request, cancel=cancel or CancelToken())
        if pred.is_no_edit(request.cursor_excerpt):
            return None
        out = EditOutcome(
            prediction=pred, answered_by=self.first.name, timings={"model": (time.perf_counter() - t0) * 1000}
        )
        out.count_model_work(None, request.cursor_excerpt, pred.output)
        return out

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
        """The completion of a raw prompt: the model's (text the model's confidence gate rejected
        becomes the format's "no edit" answer), else the provider's edit encoded in the prompt's
        format (which must then be one of Zed's)."""
        fmt_name = detect_format(prompt)
        if self.model is not None:
            out = TextOutcome(prompt_format=fmt_name, prompt=prompt, answered_by=self._answered_by(self.provider))
            t0 = time.perf_counter()
            completion = self.model.complete(
                prompt, GenerationParams(max_tokens, tuple(stop)), cancel=cancel, cache_key=cache_key
            )
            out.timings["model"] = (time.perf_counter() - t0) * 1000
            out.count_model_work(completion, prompt, completion.text)
            text = completion.text
            if completion.finish_reason == "low_confidence" and fmt_name is not None:
                text = self._no_edit_text(prompt, fmt_name, text)
            out.text, hit = apply_stop(text, stop)  # engines honour stop; be safe with remotes
            out.finish_reason = "stop" if hit else completion.finish_reason
            out.raw_output = out.text
            return out
        if fmt_name is None:
            raise BadRequest(
                f"model {self.spec.name!r} (provider {self.spec.provider!r}) only understands prompts in the "
                "zeta, zeta2 or zeta2_1 formats, and this prompt has none of their markers"
            )
        out = self._complete_with(self.provider, prompt, fmt_name, max_tokens=max_tokens, stop=stop, cancel=cancel)
        assert out is not None  # only a provider asked first may have no answer
        out.answered_by = self._answered_by(self.provider)
        return out

    def complete_first(
        self, prompt: str, *, max_tokens: int, stop: list[str], cancel: CancelToken | None = None
    ) -> TextOutcome | None:
        """The first provider's edit for a raw prompt (the request read back out of it, the edit
        encoded in its format), or None: no first provider, a prompt or answer that does not
        translate, or no edit."""
        fmt_name = detect_format(prompt)
        if self.first is None or fmt_name is None:
            return None
        try:
            out = self._complete_with(
                self.first,
                prompt,
                fmt_name,
                max_tokens=max_tokens,
                stop=stop,
                cancel=cancel or CancelToken(),
                first=True,
            )
        except (BadRequest, ModelError):
            return None
        if out is not None:
            out.answered_by = self.first.name
        return out

    def _no_edit_text(self, prompt: str, fmt_name: str, fallback: str) -> str:
        """The completion meaning "no edit" for ``prompt`` (what Zed's parser maps to no change)."""
        from nextedit.prompts import get_format
        from nextedit.server.raw_prompts import encode_prediction, request_from_prompt

        fmt = get_format(fmt_name)
        try:
            return encode_prediction(fmt, request_from_prompt(fmt, prompt), EditPrediction.no_edit())
        except ValueError:
            return fallback

    def _complete_with(
        self,
        provider: Provider,
        prompt: str,
        fmt_name: str,
        *,
        max_tokens: int,
        stop: list[str],
        cancel: CancelToken,
        first: bool = False,
    ) -> TextOutcome | None:
        """Answer a raw prompt with a request provider; None when ``first`` and it has no edit."""
        from nextedit.prompts import get_format
        from nextedit.server.raw_prompts import encode_prediction, request_from_prompt

        fmt = get_format(fmt_name)
        t0 = time.perf_counter()
        try:
            recovered = request_from_prompt(fmt, prompt)
        except Exception as e:  # noqa: BLE001 - any failure to read the prompt is the prompt's fault
            raise BadRequest(f"cannot read the {fmt_name} prompt: {type(e).__name__}: {e}") from None
        t1 = time.perf_counter()
        pred = provider.predict(recovered.request, cancel=cancel)
        t2 = time.perf_counter()
        if first and pred.is_no_edit(recovered.request.cursor_excerpt):
            return None
        try:
            text = encode_prediction(fmt, recovered, pred)
        except ValueError as e:
            raise ModelError(f"cannot encode the prediction as {fmt_name} output: {e}") from e
        text, _ = apply_stop(text, stop)
        text, cut = truncate_tokens(text, max_tokens)
        out = TextOutcome(
            prompt_format=fmt_name,
            prompt=prompt,
            text=text,
            finish_reason="length" if cut else "stop",
            raw_output=text,
            timings={
                "prompt": (t1 - t0) * 1000,
                "model": (t2 - t1) * 1000,
                "parse": (time.perf_counter() - t2) * 1000,
            },
        )
        out.count_model_work(None, prompt, text)
        return out

    def close(self) -> None:
        self.backend.close()
