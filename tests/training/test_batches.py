from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from nextedit.model.tokenizer import load_tokenizer  # noqa: E402
from nextedit.training.batches import (  # noqa: E402
    IGNORE,
    SftStats,
    collate_sft,
    curriculum_batches,
    encode_sft,
    sft_batch_stream,
)


def test_labels_masked_exactly_on_prompt(small_tokenizer):
    tok = load_tokenizer(small_tokenizer)
    prompt = "<filename>a.py\nx = 1\n<|marker_1|>y = 2<|marker_2|>\n<[fim-middle]>"
    response = "<|marker_1|>y = 3<|marker_2|>"
    rec = encode_sft(tok, prompt, response, max_len=512)
    p_ids = tok.encode(prompt, add_special_tokens=False)
    assert rec.prompt_len == len(p_ids)
    assert rec.ids[-1] == tok.eos_token_id  # EOS appended
    assert tok.decode(rec.ids, skip_special_tokens=False) == prompt + response + tok.eos_token
    short = encode_sft(tok, "<filename>b\nq<[fim-middle]>", "q", max_len=512)
    batch = collate_sft([rec, short], tok.pad_token_id)
    labels, ids, mask = batch["labels"], batch["input_ids"], batch["attention_mask"]
    for row, r in enumerate([rec, short]):
        assert (labels[row, : r.prompt_len] == IGNORE).all()
        assert labels[row, r.prompt_len : len(r)].tolist() == r.ids[r.prompt_len :]
        assert (labels[row, len(r) :] == IGNORE).all()
        assert mask[row].sum() == len(r)
        assert (ids[row, len(r) :] == tok.pad_token_id).all()


def test_overlong_truncates_left_keeps_region_or_skips(small_tokenizer):
    tok = load_tokenizer(small_tokenizer)
    far = "far context line\n" * 40
    prompt = f"<[fim-suffix]>\n{far}<[fim-prefix]><filename>a.py\n<|marker_1|>abc<|marker_2|>\n<[fim-middle]>"
    response = "<|marker_1|>abd<|marker_2|>"
    full = encode_sft(tok, prompt, response, max_len=10_000)
    stats = SftStats()
    rec = encode_sft(tok, prompt, response, max_len=len(full) - 20, stats=stats)
    assert rec is not None and len(rec) == len(full) - 20 and stats.truncated == 1
    assert rec.ids[-(len(full) - full.prompt_len) :] == full.ids[full.prompt_len :]
    text = tok.decode(rec.ids[: rec.prompt_len], skip_special_tokens=False)
    assert text.endswith("<filename>a.py\n<|marker_1|>abc<|marker_2|>\n<[fim-middle]>")
    # cutting into the editable region → skipped
    region_len = len(tok.encode("<|marker_1|>abc<|marker_2|>\n<[fim-middle]>", add_special_tokens=False))
    assert encode_sft(tok, prompt, response, max_len=region_len, stats=stats) is None
    assert stats.skipped_overlong == 1
    assert encode_sft(tok, prompt, response, max_len=len(full) - 1, overlong="skip") is None


def test_curriculum_short_to_long_and_budget():
    lengths = [50, 10, 400, 30, 200, 20, 300, 100, 60, 500, 40, 250]
    batches = curriculum_batches(lengths, batch_tokens=600, max_batch_size=3, buckets=3, seed=1)
    seen = sorted(i for b in batches for i in b)
    assert seen == list(range(len(lengths)))
    for b in batches:
        assert len(b) <= 3 and (len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 600)
    # bucket order: every example of an earlier batch group is no longer than the next group's
    maxima = [max(lengths[i] for i in b) for b in batches]
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    bucket_of = {i: k * 3 // len(lengths) for k, i in enumerate(order)}
    buckets_in_order = [max(bucket_of[i] for i in b) for b in batches]
    assert buckets_in_order == sorted(buckets_in_order)
    assert maxima[0] <= 50 and maxima[-1] >= 250


def test_curriculum_deterministic_and_seeded():
    lengths = list(range(1, 100))
    a = curriculum_batches(lengths, batch_tokens=300, max_batch_size=8, buckets=4, seed=3)
    b = curriculum_batches(lengths, batch_tokens=300, max_batch_size=8, buckets=4, seed=3)
    c = curriculum_batches(lengths, batch_tokens=300, max_batch_size=8, buckets=4, seed=4)
    assert a == b and a != c


def test_sft_stream_is_infinite_and_deterministic(small_tokenizer):
    tok = load_tokenizer(small_tokenizer)
    recs = [encode_sft(tok, f"p{i}<[fim-middle]>", "r" * i, max_len=512) for i in range(1, 9)]
    s1 = sft_batch_stream(
        recs, pad_id=0, batch_tokens=64, max_batch_size=4, buckets=2, curriculum=True, seed=0
    )
    s2 = sft_batch_stream(
        recs, pad_id=0, batch_tokens=64, max_batch_size=4, buckets=2, curriculum=True, seed=0
    )
    for _ in range(20):  # several epochs
        a, b = next(s1), next(s2)
        assert torch.equal(a["input_ids"], b["input_ids"])
