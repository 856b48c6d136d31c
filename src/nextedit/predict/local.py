"""``local[:PATH]``: the in-process engine as a :class:`~nextedit.schema.provider.TextModel`
(shipped model by default, or any local HF causal LM).

The model directory's ``serving.json`` (:mod:`nextedit.model.serving`) says how it is served: the
context window, copy-biased drafting, the decode mode (whole answer or cursor line) and the
confidence gate, which this model applies to each of its completions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nextedit.model.constraints import NoSpecialTokens
from nextedit.model.cursor_line import (
    MAX_LINE_TOKENS,
    CursorBlock,
    answer_prefix,
    answer_text,
    cursor_block,
    line_completion,
)
from nextedit.model.engine import logprob_stats
from nextedit.model.serving import ConfidenceGate
from nextedit.schema.cancel import CancelToken
from nextedit.schema.completion import Completion, GenerationParams, GenerationStats
from nextedit.schema.provider import TextModel


class LocalModel(TextModel):
    """Runs :class:`nextedit.model.engine.Engine` on this machine, on prompts in ``prompt_format``."""

    def __init__(
        self,
        path: str | Path | None = None,
        prompt_format: str = "zeta2_1",
        *,
        speculative: bool = True,
        threads: int | None = None,
        engine: Any = None,
        constrained: bool = True,
        gate: bool | ConfidenceGate = True,
        decode: str | None = None,
    ) -> None:
        """``engine``: an already loaded engine (then ``serving.json`` is read only when ``path``
        is given). ``gate``: True = the model directory's gate (if any), False = none.
        ``decode``: ``block`` | ``cursor_line``; None = as ``serving.json`` says."""
        from nextedit.model.engine import DEFAULT_MODEL_DIR, Engine
        from nextedit.model.serving import ServingConfig
        from nextedit.prompts import get_format

        self.path = Path(path) if path else DEFAULT_MODEL_DIR
        self.name = f"local:{self.path.name}"
        self.model_version = self.path.name
        self.prompt_format = prompt_format
        self.format = get_format(prompt_format)
        serving = ServingConfig.load(self.path) if engine is None or path else ServingConfig()
        self.gate = serving.gate if gate is True else (gate or None)
        self.engine = engine or Engine.load(
            self.path,
            threads=threads,
            speculative=speculative,
            context_window=serving.context_window,
            copy_margin=serving.copy_margin,
        )
        self.constrained = constrained
        self.decode = serving.decode if decode is None else decode
        self.line_cut_logprob = serving.line_cut_logprob
        self.max_line_tokens = serving.max_line_tokens or MAX_LINE_TOKENS
        self._plain_code: NoSpecialTokens | None = None  # built on first use (cursor_line)

    def complete(
        self,
        prompt: str,
        params: GenerationParams,
        *,
        cancel: CancelToken | None = None,
        cache_key: str | None = None,
    ) -> Completion:
        """Generate after ``prompt``; the gate (if any) judges the result."""
        block = (
            cursor_block(prompt) if self.decode == "cursor_line" and self.format.name == "zeta2_1" else None
        )
        if block is not None:
            completion = self._complete_cursor_line(prompt, block, params, cancel, cache_key)
        else:
            completion = self._complete_block(prompt, params, cancel, cache_key)
        return self.gate.judge(completion) if self.gate is not None else completion

    def _stop_below(self) -> float | None:
        return self.gate.stop_below if self.gate is not None else None

    def _complete_block(
        self, prompt: str, params: GenerationParams, cancel: CancelToken | None, cache_key: str | None
    ) -> Completion:
        """The model writes the whole answer (constrained to the format's syntax when ``constrained``)."""
        from nextedit.model.constraints import constraint_for

        constraint = constraint_for(self.format.name, prompt, self.engine) if self.constrained else None
        result = self.engine.generate(
            prompt,
            max_tokens=params.max_tokens,
            stop=list(params.stop),
            cancel=cancel,
            cache_key=cache_key,
            constraint=constraint,
            min_logprob=self._stop_below(),
        )
        return Completion(
            text=result.text,
            finish_reason=result.finish_reason,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            stats=GenerationStats.from_dict(result.stats),
        )

    def _complete_cursor_line(
        self,
        prompt: str,
        block: CursorBlock,
        params: GenerationParams,
        cancel: CancelToken | None,
        cache_key: str | None,
    ) -> Completion:
        """``decode = "cursor_line"``: the model completes the cursor line (see
        :mod:`nextedit.model.cursor_line`); the answer is returned in the prompt's format.

        ``line_cut_logprob`` ends the completion before its first token the model rates below it
        (a decoding rule, not the gate: what is kept is then judged by the gate). Decoding is
        plain greedy: the completion is new code, which prompt lookup rarely drafts (1–3 % of
        drafted tokens accepted), and each rejected draft makes the pass dearer (``nextedit bench
        latency``: 79 vs 89 ms cold, 38 vs 45 ms warm at p50)."""
        cut = self.line_cut_logprob
        if self._plain_code is None:
            self._plain_code = NoSpecialTokens(
                self.engine.tokenizer, self.format.special_tokens, self.engine.eos_ids
            )
        result = self.engine.generate(
            prompt + answer_prefix(block),
            max_tokens=self.max_line_tokens,
            stop=["\n", *params.stop],
            cancel=cancel,
            cache_key=cache_key,
            min_logprob=cut if cut is not None else self._stop_below(),
            constraint=self._plain_code,
            speculative=False,
        )
        ids, lps = result.token_ids, result.token_logprobs
        if cut is not None:  # keep the confident start of the completion
            n = next((i for i, lp in enumerate(lps) if lp < cut), len(ids))
            ids, lps = ids[:n], lps[:n]
        completion = line_completion(self.engine.decode(ids))
        if not block.after or block.after.startswith("\n"):
            completion = completion.rstrip()  # trailing spaces at the end of a line are no edit
        stats = GenerationStats.from_dict({**result.stats, **logprob_stats(lps), "decode": "cursor_line"})
        return Completion(
            text=answer_text(block, completion, ""),
            finish_reason="stop" if cut is not None else result.finish_reason,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=len(ids),
            stats=stats,
        )
