"""The inference engine: speculative decoding and prefix reuse must not change greedy outputs."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM  # noqa: E402

from nextedit.model.engine import Engine  # noqa: E402
from nextedit.model.speculative import PromptLookupDrafter, copied_tokens  # noqa: E402
from nextedit.schema.cancel import Canceled, CancelToken  # noqa: E402

CORPUS = [
    "def add(a, b):\n    return a + b\n",
    "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n",
    "for i in range(10):\n    print(i)\n",
] * 20


@pytest.fixture(scope="module")
def engine() -> Engine:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<|endoftext|>", "<|marker_1|>", "<[end▁of▁sentence]>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(CORPUS, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>")
    torch.manual_seed(0)
    cfg = Qwen2Config(
        vocab_size=len(fast),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        eos_token_id=fast.eos_token_id,
    )
    model = Qwen2ForCausalLM(cfg)
    return Engine(model, fast, max_draft=6)


PROMPT = "class Point:\n    def __init__(self, x, y):\n        self.x = x\n"


def test_speculative_equals_greedy(engine: Engine) -> None:
    plain = engine.generate(PROMPT, max_tokens=24, speculative=False)
    spec = engine.generate(PROMPT, max_tokens=24, speculative=True)
    assert spec.text == plain.text
    assert plain.stats["forward_passes"] == plain.completion_tokens
    assert spec.stats["forward_passes"] <= plain.stats["forward_passes"]


def test_prefix_cache_reuse_keeps_outputs(engine: Engine) -> None:
    first = engine.generate(PROMPT, max_tokens=12, cache_key="c1", speculative=False)
    again = engine.generate(PROMPT + "        self.y", max_tokens=12, cache_key="c1", speculative=False)
    fresh = engine.generate(PROMPT + "        self.y", max_tokens=12, speculative=False)
    assert first.stats["reused_prefix_tokens"] == 0
    assert again.stats["reused_prefix_tokens"] > 0
    assert again.stats["prefilled_tokens"] < fresh.stats["prefilled_tokens"]
    assert again.text == fresh.text


def test_max_tokens_and_stop(engine: Engine) -> None:
    out = engine.generate(PROMPT, max_tokens=5, speculative=False)
    assert out.completion_tokens <= 5
    assert out.finish_reason in ("length", "stop")
    full = engine.generate(PROMPT, max_tokens=20, speculative=False)
    if len(full.text) > 3:
        stop = full.text[2:4]
        cut = engine.generate(PROMPT, max_tokens=20, stop=[stop], speculative=False)
        assert cut.finish_reason == "stop"
        assert stop not in cut.text
        assert full.text.startswith(cut.text)


def test_cancel_between_forward_passes(engine: Engine) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Canceled):
        engine.generate(PROMPT, max_tokens=10, cancel=token)


def test_drafter_copies_after_match() -> None:
    ids = [1, 2, 3, 4, 5, 6, 7, 1, 2, 3]
    d = PromptLookupDrafter(max_draft=3, ngram_max=3, ngram_min=1)
    assert d.draft(ids, budget=10) == [4, 5, 6]
    ids += [4, 5, 6]
    d.advance(ids, 3)
    assert d.pointer == 6
    assert d.draft(ids, budget=10) == [7, 1, 2]
    ids += [9]
    d.advance(ids, 1)
    assert d.pointer is None


def test_copied_tokens_counts_output_in_prompt_ngrams() -> None:
    prompt = [1, 2, 3, 4, 5, 6, 7, 8]
    assert copied_tokens(prompt, [5, 6, 7, 8]) == 4  # a copy
    assert copied_tokens(prompt, [9, 9, 9, 9]) == 0  # new text
    # the first 4-gram may start in the prompt's tail: [7, 8] + [1, 2] does not occur, [1, 2, 3, 4] does
    assert copied_tokens(prompt, [1, 2, 3, 4, 9, 6, 7, 8]) == 4
    assert copied_tokens(prompt[:6], [5, 6, 1]) == 0
    assert copied_tokens([1, 2, 3, 4, 9, 1, 2], [3, 4]) == 2  # continues a copy begun in the prompt


def test_marker_constraint_makes_zeta2_1_output_parseable(engine: Engine) -> None:
    from nextedit.model.constraints import MarkerSpanConstraint

    tok = engine.tokenizer
    tok.add_tokens(["<|marker_2|>", "<|marker_3|>", "<|marker_4|>"])
    engine.model.resize_token_embeddings(len(tok))
    prompt = "<|marker_1|>def add(a, b):\n<|marker_2|>    return a + b\n<|marker_3|>"
    constraint = MarkerSpanConstraint.for_prompt(prompt, tok, engine.eos_ids)
    assert constraint is not None and sorted(constraint.marker_ids.values()) == [1, 2, 3]
    marker_4 = tok.convert_tokens_to_ids("<|marker_4|>")
    assert constraint.foreign_ids == {marker_4}  # in the vocabulary, not in this prompt
    assert marker_4 in constraint([*constraint.marker_ids][:1])[1]  # banned after the first tag
    for spec in (False, True):
        out = engine.generate(prompt, max_tokens=40, constraint=constraint, speculative=spec)
        ids = tok.encode(out.text, add_special_tokens=False)
        tags = [constraint.marker_ids[t] for t in ids if t in constraint.marker_ids]
        assert marker_4 not in ids
        assert ids and ids[0] in constraint.marker_ids  # starts with a tag
        assert tags == sorted(tags)  # never goes backwards
        if out.finish_reason == "stop":
            assert len(tags) >= 2  # cannot end before the span is closed
    plain = engine.generate(prompt, max_tokens=20, constraint=constraint, speculative=False)
    fast = engine.generate(prompt, max_tokens=20, constraint=constraint, speculative=True)
    assert plain.text == fast.text


def test_prompt_longer_than_window_keeps_its_end(engine: Engine) -> None:
    long_prompt = PROMPT * 60  # far more tokens than max_position_embeddings (512)
    out = engine.generate(long_prompt, max_tokens=8, speculative=False)
    assert out.completion_tokens > 0
    assert out.stats["truncated_prompt_tokens"] > 0
    assert out.prompt_tokens + 8 <= engine.max_positions


def test_loop_detection() -> None:
    from nextedit.model.engine import is_looping

    assert is_looping([5, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2], repeats=6)
    assert is_looping([9] * 6, repeats=6)
    assert not is_looping([9] * 5, repeats=6)
    assert not is_looping(list(range(40)), repeats=6)
    assert not is_looping([1, 2, 3, 1, 2, 3, 1, 2, 4], repeats=3)


def test_token_logprobs_match_a_full_forward(engine: Engine) -> None:
    """Each generated token's log-prob (speculative or not) equals the model's log-softmax at that
    position when the whole sequence is run at once."""
    for spec in (False, True):
        out = engine.generate(PROMPT, max_tokens=12, speculative=spec)
        assert len(out.token_logprobs) == out.completion_tokens
        assert len(out.token_ids) == out.completion_tokens
        ids = engine.encode(PROMPT) + out.token_ids
        with torch.inference_mode():
            logits = engine.model(input_ids=torch.tensor([ids])).logits[0].float()
        n_prompt = out.prompt_tokens
        gen = ids[n_prompt:]
        ref = logits[n_prompt - 1 : n_prompt - 1 + len(gen)].log_softmax(-1).gather(-1, torch.tensor(gen)[:, None])[:, 0]
        assert torch.allclose(torch.tensor(out.token_logprobs), ref, atol=1e-4)
        assert out.stats["min_logprob"] == pytest.approx(min(out.token_logprobs))
        assert all(lp <= 0 for lp in out.token_logprobs)


def test_truncation_is_stable_across_keystrokes(engine: Engine) -> None:
    """Two over-long prompts that differ by a few typed characters at the end are cut at the same
    token, so the second reuses the first one's prefix cache."""
    from nextedit.model.engine import TRUNCATE_STEP

    base = PROMPT * 40
    first = engine.generate(base, max_tokens=4, speculative=False, cache_key="typist")
    second = engine.generate(base + "se", max_tokens=4, speculative=False, cache_key="typist")
    assert first.stats["truncated_prompt_tokens"] % TRUNCATE_STEP == 0
    assert second.stats["truncated_prompt_tokens"] == first.stats["truncated_prompt_tokens"]
    assert second.stats["reused_prefix_tokens"] > 0.8 * first.prompt_tokens


def test_low_confidence_early_exit(engine: Engine) -> None:
    full = engine.generate(PROMPT, max_tokens=16, speculative=True)
    worst = min(full.token_logprobs)
    k = full.token_logprobs.index(worst)
    cut = engine.generate(PROMPT, max_tokens=16, speculative=True, min_logprob=worst + 1e-6)
    assert cut.finish_reason == "low_confidence"
    assert cut.token_ids[: k + 1] == full.token_ids[: k + 1]  # stops at (or just after) the unsure token
    assert cut.stats["forward_passes"] <= full.stats["forward_passes"]
    same = engine.generate(PROMPT, max_tokens=16, speculative=True, min_logprob=worst - 1.0)
    assert same.token_ids == full.token_ids and same.finish_reason == full.finish_reason


def test_concurrent_generation_matches_sequential(engine: Engine) -> None:
    """Two threads generating at once (the server's two workers) get the sequential answers."""
    from concurrent.futures import ThreadPoolExecutor

    prompts = [PROMPT, "def add(a, b):\n    return", "for i in range(10):\n", PROMPT + "        self.y"] * 3
    expected = [engine.generate(p, max_tokens=12).token_ids for p in prompts]
    with ThreadPoolExecutor(2) as pool:
        got = list(pool.map(lambda ip: engine.generate(ip[1], max_tokens=12, cache_key=f"c{ip[0] % 2}").token_ids,
                            enumerate(prompts)))
    assert got == expected


def test_copy_margin_prefers_drafted_copies(engine: Engine) -> None:
    """margin 0 = plain greedy; a huge margin accepts every drafted copy token; outputs with a bias
    are the same with or without a constraint that allows everything."""
    prompt = PROMPT * 3
    plain = engine.generate(prompt, max_tokens=16, speculative=True)
    zero = engine.generate(prompt, max_tokens=16, speculative=True, copy_margin=0.0)
    assert zero.token_ids == plain.token_ids
    copy = engine.generate(prompt, max_tokens=16, speculative=True, copy_margin=1e9)
    assert copy.stats["accepted_tokens"] == copy.stats["drafted_tokens"]  # no draft token rejected
    assert copy.stats["forward_passes"] <= plain.stats["forward_passes"]
    free = engine.generate(prompt, max_tokens=16, speculative=True, copy_margin=1e9,
                           constraint=lambda generated: (None, set()))  # fmt: skip
    assert free.token_ids == copy.token_ids


def test_drafts_grow_while_fully_accepted_and_reset_on_rejection() -> None:
    ids = list(range(100)) + [0, 1]  # the tail "0 1" occurred at the start: copy from there
    d = PromptLookupDrafter(max_draft=4, grow_to=16)
    first = d.draft(ids, budget=100)
    assert first == [2, 3, 4, 5]
    ids += first + [6]  # all accepted + the model's own next token
    d.advance(ids, len(first) + 1)
    second = d.draft(ids, budget=100)
    assert second == list(range(7, 15))  # twice as long
    ids += second[:3] + [999]  # rejected after 3
    d.advance(ids, 4)
    assert d.length == 4
