"""``local[:PATH]``: the in-process engine (shipped model by default, or any local HF causal LM)."""

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
from nextedit.predict.base import CancelToken
from nextedit.predict.model_provider import ModelProvider


class LocalProvider(ModelProvider):
    """Runs :class:`nextedit.model.engine.Engine` on this machine."""

    def __init__(
        self,
        path: str | Path | None = None,
        prompt_format: str = "zeta2_1",
        *,
        max_output_tokens: int | None = 64,
        speculative: bool = True,
        threads: int | None = None,
        engine: Any = None,
        constrained: bool = True,
        gate: bool | ConfidenceGate = True,
        decode: str | None = None,
    ) -> None:
        """``gate``: True = the model directory's ``serving.json`` gate (if any), False = none.
        ``decode``: ``block`` | ``cursor_line``; None = as ``serving.json`` says
        (see :mod:`nextedit.model.serving`)."""
        from nextedit.model.engine import DEFAULT_MODEL_DIR, Engine
        from nextedit.model.serving import ServingConfig

        self.path = Path(path) if path else DEFAULT_MODEL_DIR
        self.name = f"local:{self.path.name}"
        serving = ServingConfig.load(self.path) if engine is None or path else ServingConfig()
        chosen = serving.gate if gate is True else (gate or None)
        super().__init__(prompt_format, max_output_tokens, gate=chosen)
        self.engine = engine or Engine.load(
            self.path,
            threads=threads,
            speculative=speculative,
            context_window=serving.context_window,
            copy_margin=serving.copy_margin,
        )
        self.model_version = self.path.name
        self.constrained = constrained
        self.decode = serving.decode if decode is None else decode
        self.line_cut_logprob = serving.line_cut_logprob
        self.max_line_tokens = serving.max_line_tokens or MAX_LINE_TOKENS
        self._plain_code: NoSpecialTokens | None = None  # built on first use (cursor_line)

    def complete(
        self, prompt: str, max_tokens: int, stop: list[str], cancel: CancelToken | None, cache_key: str | None
    ) -> tuple[str, dict[str, Any]]:
        from nextedit.model.constraints import constraint_for

        gate = self.gate
        early_exit = gate.threshold if gate is not None and gate.measure == "min_logprob" else None
        if self.decode == "cursor_line" and self.format.name == "zeta2_1":
            block = cursor_block(prompt)
            if block is not None:
                return self._complete_cursor_line(prompt, block, stop, cancel, cache_key, early_exit)
        constraint = constraint_for(self.format.name, prompt, self.engine) if self.constrained else None
        result = self.engine.generate(
            prompt,
            max_tokens=max_tokens,
            stop=stop,
            cancel=cancel,
            cache_key=cache_key,
            constraint=constraint,
            min_logprob=early_exit,
        )
        return result.text, _stats(result)

    def _complete_cursor_line(
        self,
        prompt: str,
        block: CursorBlock,
        stop: list[str],
        cancel: CancelToken | None,
        cache_key: str | None,
        early_exit: float | None,
    ) -> tuple[str, dict[str, Any]]:
        """``decode = "cursor_line"``: the model completes the cursor line (see
        :mod:`nextedit.model.cursor_line`); the answer is returned in the prompt's format.

        Decoding is plain greedy: the completion is new code, which prompt lookup rarely drafts
        (1–3 % of drafted tokens accepted), and each rejected draft makes the pass dearer
        (``nextedit bench latency``: 79 vs 89 ms cold, 38 vs 45 ms warm at p50)."""
        cut = self.line_cut_logprob
        if self._plain_code is None:
            self._plain_code = NoSpecialTokens(
                self.engine.tokenizer, self.format.special_tokens, self.engine.eos_ids
            )
        result = self.engine.generate(
            prompt + answer_prefix(block),
            max_tokens=self.max_line_tokens,
            stop=["\n", *stop],
            cancel=cancel,
            cache_key=cache_key,
            min_logprob=cut if cut is not None else early_exit,
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
        stats = _stats(
            result,
            completion_tokens=len(ids),
            finish_reason="stop" if cut is not None else result.finish_reason,
            decode="cursor_line",
            **logprob_stats(lps),  # of the completion kept
        )
        return answer_text(block, completion, ""), stats


def _stats(result: Any, **overrides: Any) -> dict[str, Any]:
    """The engine's generation stats plus token counts and finish reason (``overrides`` win)."""
    return {
        **result.stats,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "finish_reason": result.finish_reason,
        **overrides,
    }
