"""`nextedit bench latency` runs end to end on a tiny real model and reports sane figures."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from transformers import Qwen2Config, Qwen2ForCausalLM  # noqa: E402

from nextedit.io.inputs import read_examples  # noqa: E402
from nextedit.model.bench_latency import bench_latency, percentile, typed_one_more  # noqa: E402
from nextedit.model.tokenizer import train_tokenizer  # noqa: E402
from nextedit.predict.request_from_example import request_from_example  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny")
    texts = [p.read_text() for p in sorted((ROOT / "src" / "nextedit" / "text").glob("*.py"))]
    tok = train_tokenizer(texts, vocab_size=600)
    tok.save_pretrained(out)
    torch.manual_seed(0)
    cfg = Qwen2Config(
        vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        intermediate_size=64, max_position_embeddings=4096, eos_token_id=tok.eos_token_id,
    )
    Qwen2ForCausalLM(cfg).save_pretrained(out)
    return out


def test_percentile_nearest_rank() -> None:
    assert percentile([5.0, 1.0, 3.0], 50) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 100.0], 99) == 100.0


def test_typed_one_more_moves_cursor_and_ranges() -> None:
    ex = next(iter(read_examples([ROOT / "examples"])))
    req = request_from_example(ex)
    after = typed_one_more(req)
    assert after.cursor_offset_in_excerpt == req.cursor_offset_in_excerpt + 1
    assert len(after.excerpt_bytes()) == len(req.excerpt_bytes()) + 1
    old = req.excerpt_ranges.editable_350
    new = after.excerpt_ranges.editable_350
    assert new.end == old.end + 1 and new.start == old.start


def test_bench_latency_rows(tiny_model: Path) -> None:
    rows = bench_latency(str(tiny_model), [str(ROOT / "examples")], limit=3, modes=(True, False))
    assert [r["run"] for r in rows] == ["spec/cold/idle", "spec/warm/idle", "greedy/cold/idle", "greedy/warm/idle"]
    for r in rows:
        assert r["n"] == 3
        assert 0 < r["p50_ms"] <= r["p95_ms"] <= r["p99_ms"]
    greedy = rows[2]
    assert greedy["passes_per_token"] == pytest.approx(1.0, abs=0.05)
    assert rows[0]["passes_per_token"] <= greedy["passes_per_token"]
