"""Shared test configuration and fixtures.

* ``small_tokenizer``: a tokenizer trained on this repository's own source (fast), saved in HF format.
* ``tiny_model_dir``: a tiny real model (random weights, our tokenizer) saved in HF format.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "nextedit"


@pytest.fixture(scope="session")
def small_tokenizer(tmp_path_factory):
    from nextedit.model.tokenizer import iter_corpus_texts, train_tokenizer

    tok = train_tokenizer(iter_corpus_texts([SRC], max_bytes=400_000), vocab_size=800)
    path = tmp_path_factory.mktemp("tok")
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch = pytest.importorskip("torch")
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from nextedit.model.tokenizer import train_tokenizer

    out = tmp_path_factory.mktemp("tiny-model")
    texts = [p.read_text() for p in sorted((ROOT / "src" / "nextedit" / "text").glob("*.py"))]
    tok = train_tokenizer(texts, vocab_size=600)
    tok.save_pretrained(out)
    torch.manual_seed(0)
    cfg = Qwen2Config(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=64,
        max_position_embeddings=4096,
        eos_token_id=tok.eos_token_id,
    )
    Qwen2ForCausalLM(cfg).save_pretrained(out)
    return out
