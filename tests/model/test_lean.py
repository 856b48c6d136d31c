"""The lean forward pass must compute what the transformers model computes, cache included."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from transformers import (  # noqa: E402
    DynamicCache,
    LlamaConfig,
    LlamaForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)

from nextedit.model.engine import Engine  # noqa: E402
from nextedit.model.lean import LeanCache, lean_model  # noqa: E402
from tests.model.test_engine import PROMPT  # noqa: E402
from tests.model.test_engine import engine as hf_engine  # noqa: E402, F401 - fixture

SIZES = dict(
    vocab_size=300,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    intermediate_size=64,
    max_position_embeddings=512,
)


def _model(kind: str):
    torch.manual_seed(1)
    if kind == "qwen2":
        return Qwen2ForCausalLM(Qwen2Config(**SIZES)).eval()
    return LlamaForCausalLM(LlamaConfig(**SIZES, rope_theta=5000.0)).eval()


@pytest.mark.parametrize("kind", ["qwen2", "llama"])
def test_logits_match_transformers_through_prefill_verify_and_crop(kind: str) -> None:
    hf = _model(kind)
    lean = lean_model(hf)
    assert lean is not None
    x = torch.randint(3, 300, (1, 60))
    ref, mine = DynamicCache(config=hf.config), lean.new_cache()
    with torch.inference_mode():
        steps = [(0, 40, 3), (40, 49, 9), (49, 50, 1)]  # prefill, a 9-token verify, one step
        for a, b, keep in steps:
            want = hf(input_ids=x[:, a:b], cache=ref, use_cache=True, logits_to_keep=keep).logits
            got = lean(input_ids=x[:, a:b], cache=mine, logits_to_keep=keep).logits
            assert got.shape == want.shape
            torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)
        ref.crop(-6)  # drop rejected draft tokens, then continue from the shorter prefix
        mine.crop(-6)
        assert mine.get_seq_length() == ref.get_seq_length() == 44
        want = hf(input_ids=x[:, 44:47], cache=ref, use_cache=True, logits_to_keep=3).logits
        got = lean(input_ids=x[:, 44:47], cache=mine, logits_to_keep=3).logits
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)


def test_cache_grows_past_its_capacity_and_keeps_contents() -> None:
    cache = LeanCache(layers=1, kv_heads=1, head_dim=2, capacity=4)
    cache.reserve(3)
    cache.k[0, 0, :3] = torch.arange(6.0).view(3, 2)
    cache.length = 3
    cache.reserve(6)
    assert cache.k.shape[2] >= 9
    assert torch.equal(cache.k[0, 0, :3], torch.arange(6.0).view(3, 2))
    cache.crop(-2)
    assert cache.get_seq_length() == 1


def test_uncovered_architectures_keep_the_transformers_model() -> None:
    cfg = Qwen2Config(**SIZES, rope_scaling={"rope_type": "linear", "factor": 2.0})
    assert lean_model(Qwen2ForCausalLM(cfg)) is None
    assert lean_model(Qwen2ForCausalLM(Qwen2Config(**SIZES, hidden_act="gelu"))) is None
    assert lean_model(LlamaForCausalLM(LlamaConfig(**SIZES, attention_bias=True))) is None  # o_proj bias
    assert lean_model(LlamaForCausalLM(LlamaConfig(**SIZES, mlp_bias=True))) is None
    peft = pytest.importorskip("peft")
    lora = peft.get_peft_model(_model("qwen2"), peft.LoraConfig(r=2, target_modules=["q_proj", "v_proj"]))
    assert lean_model(lora.base_model.model) is None  # the adapters would be dropped


def test_engine_outputs_are_unchanged_by_the_lean_model(hf_engine: Engine) -> None:  # noqa: F811
    lean = Engine(lean_model(hf_engine.model), hf_engine.tokenizer, max_draft=6)
    for spec in (False, True):
        want = hf_engine.generate(PROMPT, max_tokens=24, speculative=spec)
        got = lean.generate(PROMPT, max_tokens=24, speculative=spec)
        assert got.token_ids == want.token_ids
        assert got.stats["forward_passes"] == want.stats["forward_passes"]
    # prefix reuse across two calls of one client, as on a keystroke
    lean.generate(PROMPT, max_tokens=8, cache_key="c")
    again = lean.generate(PROMPT + "        self.y", max_tokens=8, cache_key="c")
    assert again.stats["reused_prefix_tokens"] > 0
    assert again.token_ids == hf_engine.generate(PROMPT + "        self.y", max_tokens=8).token_ids


def test_engine_load_runs_covered_checkpoints_lean(tiny_model_dir) -> None:  # noqa: ANN001
    from nextedit.model.lean import LeanCausalLM

    lean = Engine.load(tiny_model_dir, threads=1)
    plain = Engine.load(tiny_model_dir, threads=1, lean=False)
    assert isinstance(lean.model, LeanCausalLM) and not isinstance(plain.model, LeanCausalLM)
    prompt = "def parse(text):\n    return text.split("
    for spec in (False, True):
        want = plain.generate(prompt, max_tokens=12, speculative=spec, cache_key="k")
        got = lean.generate(prompt, max_tokens=12, speculative=spec, cache_key="k")
        assert got.token_ids == want.token_ids and got.text == want.text


def test_release_frees_the_weights_the_twin_copied() -> None:
    import copy

    hf = _model("qwen2")
    reference = copy.deepcopy(hf)
    lean = lean_model(hf, release=True)
    layer = hf.model.layers[0]
    assert layer.self_attn.q_proj.weight.numel() == 0 and layer.mlp.up_proj.weight.numel() == 0
    x = torch.randint(3, 300, (1, 20))
    with torch.inference_mode():
        want = reference(input_ids=x, logits_to_keep=4).logits
        got = lean(input_ids=x, cache=lean.new_cache(), logits_to_keep=4).logits
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)
