"""`local:PATH` runs the real engine through the shared prompt → generate → parse path."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")

from nextedit.io.inputs import read_examples  # noqa: E402
from nextedit.predict.local import LocalProvider  # noqa: E402
from nextedit.predict.registry import get_provider  # noqa: E402
from nextedit.predict.request_from_example import request_from_example  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("fmt", ["zeta", "zeta2", "zeta2_1"])
def test_local_provider_returns_region_or_typed_error(tiny_model_dir: Path, fmt: str) -> None:
    provider = LocalProvider(tiny_model_dir, fmt, max_output_tokens=8)
    for ex in list(read_examples([ROOT / "examples"]))[:3]:
        req = request_from_example(ex)
        pred = provider.predict_request(req, cache_key="client")
        s, e = pred.editable_range
        assert 0 <= s <= e <= len(req.excerpt_bytes())
        assert pred.raw_output is not None
        assert pred.stats["completion_tokens"] <= 32
        assert pred.stats["prompt_tokens"] > 0
        if pred.error:  # a random model rarely writes a parseable answer: then "no edit" + reason
            assert pred.error.startswith("unparseable")
            assert pred.output == req.slice_range(req.excerpt_ranges.editable_350) or pred.output == req.excerpt_bytes()[s:e].decode()
        for key in ("prompt_ms", "model_ms", "parse_ms", "forward_passes"):
            assert key in pred.stats


def test_registry_builds_local_provider(tiny_model_dir: Path) -> None:
    provider = get_provider(f"local:{tiny_model_dir}")
    assert isinstance(provider, LocalProvider)
    assert provider.model_version == tiny_model_dir.name


def test_missing_model_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a model directory"):
        LocalProvider(tmp_path / "nope")
