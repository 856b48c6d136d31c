"""How a model directory wants to be served: ``serving.json`` next to ``config.json`` (optional).

    {"context_window": 1024, "copy_margin": 1.0, "gate": {"measure": "min_logprob", "threshold": -3.0}}

* ``context_window``: prompt + output tokens the engine keeps (the start of a longer prompt is
  cut, as in training); default = the model's ``max_position_embeddings``.
* ``copy_margin``: copy-biased speculative decoding (see :meth:`nextedit.model.engine.Engine.generate`).
* ``decode``: ``"block"`` (default: the model writes the whole answer) or ``"cursor_line"`` (the
  model completes the cursor line of a ``zeta2_1`` prompt, see :mod:`nextedit.model.cursor_line`).
* ``line_cut_logprob`` (``cursor_line``): the completion ends before its first token the model
  rates below this log-probability: a short sure completion beats a long doubtful one.
  ``max_line_tokens`` caps its length (default 48): each token is a forward pass on the server.
* ``gate``: a :class:`ConfidenceGate`. An edit whose generation statistic ``measure`` (any of the
  engine's numeric stats, e.g. ``min_logprob`` / ``mean_logprob`` of the generated tokens) is below
  ``threshold`` is answered with "no edit" instead: a small model is often unsure, and a silent
  keystroke costs the user nothing while a wrong suggestion costs attention. The threshold is
  calibrated on the validation split by ``nextedit bench gate`` (never on the test split).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from nextedit.schema.completion import Completion, GenerationStats

SERVING_FILE = "serving.json"


@dataclass(frozen=True)
class ConfidenceGate:
    """Stay silent when ``stats[measure] < threshold``: the one place that decides whether a
    model is sure enough to suggest its text.

    A local model applies its gate to every completion (:meth:`judge`); providers and the server
    only read the verdict (finish reason ``low_confidence``) and answer "no edit". The engine
    may stop generating early at :attr:`stop_below` (the text is rejected either way)."""

    measure: str = "min_logprob"
    threshold: float = float("-inf")

    def passes(self, stats: Mapping[str, Any] | GenerationStats) -> bool:
        """True unless ``stats[measure]`` is known and below the threshold."""
        value = stats.value(self.measure) if isinstance(stats, GenerationStats) else stats.get(self.measure)
        return value is None or float(value) >= self.threshold

    @property
    def stop_below(self) -> float | None:
        """A ``min_logprob`` gate rejects a text as soon as one token is less likely than the
        threshold, so generation may stop there; ``None`` for other measures."""
        return self.threshold if self.measure == "min_logprob" else None

    def judge(self, completion: Completion) -> Completion:
        """``completion`` with finish reason ``low_confidence`` when the gate rejects it (it
        already has that reason when generation stopped at :attr:`stop_below`)."""
        if completion.finish_reason != "low_confidence" and not self.passes(completion.stats):
            return replace(completion, finish_reason="low_confidence")
        return completion


DECODE_MODES = ("block", "cursor_line")


def _decode_mode(value: str) -> str:
    if value not in DECODE_MODES:
        raise ValueError(f"decode must be one of {', '.join(DECODE_MODES)}, got {value!r}")
    return value


@dataclass(frozen=True)
class ServingConfig:
    context_window: int | None = None
    copy_margin: float | None = None
    decode: str = "block"
    line_cut_logprob: float | None = None
    max_line_tokens: int | None = None
    gate: ConfidenceGate | None = None

    @classmethod
    def load(cls, model_dir: str | Path) -> ServingConfig:
        path = Path(model_dir) / SERVING_FILE
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text())
            gate = raw.get("gate")
            return cls(
                context_window=int(raw["context_window"]) if raw.get("context_window") else None,
                copy_margin=float(raw["copy_margin"]) if raw.get("copy_margin") is not None else None,
                decode=_decode_mode(raw.get("decode", "block")),
                line_cut_logprob=float(raw["line_cut_logprob"])
                if raw.get("line_cut_logprob") is not None
                else None,
                max_line_tokens=int(raw["max_line_tokens"]) if raw.get("max_line_tokens") else None,
                gate=ConfidenceGate(**gate) if gate else None,
            )
        except (ValueError, TypeError, KeyError) as e:
            raise ValueError(f"{path}: invalid serving config ({e})") from e

    def save(self, model_dir: str | Path) -> Path:
        path = Path(model_dir) / SERVING_FILE
        out: dict[str, Any] = {}
        if self.context_window:
            out["context_window"] = self.context_window
        if self.copy_margin is not None:
            out["copy_margin"] = self.copy_margin
        if self.decode != "block":
            out["decode"] = self.decode
        if self.line_cut_logprob is not None:
            out["line_cut_logprob"] = self.line_cut_logprob
        if self.max_line_tokens:
            out["max_line_tokens"] = self.max_line_tokens
        if self.gate:
            out["gate"] = asdict(self.gate)
        path.write_text(json.dumps(out, indent=1) + "\n")
        return path
