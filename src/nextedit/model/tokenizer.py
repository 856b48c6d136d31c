"""Byte-level BPE tokenizer for code, with every prompt-format marker as one token.

Contract:
* ``train_tokenizer(texts, vocab_size)`` learns a byte-level BPE (HF ``tokenizers``) on code and
  returns a ``PreTrainedTokenizerFast``. Every string in :func:`format_special_tokens` (the markers
  of the ``zeta``, ``zeta2`` and ``zeta2_1`` prompt formats, ``<|marker_1|>`` … ``<|marker_64|>``)
  and the control tokens (``<|endoftext|>`` = pad / document separator, ``<[end▁of▁sentence]>`` =
  EOS = the zeta2_1 stop token) encodes to exactly one id.
* Byte level: ``decode(encode(x)) == x`` for any text (unicode included), provided the decoder is
  called with ``skip_special_tokens=False`` when ``x`` contains control tokens. Prompt-format
  markers are *added, non-special* tokens, so ``skip_special_tokens=True`` drops only EOS/pad.
* ``save_pretrained(dir)`` writes HF format (tokenizer.json, tokenizer_config.json, …);
  ``load_tokenizer(dir)`` reads it back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

EOS_TOKEN = "<[end▁of▁sentence]>"
PAD_TOKEN = "<|endoftext|>"
CONTROL_TOKENS = [PAD_TOKEN, EOS_TOKEN]
MAX_MARKERS = 64
FORMATS = ("zeta", "zeta2", "zeta2_1")

# Split code like Qwen2: letters runs, single digits, punctuation runs, newlines, indentation.
_PRETOKENIZE_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
    r"\s*[\r\n]+|\s+(?!\S)|\s+"
)

# Markers the spec (§2.3, §2.7) names for the three formats; used when the prompt registry is not
# importable and always unioned with it.
_SPEC_FORMAT_TOKENS = [
    # zeta2 / zeta2_1 (Seed-Coder SPM)
    "<[fim-suffix]>",
    "<[fim-prefix]>",
    "<[fim-middle]>",
    "<filename>",
    "<|user_cursor|>",
    "<<<<<<< CURRENT",
    "=======",
    ">>>>>>> UPDATED",
    "NO_EDITS",
    # zeta (v1)
    "<|user_cursor_is_here|>",
    "<|editable_region_start|>",
    "<|editable_region_end|>",
    "<|start_of_file|>",
]


def format_special_tokens() -> list[str]:
    """All marker strings of the supported prompt formats, without duplicates, in a stable order.

    Reads ``nextedit.prompts.get_format(name).special_tokens`` (and ``stop_tokens``) for
    ``zeta``, ``zeta2``, ``zeta2_1`` and adds the spec's list and ``<|marker_1..64|>``.
    """
    tokens: list[str] = []
    try:
        from nextedit.prompts import get_format

        for name in FORMATS:
            fmt = get_format(name)
            tokens += list(getattr(fmt, "special_tokens", []) or [])
            tokens += list(getattr(fmt, "stop_tokens", []) or [])
    except ImportError:  # prompts package not built yet: the spec list below covers it
        pass
    tokens += _SPEC_FORMAT_TOKENS
    tokens += [f"<|marker_{i}|>" for i in range(1, MAX_MARKERS + 1)]
    seen: set[str] = set()
    out: list[str] = []
    for tok in tokens:
        if tok and tok not in seen and tok not in CONTROL_TOKENS:
            seen.add(tok)
            out.append(tok)
    return out


def train_tokenizer(
    texts: Iterable[str], vocab_size: int = 6144, *, extra_tokens: list[str] | None = None
) -> PreTrainedTokenizerFast:
    """Learn a byte-level BPE of ``vocab_size`` entries (control + marker tokens included)."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    format_tokens = format_special_tokens() + list(extra_tokens or [])
    tok = Tokenizer(models.BPE(byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size - len(format_tokens),
        min_frequency=2,
        special_tokens=CONTROL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in format_tokens])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        bos_token=None,
        unk_token=None,
        clean_up_tokenization_spaces=False,
        model_max_length=1_000_000,  # positions are the model config's business
    )
    return fast


def load_tokenizer(path: str | Path) -> PreTrainedTokenizerFast:
    """Load a tokenizer saved with ``save_pretrained`` (ours or any HF checkpoint's)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(path))


def iter_corpus_texts(paths: Iterable[str | Path], *, max_bytes: int | None = None) -> Iterator[str]:
    """Texts for tokenizer/LM training: ``.jsonl`` lines with a ``text`` field, or source files.

    A directory is walked for ``*.py`` files (sorted, deterministic). Stops after ``max_bytes``
    UTF-8 bytes in total when given.
    """
    total = 0
    for text in _iter_texts(paths):
        yield text
        total += len(text.encode("utf-8", errors="replace"))
        if max_bytes is not None and total >= max_bytes:
            return


def _iter_texts(paths: Iterable[str | Path]) -> Iterator[str]:
    from nextedit.io.jsonl import iter_json_lines

    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*.py")):
                try:
                    yield f.read_text(encoding="utf-8")
                except (UnicodeDecodeError, OSError):
                    continue
        elif p.suffix in (".jsonl", ".gz", ".zst") or p.name.endswith((".jsonl.gz", ".jsonl.zst")):
            for line_no, rec in iter_json_lines(p):
                text = rec.get("text")
                if not isinstance(text, str):
                    raise ValueError(f"{p}:{line_no}: corpus line has no string field 'text'")
                yield text
        else:
            yield p.read_text(encoding="utf-8")


def describe(tokenizer: PreTrainedTokenizerFast) -> dict:
    """Small summary for logs and model cards."""
    return {
        "vocab_size": len(tokenizer),
        "eos": tokenizer.eos_token,
        "pad": tokenizer.pad_token,
        "format_tokens": len(format_special_tokens()),
    }


if __name__ == "__main__":  # pragma: no cover - debugging aid
    print(json.dumps(format_special_tokens(), ensure_ascii=False))
