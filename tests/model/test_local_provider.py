"""`local:PATH` runs the real engine through the shared prompt → generate → parse path."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")

from nextedit.context.example_request import example_request  # noqa: E402
from nextedit.io.inputs import read_examples  # noqa: E402
from nextedit.model.serving import ConfidenceGate  # noqa: E402
from nextedit.predict.local import LocalModel  # noqa: E402
from nextedit.predict.model_provider import ModelProvider  # noqa: E402
from nextedit.predict.registry import get_provider  # noqa: E402
from nextedit.schema.completion import GenerationParams  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("fmt", ["zeta", "zeta2", "zeta2_1"])
def test_local_provider_returns_region_or_typed_error(tiny_model_dir: Path, fmt: str) -> None:
    provider = ModelProvider(LocalModel(tiny_model_dir, fmt), max_output_tokens=8)
    for ex in list(read_examples([ROOT / "examples"]))[:3]:
        req = example_request(ex)
        pred = provider.predict(req, cache_key="client")
        s, e = pred.editable_range
        assert 0 <= s <= e <= len(req.excerpt_bytes())
        assert pred.raw_output is not None
        assert pred.completion is not None and pred.completion.completion_tokens <= 32
        assert pred.completion.prompt_tokens > 0
        if pred.error:  # a random model rarely writes a parseable answer: then "no edit" + reason
            assert pred.error.startswith("unparseable")
            assert pred.output == req.excerpt_bytes()[s:e].decode()
        assert set(pred.timings_ms) == {"prompt", "model", "parse"}
        for key in ("prompt_ms", "model_ms", "parse_ms", "forward_passes", "completion_tokens"):
            assert key in pred.stats  # what a prediction's `stats` records


def test_registry_builds_local_provider(tiny_model_dir: Path) -> None:
    provider = get_provider(f"local:{tiny_model_dir}")
    assert isinstance(provider, ModelProvider) and isinstance(provider.model, LocalModel)
    assert provider.model_version == tiny_model_dir.name and provider.name == f"local:{tiny_model_dir.name}"


def test_the_gate_judges_each_completion_once(tiny_model_dir: Path) -> None:
    """The model's gate is the one decision: a completion it rejects has finish reason
    ``low_confidence`` (raw prompts read that), and the provider answers it with "no edit"."""
    plain = LocalModel(tiny_model_dir, "zeta2_1", gate=False)
    never = LocalModel(tiny_model_dir, "zeta2_1", gate=ConfidenceGate("mean_logprob", 1.0), engine=plain.engine)
    ex = next(iter(read_examples([ROOT / "examples"])))
    req = example_request(ex)
    prompt = plain.format.format_prompt(req).text
    params = GenerationParams(8, tuple(plain.format.stop_tokens))
    assert plain.complete(prompt, params).finish_reason != "low_confidence"
    rejected = never.complete(prompt, params)
    assert rejected.finish_reason == "low_confidence" and rejected.stats.mean_logprob is not None
    pred = ModelProvider(never, max_output_tokens=8).predict(req)
    assert pred.gated and pred.is_no_edit(req.cursor_excerpt) and pred.error is None


def test_missing_model_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a model directory"):
        LocalModel(tmp_path / "nope")
