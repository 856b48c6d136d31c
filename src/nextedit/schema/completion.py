"""What a text model is asked (:class:`GenerationParams`) and what it answers (:class:`Completion`).

A text model turns a prompt into text: the local engine, a remote OpenAI-compatible server. Token
counts are the model's own tokens; times are **milliseconds**; log-probabilities are natural logs
of the generated tokens under the model's unconstrained distribution.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

#: ``stop``: end of text or a stop string; ``length``: the token budget ran out;
#: ``low_confidence``: the model's confidence gate rejects the text (it is kept, for the record).
FinishReason = Literal["stop", "length", "low_confidence"]


@dataclass(frozen=True)
class GenerationParams:
    """``max_tokens``: most tokens to generate; ``stop``: strings that end the text (excluded)."""

    max_tokens: int
    stop: tuple[str, ...] = ()


@dataclass
class GenerationStats:
    """How a completion was produced. Every field is optional: a remote backend reports none.

    ``forward_passes``: model calls; ``drafted_tokens``/``accepted_tokens``: speculative decoding;
    ``reused_prefix_tokens``/``prefilled_tokens``: prompt tokens taken from the client's prefix
    cache / computed now; ``truncated_prompt_tokens``: cut from the start of an over-long prompt;
    ``copied_tokens``: generated tokens that copy the prompt (long outputs only);
    ``min_logprob``/``first_logprob``/``mean_logprob``: of the generated tokens kept;
    ``stopped_by``: ``"repetition"`` when a degenerate loop ended generation;
    ``decode``: ``"block"`` or ``"cursor_line"`` (see :mod:`nextedit.model.cursor_line`);
    ``first_token_ms``/``model_ms``: from the call to the first / last forward pass;
    ``remote_id``: the completion id a remote server gave.
    """

    forward_passes: int | None = None
    drafted_tokens: int | None = None
    accepted_tokens: int | None = None
    reused_prefix_tokens: int | None = None
    prefilled_tokens: int | None = None
    truncated_prompt_tokens: int | None = None
    copied_tokens: int | None = None
    min_logprob: float | None = None
    first_logprob: float | None = None
    mean_logprob: float | None = None
    stopped_by: str | None = None
    decode: str | None = None
    first_token_ms: float | None = None
    model_ms: float | None = None
    tokens_per_s: float | None = None
    remote_id: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationStats:
        """The known keys of ``data`` (e.g. the engine's stats); other keys are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_dict(self) -> dict[str, Any]:
        """The fields that are set (what a prediction's ``stats`` records)."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    def value(self, name: str) -> float | None:
        """A numeric statistic by name (``None`` when unknown or unset): what a confidence gate reads."""
        v = getattr(self, name, None) if name in {f.name for f in fields(self)} else None
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


@dataclass
class Completion:
    """A text model's answer: ``text`` after the prompt (stop string excluded), why it ended, token
    counts (``None`` when the model did not say) and how it was produced."""

    text: str
    finish_reason: FinishReason = "stop"
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    stats: GenerationStats = field(default_factory=GenerationStats)

    def stats_dict(self) -> dict[str, Any]:
        """Stats, token counts and finish reason as one flat dict (a prediction's ``stats``)."""
        return {
            **self.stats.to_dict(),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "finish_reason": self.finish_reason,
        }
