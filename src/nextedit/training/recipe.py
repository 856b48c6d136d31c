"""Recipes (TOML) and the HF model-config factory.

A recipe is one TOML file (see ``recipes/tiny.toml``) with the sections ``[model]``,
``[tokenizer]``, ``[train]``, ``[eval]``, ``[lora]`` (optional) and a list of ``[[phases]]``.
:func:`load_recipe` parses it into plain dataclasses (unknown keys are an error, naming the key)
and :func:`build_model_config` turns ``[model]`` into a ``Qwen2Config``/``LlamaConfig`` for a
from-scratch model. ``model.init`` may instead name any local HF checkpoint directory.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass
class ModelArchitecture:
    """Architecture of a from-scratch model, or ``init`` = path of a HF checkpoint to fine-tune."""

    init: str = "scratch"  # "scratch" or a local HF checkpoint directory
    arch: str = "qwen2"  # qwen2 | llama
    hidden_size: int = 256
    num_layers: int = 6
    num_heads: int = 4
    num_kv_heads: int = 2
    intermediate_size: int = 768
    max_position_embeddings: int = 2048
    rope_theta: float = 10000.0
    tie_word_embeddings: bool = True
    initializer_range: float = 0.02


@dataclass
class TokenizerSpec:
    """Where the tokenizer comes from: ``path`` (existing, HF format) or trained on ``corpus``."""

    path: str = ""  # existing tokenizer dir; empty → train one on `corpus` into <out>/tokenizer
    corpus: list[str] = field(default_factory=list)
    vocab_size: int = 6144
    max_bytes: int = 50_000_000


@dataclass
class LoraSpec:
    """Optional LoRA adapters (peft) on a pretrained checkpoint."""

    enabled: bool = False
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    )


@dataclass
class TrainSpec:
    """Optimisation. ``batch_tokens`` = tokens per micro-batch (padding included);
    ``grad_accum`` micro-batches make one optimizer step. ``precision``: auto = fp32 on CPU, bf16 on GPU."""

    seed: int = 0
    lr: float = 1e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 50
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.95)
    grad_clip: float = 1.0
    batch_tokens: int = 4096
    max_batch_size: int = 64
    grad_accum: int = 1
    precision: str = "auto"  # auto | fp32 | bf16
    threads: int = 0  # torch CPU threads; 0 = leave torch's default
    log_every: int = 10
    checkpoint_every: int = 200
    keep_checkpoints: int = 2


@dataclass
class EvalSpec:
    """Validation at each checkpoint: loss over ``loss_examples`` examples and greedy decoding of
    ``generate_examples`` examples (exact match of the completion vs ``prompt.expected_output``)."""

    valid: list[str] = field(default_factory=list)  # JSONL with prompt.input / prompt.expected_output
    loss_examples: int = 64
    generate_examples: int = 20
    max_new_tokens: int = 256
    synthetic_valid: int = 0  # if >0 and `valid` missing/empty: this many held-out synthetic examples
    # >0: also run the real predictor (engine + local provider + metrics) on this many valid Examples
    # that carry prompt_inputs/cursor_position and expected_patches; logs delta chrF, kept rate, F1
    predict_examples: int = 0
    predict_format: str = "zeta2_1"


@dataclass
class PhaseSpec:
    """One training phase. ``kind`` = ``lm`` (packed raw code, loss everywhere), ``sft`` (prompt +
    response, loss on the response only) or ``dpo`` (preference training on ``prompt.expected_output``
    = chosen vs ``prompt.rejected_output`` = rejected of the ``train`` examples, against the model as
    it was at the phase's start: :mod:`nextedit.training.preference`).

    Sources: ``lm`` reads ``corpus`` (JSONL with ``text``, or directories of .py files); ``sft``
    reads ``train`` JSONL files and/or generates ``synthetic`` examples (see ``model/synthetic.py``;
    ``synthetic_kinds`` chooses the tasks, ``synthetic_max_lines`` the excerpt size). ``lm_mix``
    (0..1) interleaves that fraction of LM batches into an SFT phase. ``dpo`` reads ``train`` only:
    ``batch_pairs`` pairs per micro-batch, ``beta`` the DPO β, ``seq_len`` the longest prompt +
    response (prompts are cut from the left).
    """

    name: str
    kind: str  # lm | sft
    steps: int
    seq_len: int = 512  # lm: packed sequence length; sft: maximum example length (tokens)
    corpus: list[str] = field(default_factory=list)
    train: list[str] = field(default_factory=list)
    synthetic: int = 0
    synthetic_kinds: list[str] = field(default_factory=list)
    synthetic_max_lines: int = 40
    synthetic_source: list[str] = field(default_factory=list)
    curriculum: bool = True  # sort short→long in buckets
    buckets: int = 4
    overlong: str = "truncate"  # truncate (left of the prompt) | skip
    lm_mix: float = 0.0
    lr_scale: float = 1.0
    beta: float = 0.1  # dpo
    batch_pairs: int = 4  # dpo


@dataclass
class Recipe:
    name: str
    out: str
    model: ModelArchitecture
    tokenizer: TokenizerSpec
    train: TrainSpec
    eval: EvalSpec
    lora: LoraSpec
    phases: list[PhaseSpec]
    path: str = ""

    @property
    def total_steps(self) -> int:
        return sum(p.steps for p in self.phases)

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def _build(cls, data: dict[str, Any], where: str):
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    kwargs = dict(data)
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    return cls(**kwargs)


def recipe_from_dict(data: dict[str, Any], *, where: str = "recipe") -> Recipe:
    """Build a :class:`Recipe`; ``where`` names the file in error messages."""
    data = dict(data)
    phases = data.pop("phases", [])
    if not phases:
        raise ValueError(f"{where}: at least one [[phases]] entry is required")
    recipe = Recipe(
        name=data.pop("name", "model"),
        out=data.pop("out", "checkpoints/model"),
        model=_build(ModelArchitecture, data.pop("model", {}), f"{where} [model]"),
        tokenizer=_build(TokenizerSpec, data.pop("tokenizer", {}), f"{where} [tokenizer]"),
        train=_build(TrainSpec, data.pop("train", {}), f"{where} [train]"),
        eval=_build(EvalSpec, data.pop("eval", {}), f"{where} [eval]"),
        lora=_build(LoraSpec, data.pop("lora", {}), f"{where} [lora]"),
        phases=[_build(PhaseSpec, p, f"{where} [[phases]] #{i + 1}") for i, p in enumerate(phases)],
    )
    if data:
        raise ValueError(f"{where}: unknown top-level key(s) {', '.join(sorted(data))}")
    for p in recipe.phases:
        if p.kind not in ("lm", "sft", "dpo"):
            raise ValueError(f"{where}: phase {p.name!r}: kind must be 'lm', 'sft' or 'dpo', got {p.kind!r}")
        if p.kind == "dpo" and (not p.train or p.synthetic or p.corpus or p.lm_mix):
            raise ValueError(
                f"{where}: phase {p.name!r}: a dpo phase reads `train` files only (and needs them)"
            )
        if p.kind == "dpo" and (p.beta <= 0 or p.batch_pairs < 1):
            raise ValueError(f"{where}: phase {p.name!r}: beta must be > 0 and batch_pairs >= 1")
        if p.overlong not in ("truncate", "skip"):
            raise ValueError(f"{where}: phase {p.name!r}: overlong must be 'truncate' or 'skip'")
    return recipe


def load_recipe(path: str | Path) -> Recipe:
    """Parse a TOML recipe file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: invalid TOML: {e}") from e
    recipe = recipe_from_dict(data, where=str(path))
    recipe.path = str(path)
    return recipe


def build_model_config(spec: ModelArchitecture, tokenizer) -> Any:
    """A ``Qwen2Config``/``LlamaConfig`` for a from-scratch model with the tokenizer's vocabulary."""
    from transformers import LlamaConfig, Qwen2Config

    common = dict(
        vocab_size=len(tokenizer),
        hidden_size=spec.hidden_size,
        num_hidden_layers=spec.num_layers,
        num_attention_heads=spec.num_heads,
        num_key_value_heads=spec.num_kv_heads,
        intermediate_size=spec.intermediate_size,
        max_position_embeddings=spec.max_position_embeddings,
        tie_word_embeddings=spec.tie_word_embeddings,
        initializer_range=spec.initializer_range,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        use_cache=True,
    )
    if spec.arch == "qwen2":
        cfg = Qwen2Config(**common)
    elif spec.arch == "llama":
        cfg = LlamaConfig(**common)
    else:
        raise ValueError(f"[model] arch must be 'qwen2' or 'llama', got {spec.arch!r}")
    cfg.rope_parameters = {"rope_type": "default", "rope_theta": spec.rope_theta}
    return cfg


def count_parameters(model) -> int:
    """Unique parameters (tied embeddings counted once)."""
    seen = set()
    n = 0
    for p in model.parameters():
        if id(p) not in seen:
            seen.add(id(p))
            n += p.numel()
    return n
