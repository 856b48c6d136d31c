"""A lean forward pass for Llama/Qwen2-style checkpoints on the CPU prediction path.

The same weights as the transformers model, in a nanoGPT-sized file: fused q/k/v and gate/up
projections, rotary embeddings from a precomputed table, and a KV cache preallocated per request
(written in place, cropped by moving a length) instead of one that concatenates every step. On the
shipped 4-layer model a one-token step costs about half of the transformers module stack (whose
Python overhead, mask building and cache concatenation dominate a model this small); see
``nextedit bench latency``.

:func:`lean_model` converts a loaded transformers model when its architecture is covered (Llama or
Qwen2 attention, default rotary embeddings, no sliding window) and returns ``None`` otherwise, so
the engine keeps the transformers model for everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

SUPPORTED = ("llama", "qwen2")
FUSE_MAX_ROWS = 32  # fused gate/up projection up to this many positions per forward


@dataclass
class LeanOutput:
    logits: torch.Tensor  # (1, n_logits, vocab)


class LeanCache:
    """Keys and values of one sequence: ``(layers, kv_heads, capacity, head_dim)`` tensors filled up
    to ``length``; grows by doubling. Same interface as the engine uses on a ``DynamicCache``."""

    def __init__(
        self,
        layers: int,
        kv_heads: int,
        head_dim: int,
        capacity: int = 1024,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        self.k = torch.empty(layers, kv_heads, capacity, head_dim, dtype=dtype)
        self.v = torch.empty(layers, kv_heads, capacity, head_dim, dtype=dtype)
        self.length = 0

    def get_seq_length(self) -> int:
        return self.length

    def crop(self, n: int) -> None:
        """Drop the last ``-n`` positions (negative ``n``, as ``DynamicCache.crop``) or keep ``n``."""
        self.length = max(0, self.length + n) if n < 0 else min(self.length, n)

    def reserve(self, extra: int) -> None:
        need = self.length + extra
        cap = self.k.shape[2]
        if need <= cap:
            return
        while cap < need:
            cap *= 2
        for name in ("k", "v"):
            old = getattr(self, name)
            new = old.new_empty(old.shape[0], old.shape[1], cap, old.shape[3])
            new[:, :, : self.length] = old[:, :, : self.length]
            setattr(self, name, new)


class LeanCausalLM:
    """Forward pass of a decoder-only Llama/Qwen2 model; call like the transformers model
    (``model(input_ids=…, cache=…, logits_to_keep=…)``)."""

    def __init__(self, hf_model: Any, *, release: bool = False) -> None:
        """``release``: free the transformers model's separate q/k/v and gate/up weights as their
        fused copies are made (the model is unusable afterwards), so that loading a large
        checkpoint does not need memory for both layouts at once."""
        cfg = hf_model.config
        self.config = cfg
        self.generation_config = getattr(hf_model, "generation_config", None)
        self.n_heads = cfg.num_attention_heads
        self.n_kv = getattr(cfg, "num_key_value_heads", None) or self.n_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // self.n_heads
        self.eps = cfg.rms_norm_eps
        inner = hf_model.model
        self.embed = inner.embed_tokens.weight.detach()
        self.norm = inner.norm.weight.detach()
        self.lm_head = hf_model.lm_head.weight.detach()
        self.layers = []
        for layer in inner.layers:
            a, m = layer.self_attn, layer.mlp
            qkv_w = torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight]).detach()
            biases = [p.bias for p in (a.q_proj, a.k_proj, a.v_proj)]
            qkv_b = torch.cat([b.detach() for b in biases]) if all(b is not None for b in biases) else None
            self.layers.append(
                (
                    layer.input_layernorm.weight.detach(),
                    qkv_w.contiguous(),
                    qkv_b,
                    a.o_proj.weight.detach(),
                    layer.post_attention_layernorm.weight.detach(),
                    torch.cat([m.gate_proj.weight, m.up_proj.weight]).detach().contiguous(),
                    m.down_proj.weight.detach(),
                )
            )
            if release:
                for proj in (a.q_proj, a.k_proj, a.v_proj, m.gate_proj, m.up_proj):
                    proj.weight.data = proj.weight.data.new_empty(0)
        self.ffn = self.layers[0][5].shape[0] // 2
        theta = _rope_theta(cfg)
        inv = 1.0 / (theta ** (torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim))
        pos = torch.arange(int(cfg.max_position_embeddings), dtype=torch.float32)
        freqs = torch.outer(pos, inv)
        self.cos = torch.cat([freqs, freqs], -1).cos().to(self.embed.dtype)
        self.sin = torch.cat([freqs, freqs], -1).sin().to(self.embed.dtype)

    # the engine asks the model for these
    def eval(self) -> LeanCausalLM:
        return self

    def parameters(self):  # noqa: ANN201 - mirrors nn.Module for the device lookup
        yield self.embed

    def new_cache(self) -> LeanCache:
        return LeanCache(len(self.layers), self.n_kv, self.head_dim, dtype=self.embed.dtype)

    def _rms(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def __call__(
        self, input_ids: torch.Tensor, cache: LeanCache, logits_to_keep: int = 1, **_: Any
    ) -> LeanOutput:
        ids = input_ids[0]
        n = ids.shape[0]
        start = cache.length
        cache.reserve(n)
        end = start + n
        H, KV, D = self.n_heads, self.n_kv, self.head_dim
        cos = self.cos[start:end]
        sin = self.sin[start:end]
        half = D // 2
        # queries see every cached position and the new ones up to their own
        mask = None
        if n > 1 and start > 0:  # additive: the CPU kernel is faster with it than with a bool mask
            mask = torch.full((n, end), float("-inf")).triu(start + 1)
        x = self.embed[ids]
        for i, (ln1, qkv_w, qkv_b, o_w, ln2, gu_w, down_w) in enumerate(self.layers):
            h = self._rms(x, ln1)
            qkv = F.linear(h, qkv_w, qkv_b)
            q = qkv[:, : H * D].view(n, H, D).transpose(0, 1)
            k = qkv[:, H * D : (H + KV) * D].view(n, KV, D).transpose(0, 1)
            v = qkv[:, (H + KV) * D :].view(n, KV, D).transpose(0, 1)
            q = q * cos + torch.cat([-q[..., half:], q[..., :half]], -1) * sin
            k = k * cos + torch.cat([-k[..., half:], k[..., :half]], -1) * sin
            cache.k[i, :, start:end] = k
            cache.v[i, :, start:end] = v
            keys = cache.k[i, :, :end]
            values = cache.v[i, :, :end]
            att = F.scaled_dot_product_attention(
                q[None],
                keys[None],
                values[None],
                attn_mask=mask,
                is_causal=mask is None and n > 1,
                enable_gqa=KV != H,
            )[0]
            x = x + F.linear(att.transpose(0, 1).reshape(n, H * D), o_w)
            h = self._rms(x, ln2)
            if n <= FUSE_MAX_ROWS:  # one matmul instead of two: fewer calls on short steps
                gu = F.linear(h, gu_w)
                gate, up = gu[:, : self.ffn], gu[:, self.ffn :]
            else:  # two are faster on long prefills (measured on AVX2)
                gate, up = F.linear(h, gu_w[: self.ffn]), F.linear(h, gu_w[self.ffn :])
            x = x + F.linear(F.silu(gate) * up, down_w)
        cache.length = end
        last = self._rms(x[n - logits_to_keep :], self.norm)
        return LeanOutput(logits=F.linear(last, self.lm_head)[None])


def _rope_params(cfg: Any) -> dict:
    """The config's rotary settings (``rope_parameters`` in transformers 5, ``rope_scaling`` before)."""
    return getattr(cfg, "rope_parameters", None) or getattr(cfg, "rope_scaling", None) or {}


def _rope_theta(cfg: Any) -> float:
    params = _rope_params(cfg)
    return float(params.get("rope_theta") or getattr(cfg, "rope_theta", None) or 10000.0)


def lean_model(hf_model: Any, *, release: bool = False) -> LeanCausalLM | None:
    """The lean twin of ``hf_model``, or ``None`` when its architecture is not covered.
    ``release=True`` frees weights of ``hf_model`` that the twin holds in fused copies."""
    cfg = hf_model.config
    if getattr(cfg, "model_type", None) not in SUPPORTED:
        return None
    params = _rope_params(cfg)
    if params.get("rope_type", params.get("type", "default")) != "default":
        return None
    if getattr(cfg, "use_sliding_window", False) or getattr(cfg, "hidden_act", "silu") != "silu":
        return None
    if next(hf_model.parameters()).device.type != "cpu":
        return None
    if getattr(hf_model, "peft_config", None) or not _plain_layers(hf_model):
        return None  # adapters (LoRA) or extra biases would be silently dropped
    return LeanCausalLM(hf_model, release=release)


def _plain_layers(hf_model: Any) -> bool:
    """Every projection a plain ``nn.Linear``; biases only on q/k/v (Qwen2), none elsewhere."""
    for layer in hf_model.model.layers:
        a, m = layer.self_attn, layer.mlp
        projections = (a.q_proj, a.k_proj, a.v_proj, a.o_proj, m.gate_proj, m.up_proj, m.down_proj)
        if any(type(p) is not torch.nn.Linear for p in projections):
            return False
        if any(p.bias is not None for p in (a.o_proj, m.gate_proj, m.up_proj, m.down_proj)):
            return False
    return True
