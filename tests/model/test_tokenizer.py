from __future__ import annotations

import pytest

pytest.importorskip("tokenizers")

from nextedit.model.tokenizer import EOS_TOKEN, PAD_TOKEN, format_special_tokens, load_tokenizer  # noqa: E402


def test_every_format_token_is_one_id(small_tokenizer):
    tok = load_tokenizer(small_tokenizer)
    tokens = format_special_tokens() + [EOS_TOKEN, PAD_TOKEN]
    assert "<|marker_1|>" in tokens and "<[fim-middle]>" in tokens and "<|user_cursor|>" in tokens
    ids = set()
    for t in tokens:
        enc = tok.encode(t, add_special_tokens=False)
        assert len(enc) == 1, (t, enc)
        ids.add(enc[0])
    assert len(ids) == len(tokens)  # distinct ids


def test_registry_tokens_included():
    prompts = pytest.importorskip("nextedit.prompts")
    if not hasattr(prompts, "get_format"):
        pytest.skip("prompt registry not available")
    tokens = set(format_special_tokens())
    for name in ("zeta", "zeta2", "zeta2_1"):
        assert set(prompts.get_format(name).special_tokens) - {EOS_TOKEN, PAD_TOKEN} <= tokens


def test_round_trip_unicode_code(small_tokenizer):
    tok = load_tokenizer(small_tokenizer)
    texts = [
        'def grüße(name: str) -> str:\n    return f"héllo {name} ✓ 日本語 🚀"\n',
        "\t\tx = 1  # tabs\r\n    y = [1,2,3]\n\n\n",
        "<[fim-suffix]>\nsuffix<[fim-prefix]><filename>a.py\npre<|marker_1|>ab<|user_cursor|>c<|marker_2|>\n<[fim-middle]>",
        "<|marker_1|>new text<|marker_2|>" + EOS_TOKEN,
        "",
    ]
    for text in texts:
        ids = tok.encode(text, add_special_tokens=False)
        assert tok.decode(ids, skip_special_tokens=False) == text


def test_format_tokens_survive_skip_special(small_tokenizer):
    tok = load_tokenizer(small_tokenizer)
    ids = tok.encode("<|marker_3|>x<|marker_4|>" + EOS_TOKEN, add_special_tokens=False)
    assert tok.decode(ids, skip_special_tokens=True) == "<|marker_3|>x<|marker_4|>"
    assert tok.eos_token == EOS_TOKEN and tok.pad_token == PAD_TOKEN
