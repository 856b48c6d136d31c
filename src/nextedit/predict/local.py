"""``local[:PATH]``: the in-process engine (shipped model by default, or any local HF causal LM)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    ) -> None:
        """``gate``: True = the model directory's ``serving.json`` gate (if any), False = none."""
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

    def complete(
        self, prompt: str, max_tokens: int, stop: list[str], cancel: CancelToken | None, cache_key: str | None
    ) -> tuple[str, dict[str, Any]]:
        from nextedit.model.constraints import constraint_for

        constraint = constraint_for(self.format.name, prompt, self.engine) if self.constrained else None
        gate = self.gate
        early_exit = gate.threshold if gate is not None and gate.measure == "min_logprob" else None
        result = self.engine.generate(
            prompt, max_tokens=max_tokens, stop=stop, cancel=cancel, cache_key=cache_key, constraint=constraint,
            min_logprob=early_exit,
        )
        stats = dict(result.stats)
        stats.update(
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            finish_reason=result.finish_reason,
        )
        return result.text, stats
